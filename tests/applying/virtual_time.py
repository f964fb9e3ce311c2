"""An asyncio loop on virtual time: when nothing is ready, the clock jumps to the next timer.

An hour of a watcher's backoff then takes milliseconds, and the watcher's injected clock can be the
loop's own ``time``. Only for code that waits on timers and futures; real I/O (sockets, threads) would
see time race ahead while it waits, so the virtual loop is used for pure asyncio code only.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
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
        self._loop.now += max(0.0, timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run_virtual(main: Coroutine[Any, Any, T], limit: float = 24 * 3600.0) -> T:
    """Run ``main`` on virtual time; a TimeoutError after ``limit`` virtual seconds (a hung test)."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await main

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(bounded())
