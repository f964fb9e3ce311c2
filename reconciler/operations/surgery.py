"""State surgery: ``state rm | mv | push`` and ``force-unlock``. Each takes the lock and checks the serial."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from reconciler.backends.base import StateBackend
from reconciler.errors import StateError
from reconciler.state.models import State


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
    def rename(state: State) -> State:
        _require(state, [old])
        if new in state.runs:
            raise StateError(f"the state already has a run named {new!r}")
        runs = {(new if k == old else k): v for k, v in state.runs.items()}
        return state.model_copy(update={"runs": runs})

    _locked_change(backend, "state mv", lock_timeout, rename)


def state_push(backend: StateBackend, text: str, source: str, force: bool, lock_timeout: float) -> State:
    pushed = parse_state(text, source)
    with backend.lock("state push", lock_timeout):
        current = backend.read()
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
        return new


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
