"""What a plan is made of: actions, per-parameter changes, one change per run, the plan itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    START = "start"
    RERUN = "rerun"
    RETRY = "retry"
    AWAIT = "await"
    DELETE = "delete"
    NOOP = "noop"
    FAILED = "failed"
    MOVED = "moved"  # a record renamed (spec.movedFrom): a `Move` of the plan, never a `Change`

    @property
    def is_change(self) -> bool:
        """Whether this action counts as a change (``--detailed-exitcode`` 2)."""
        return self not in (Action.NOOP, Action.FAILED)

    @property
    def starts(self) -> bool:
        return self in (Action.START, Action.RERUN, Action.RETRY)


@dataclass(slots=True)
class PlannedInput:
    """An input as apply will send it. ``value`` may be UNKNOWN; secrets are held in memory only.

    Not ``frozen`` (nothing changes one once built), like `DesiredInput`: a plan builds one per
    parameter of every run, and a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (bench/README.md, seventh session)."""

    type: str
    value: Any
    sensitive: bool = False
    source: str | None = None

    def __repr__(self) -> str:
        # A Change shows up in logs, tracebacks and assertion messages: never with a secret in clear.
        value = "'(sensitive)'" if self.sensitive else repr(self.value)
        return f"PlannedInput(type={self.type!r}, value={value}, sensitive={self.sensitive}, source={self.source!r})"


@dataclass(frozen=True)
class ParamChange:
    """One line of a rerun's diff. ``before``/``after`` are display values (secrets redacted)."""

    name: str
    kind: str  # "added" | "removed" | "changed"
    before: Any = None
    after: Any = None
    details: tuple[str, ...] = ()  # nested paths that changed, for lists and mappings


@dataclass(frozen=True, slots=True)
class Change:
    run: str
    action: Action
    reason: str
    workflow: str
    inputs: Mapping[str, PlannedInput] = field(default_factory=dict)
    key: str | None = None  # None: known after apply (or a delete)
    depends_on: tuple[str, ...] = ()
    diff: tuple[ParamChange, ...] = ()
    execution_id: str | None = None  # the recorded execution, for await / delete / failed
    execution_state: str | None = None
    # changes to parameters of spec.ignoreChanges that neither re-run nor enter the key (not for a re-run,
    # whose diff shows them: the new values are sent)
    ignored: tuple[ParamChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Move:
    """A record renamed by apply before anything starts (``spec.movedFrom``): ``old`` takes the name
    ``new``, and the run ``new`` is planned against it (its `Change` says whether it re-runs)."""

    old: str
    new: str
    workflow: str

    @property
    def reason(self) -> str:
        return f"declared movedFrom {self.old!r}: the record is renamed, nothing starts for the move"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    lineage: str
    serial: int
    salt: str
    state_exists: bool
    manifests_digest: str
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    moves: tuple[Move, ...] = ()  # applied first, each renaming one record; not in ``changes``

    @property
    def has_changes(self) -> bool:
        """Whether apply would change anything (a move changes the state)."""
        return bool(self.moves) or any(c.action.is_change for c in self.changes)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        counts[Action.MOVED] = len(self.moves)
        return {a.value: counts[a] for a in Action}

    def by_run(self) -> Mapping[str, Change]:
        return {c.run: c for c in self.changes}
