"""`Recorder.ensure_held` shared by concurrent starts: each caller gets a check that began after it
called (never one already under way), and a lost lock fails every caller of that check."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from reconciler.applying.recorder import Recorder
from reconciler.backends.local import LocalBackend
from reconciler.errors import LockLostError

from .harness import empty_state

pytestmark = pytest.mark.anyio


class HeldBackend(LocalBackend):
    """A local backend whose lock checks are counted, can be held midway, and can be made to fail."""

    quick_held_check = False  # a check held midway must not hold the event loop with it

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.checks = 0
        self.began = threading.Event()
        self.release = threading.Event()
        self.lost = False

    def ensure_held(self) -> None:
        self.checks += 1
        self.began.set()
        assert self.release.wait(10), "a lock check was held for too long"
        if self.lost:
            raise LockLostError("lost the state lock (test)")


async def _began(backend: HeldBackend) -> None:
    assert await asyncio.to_thread(backend.began.wait, 10)
    backend.began.clear()


async def test_callers_during_a_check_share_the_next_one(tmp_path: Path) -> None:
    backend = HeldBackend(tmp_path / "reconciler.state.json")
    recorder = Recorder(backend, empty_state())
    first = asyncio.ensure_future(recorder.ensure_held())
    await _began(backend)  # the first check is under way: later callers may not take it
    later = [asyncio.ensure_future(recorder.ensure_held()) for _ in range(50)]
    await asyncio.sleep(0.05)
    assert backend.checks == 1 and not any(t.done() for t in [first, *later])
    backend.release.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 10)
    assert backend.checks == 2  # one for the first caller, one begun after all the others called


async def test_a_lost_lock_fails_every_caller_of_the_check(tmp_path: Path) -> None:
    backend = HeldBackend(tmp_path / "reconciler.state.json")
    backend.lost = True
    recorder = Recorder(backend, empty_state())
    callers = [asyncio.ensure_future(recorder.ensure_held()) for _ in range(5)]
    await _began(backend)
    backend.release.set()
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 10)
    assert all(isinstance(r, LockLostError) for r in results)
    assert backend.checks == 1
    backend.lost = False
    await asyncio.wait_for(recorder.ensure_held(), 10)  # a new call checks again
    assert backend.checks == 2
