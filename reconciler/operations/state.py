"""State surgery: ``state rm | mv | push`` and ``force-unlock``. Each takes the lock and checks the serial."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from reconciler.backends.base import LockInfo, StateBackend
from reconciler.errors import StateError, UserError
from reconciler.manifest.validating import run_name_problem
from reconciler.state.models import State
from reconciler.state.renaming import rename_problem, renamed


def _locked_change(
    backend: StateBackend, operation: str, lock_timeout: float, change: Callable[[State], State]
) -> State:
    with backend.lock(operation, lock_timeout):
        state = backend.read()
        if state is None:
            raise StateError(f"no state exists yet in {backend.describe()}")
        new = change(state).model_copy(update={"serial": state.serial + 1})
        backend.write(new, expected_serial=state.serial)
        return new


def state_rm(backend: StateBackend, names: Sequence[str], lock_timeout: float) -> None:
    def drop(state: State) -> State:
        _require(state, names)
        return state.model_copy(update={"runs": {k: v for k, v in state.runs.items() if k not in names}})

    _locked_change(backend, "state rm", lock_timeout, drop)


def state_mv(backend: StateBackend, old: str, new: str, lock_timeout: float) -> None:
    problem = run_name_problem(new)
    if problem is not None:  # a record no manifest could ever name again
        raise StateError(f"cannot move {old!r} to {new!r}: {problem}")

    def rename(state: State) -> State:
        refused = rename_problem(state.runs, old, new)
        if refused is not None:
            raise StateError(refused)
        return state.model_copy(update={"runs": renamed(state.runs, old, new)})

    _locked_change(backend, "state mv", lock_timeout, rename)


def state_push(backend: StateBackend, text: str, source: str, force: bool, lock_timeout: float) -> State:
    pushed = parse_state(text, source)
    with backend.lock("state push", lock_timeout):
        current = _current_if_readable(backend)
        if current is not None and not force:
            if current.lineage != pushed.lineage:
                raise StateError(
                    f"{source} has lineage {pushed.lineage} but the state has {current.lineage}: it is another "
                    "state. Use --force to replace it anyway."
                )
            if pushed.serial < current.serial:
                raise StateError(
                    f"{source} has serial {pushed.serial}, older than the state's {current.serial}: pushing it would "
                    "lose changes. Use --force to replace it anyway."
                )
        serial = max(pushed.serial, current.serial + 1 if current else 0)
        new = pushed.model_copy(update={"serial": serial})
        backend.write(new, expected_serial=current.serial if current else None, force=force)
        return backend.read() or new  # a restore keeps the journal that continues it: replayed here


def _current_if_readable(backend: StateBackend) -> State | None:
    """The stored state; None when there is none, or when it cannot be read (a missing state file
    beside its backup, a damaged one...): the push is then a restore, and the backend's ``write(...,
    None)`` accepts only a state of the lineage its files record (or ``--force``)."""
    try:
        return backend.read()
    except StateError:
        return None


def force_unlock(
    backend: StateBackend, lock_id: str, force: bool, confirm: Callable[[LockInfo], bool], *, ask: bool = False
) -> None:
    """Break lock ``lock_id``: a holder that is gone at once; a live one is refused unless ``force``.
    With ``force`` or ``ask`` (a person at a terminal), only once ``confirm`` (shown the recorded
    holder) says yes."""
    if force or ask:
        holder = recorded_holder(backend)
        if holder is not None and holder.id == lock_id and not confirm(holder):
            raise UserError(f"force-unlock cancelled: lock {lock_id} is left as it is")
    backend.force_unlock(lock_id, force=force)


def recorded_holder(backend: StateBackend) -> LockInfo | None:
    """The holder's details, when the backend can tell them (both real backends can)."""
    read = getattr(backend, "read_lock_info", None)
    holder = read() if read is not None else None
    return holder if isinstance(holder, LockInfo) else None


def parse_state(text: str, source: str) -> State:
    try:
        return State.model_validate(json.loads(text))
    except json.JSONDecodeError as err:
        raise StateError(f"{source}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(f"{source}: not a reconciler state: {where}: {first['msg']}") from err


def _require(state: State, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in state.runs]
    if missing:
        raise StateError(f"no run named {', '.join(repr(m) for m in missing)} in the state")
