"""An asyncio loop on virtual time: when nothing is ready, the clock jumps to the next timer.

An hour of a watcher's backoff then takes milliseconds, and the watcher's injected clock can be the
loop's own ``time``. Only for code that waits on timers and futures, and on work handed to threads
(``asyncio.to_thread``, e.g. the recorder's journal writes): while such work is in flight the clock
stands still and the loop really waits for it. Real sockets would see time race ahead.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """Never sleeps: a wait for ``timeout`` seconds moves the loop's virtual clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout is None:  # None: nothing scheduled at all; only the self-pipe can wake us
            return ready or super().select(timeout)
        if self._loop.in_threads:  # a thread's work is real: wait for it (it wakes us), time stands still
            return super().select(timeout)
        self._loop.now += max(0.0, timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 1000.0
        self.in_threads = 0  # executor jobs in flight
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now

    def run_in_executor(self, executor: Any, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:  # type: ignore[override]
        future = super().run_in_executor(executor, func, *args)
        self.in_threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: object) -> None:
        self.in_threads -= 1


def run_virtual(main: Coroutine[Any, Any, T], limit: float = 24 * 3600.0) -> T:
    """Run ``main`` on virtual time; a TimeoutError after ``limit`` virtual seconds (a hung test)."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await main

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(bounded())
