"""What every state backend provides (local file, PostgreSQL).

Contract:
- ``read()`` returns the current state (journal replayed) or None when none exists yet. No lock needed.
- ``lock(operation, timeout)`` is a context manager holding the one writer lock of this state /
  workspace. It fails at once (timeout 0) or after ``timeout`` seconds with `StateLockedError` naming
  the holder, the operation, since when and the lock id. A lock whose holder died never blocks forever.
- ``write(state, expected_serial, force=False)`` replaces the whole state atomically (compacting the
  journal); it refuses with `StateError` when the stored serial is not ``expected_serial`` (None = must
  not exist) or the stored lineage is not ``state.lineage``; ``force`` (``state push -force``) skips
  both checks. An unreadable stored state is never overwritten.
- ``append(events, serial)`` makes a group of events durable with one flush/commit (the journal);
  after it returns, ``read()`` sees them, even after a crash of this process. ``serial`` is the state's
  serial once the group is applied and must be above the current one. It needs an existing state:
  when ``read()`` is None, ``write(State(lineage=..., salt=...), None)`` first. An empty group is a no-op.
- ``force_unlock(lock_id, force=False)`` breaks a lock by its id (`StateError` for another id, or a
  live holder; with ``force`` PostgreSQL terminates a live holder's session, a local kernel lock of a
  live process is still refused).
- Fencing: ``held()`` is what this object holds now (no I/O): the lock id, the PostgreSQL lock
  generation, and when (monotonic) it was taken. ``ensure_held()`` checks, cheaply, that the lock is
  still ours; `LockLostError` when not. Apply calls it right before each start request: in a thread,
  unless ``quick_held_check`` says it never waits on anything but a local ``stat`` (then directly).
- The workflow definitions cache (`reconciler.backends.definitions_store`), kept beside the state:
  ``read_definitions()`` returns every kept definition by (endpoint URL, workflow id), each with its
  ``read_at``; ``write_definitions(endpoint, definitions)`` puts those over the same keys and keeps
  the rest. A cache, not state: no lock needed, last writer wins, and neither ever raises for the
  cache itself: an unreadable or corrupt cache is a logged warning and reads as empty, a failed
  write is a logged warning.
- Not in the protocol (so fakes need not have it), both real backends also offer ``read_lock_info()``:
  the recorded holder's details, if any (local: possibly of a holder killed since).
Writes and appends are only called while holding the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the event models (and their TypeAdapter) are built only by what appends or replays
    from reconciler.backends.definitions_store import Cached
    from reconciler.definitions import WorkflowDefinition
    from reconciler.state.events import PutRun, RemoveRun
    from reconciler.state.models import State


@dataclass(frozen=True)
class LockInfo:
    id: str
    operation: str
    who: str  # user@host
    pid: int
    created: str  # ISO 8601 UTC
    path: str  # the state file or the postgres workspace

    def describe(self) -> str:
        return (
            f"Lock Info:\n  ID:        {self.id}\n  Path:      {self.path}\n  Operation: {self.operation}\n"
            f"  Who:       {self.who} (pid {self.pid})\n  Created:   {self.created}"
        )


@dataclass(frozen=True)
class HeldLock:
    """The lock a backend object holds: ``generation`` is PostgreSQL's fencing token (None locally),
    ``taken_at`` the ``time.monotonic()`` right after it was taken. ``handover``: the previous holder
    did not release it (killed, session ended, lock broken), so requests it sent may still be in flight."""

    info: LockInfo
    generation: int | None
    taken_at: float
    handover: bool = False


class StateBackend(Protocol):
    quick_held_check: bool  # ensure_held() is a local stat or two: called on the event loop, no thread

    def describe(self) -> str: ...

    def read(self) -> State | None: ...

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]: ...

    def write(self, state: State, expected_serial: int | None, *, force: bool = False) -> None: ...

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None: ...

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None: ...

    def held(self) -> HeldLock | None: ...

    def ensure_held(self) -> None: ...

    def read_definitions(self) -> Cached: ...

    def write_definitions(self, endpoint: str, definitions: Sequence[WorkflowDefinition]) -> None: ...
