"""The recorder's part of fencing: intents carry their holder's lock id, and `ensure_held()` fails
once the lock is no longer ours (the engine then starts nothing more)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.applying.recorder import Recorder
from reconciler.backends.local import LocalBackend
from reconciler.errors import LockLostError
from reconciler.state.models import PendingStart, RunRecord

from .harness import empty_state

pytestmark = pytest.mark.anyio


def _intent(at: str) -> RunRecord:
    return RunRecord(workflow="wf", key="k", pending=PendingStart(key="k", requested_at=at))


async def test_intents_carry_the_lock_id_of_their_holder(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    backend.write(empty_state(), None)
    with backend.lock("apply") as info:
        recorder = Recorder(backend, empty_state())
        recorder.start()
        recorder.put("new", _intent("2025-01-01T00:00:00+00:00"))
        await recorder.durable()
        await recorder.close()
    stored = backend.read()
    assert stored is not None
    pending = stored.runs["new"].pending
    assert pending is not None and pending.lock_id == info.id


async def test_an_intent_of_another_holder_is_never_claimed(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    legacy = _intent("2025-01-01T00:00:00+00:00")  # written before intents named their holder
    state = empty_state().model_copy(update={"runs": {"old": legacy}})
    backend.write(state, None)
    with backend.lock("apply"):
        recorder = Recorder(backend, state)
        recorder.start()
        recorder.put("old", legacy.model_copy())  # e.g. refreshed, the intent untouched
        await recorder.close()
    stored = backend.read()
    assert stored is not None and stored.runs["old"].pending == legacy.pending


async def test_ensure_held_fails_once_the_lock_is_someone_elses(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    backend.write(empty_state(), None)
    with backend.lock("apply") as info:
        recorder = Recorder(backend, empty_state())
        await recorder.ensure_held()
        backend.lock_file.write_info(info.__class__(**{**info.__dict__, "id": "taken-over"}))
        with pytest.raises(LockLostError, match="lost the state lock"):
            await recorder.ensure_held()
