"""The serial and lineage rules of a whole-state write, the same for every backend.

``serial`` goes up with every change; a writer says which serial it read (``expected_serial``) and is
refused if the stored one moved meanwhile. ``lineage`` is fixed when a state is created: a state of
another lineage is a different state, never a newer version of this one. ``force`` (``state push
-force``) skips both checks, like Terraform's.
"""

from __future__ import annotations

from typing import NamedTuple

from reconciler.errors import StateError


class Stored(NamedTuple):
    """What a write is checked against: the stored state's serial and lineage."""

    serial: int
    lineage: str


def check_write(where: str, current: Stored | None, new_lineage: str, expected_serial: int | None, force: bool) -> None:
    """The serial and lineage checks of a whole-state write (shared with the postgres backend)."""
    if force:
        return
    if current is None:
        if expected_serial is not None:
            raise StateError(f"{where}: expected a state with serial {expected_serial}, but there is none")
        return
    if expected_serial is None:
        raise StateError(
            f"{where}: a state already exists (serial {current.serial}, lineage {current.lineage}); "
            "refusing to overwrite it"
        )
    if current.serial != expected_serial:
        raise StateError(
            f"{where}: the state changed meanwhile (serial {current.serial}, expected {expected_serial}); "
            "run the command again"
        )
    if current.lineage != new_lineage:
        raise StateError(
            f"{where}: lineage {new_lineage} does not match the stored state's lineage {current.lineage}: "
            "it is a different state, not a version of this one (use -force to replace it anyway)"
        )
