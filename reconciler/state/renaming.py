"""Renaming a run's record: the one rule behind ``state mv`` and a manifest's ``movedFrom``.

A record moves to a name no other record has, keeping its place among the runs; nothing else of the
state changes (its executions, key, inputs and outputs stay as they are).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.state.models import RunRecord


def rename_problem(runs: Mapping[str, RunRecord], old: str, new: str) -> str | None:
    """Why the record ``old`` cannot take the name ``new`` in ``runs``; None when it can."""
    if old not in runs:
        return f"no run named {old!r} in the state"
    if new in runs:
        return f"the state already has a run named {new!r}"
    return None


def renamed(runs: Mapping[str, RunRecord], old: str, new: str) -> dict[str, RunRecord]:
    """``runs`` with ``old``'s record named ``new`` (check `rename_problem` first)."""
    return renamed_all(runs, {old: new})


def renamed_all(runs: Mapping[str, RunRecord], names: Mapping[str, str]) -> dict[str, RunRecord]:
    """``runs`` with each record of ``names`` (old -> new) renamed, in one pass (check each with
    `rename_problem` first)."""
    return {names.get(name, name): record for name, record in runs.items()}
