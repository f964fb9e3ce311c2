"""Adaptive concurrency per workflow (AIMD): back off when the server pushes back, grow back when it answers.

VCD degrades long before its clients notice (teams report it failing at Terraform's fixed 10 requests
at once), so the number of requests in flight for one workflow is not fixed: every answer that is
not a pushback adds ``1 / limit`` to its limit (about +1 per round trip of the whole window), a 429
or 503 halves it (at most once per window: the answers to requests sent before a cut do not cut it
again), never below 1 nor above ``--parallelism``. A ``Retry-After`` also holds the workflow's
next request back until then. The engine's global limit (``--parallelism`` requests in flight)
still applies on top.

`Pacing.slot(workflow)` is the gate; `Pacing.pushback(workflow, retry_after)` is fed by the client
(`reconciler.remote.retrying.Pushback`) for every 429/503 it receives, including the ones it retries
itself. ``changed`` is told every change of the whole number of requests allowed: each cut, each step
back up, and the return to the full limit (the ``--json`` events); `Pacing.summary` says, per
workflow that was cut, how low it went and where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from reconciler.applying.reports import LimitSummary


@dataclass
class _Window:
    limit: float
    in_flight: int = 0
    lowest: float = 0.0
    cut_at: int = 0  # requests sent so far when the limit was last cut (older answers do not cut again)
    sent: int = 0
    not_before: float = 0.0  # loop time before which nothing is sent (Retry-After)
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)

    @property
    def allowed(self) -> int:
        return max(1, int(self.limit))


@dataclass(frozen=True)
class LimitChange:
    workflow: str
    limit: int
    maximum: int
    why: str  # "429", "503", "growing" (a step back up), or "recovered" (back at the maximum)


class Pacing:
    """Per-workflow windows of requests in flight, each between 1 and ``maximum``."""

    def __init__(
        self,
        maximum: int,
        changed: Callable[[LimitChange], None] = lambda change: None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.maximum = max(1, maximum)
        self._changed = changed
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def _window(self, workflow: str) -> _Window:
        window = self._windows.get(workflow)
        if window is None:
            window = self._windows[workflow] = _Window(float(self.maximum), lowest=float(self.maximum))
        return window

    def limit(self, workflow: str) -> int:
        """The number of requests of ``workflow`` allowed in flight now."""
        return self._window(workflow).allowed

    @contextlib.asynccontextmanager
    async def slot(self, workflow: str) -> AsyncIterator[None]:
        """Hold one of ``workflow``'s places in flight for one request (and its retries)."""
        window = self._window(workflow)
        if window.waiting or window.in_flight >= window.allowed:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            window.waiting.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():  # handed a place as it was cancelled
                    window.in_flight -= 1
                    self._wake(window)
                raise
        else:
            window.in_flight += 1
        try:
            delay = window.not_before - self._now()
            if delay > 0:
                await asyncio.sleep(delay)
            window.sent += 1
            yield
            self._answered(workflow, window)
        finally:
            window.in_flight -= 1
            self._wake(window)

    def pushback(self, workflow: str, status: int, retry_after: float | None) -> None:
        """The server answered a request of ``workflow`` with 429 or 503 (not processed)."""
        window = self._window(workflow)
        if retry_after:
            window.not_before = max(window.not_before, self._now() + retry_after)
        if window.sent <= window.cut_at:
            return  # nothing sent since the last cut: this answers a request that cut already counted
        window.cut_at = window.sent
        window.limit = max(1.0, window.limit / 2)
        window.lowest = min(window.lowest, window.limit)
        self._changed(LimitChange(workflow, window.allowed, self.maximum, str(status)))

    def _answered(self, workflow: str, window: _Window) -> None:
        if window.limit >= self.maximum:
            return
        before = window.allowed
        window.limit = min(float(self.maximum), window.limit + 1 / window.limit)
        if window.allowed > before:
            why = "recovered" if window.allowed == self.maximum else "growing"
            self._changed(LimitChange(workflow, window.allowed, self.maximum, why))
        self._wake(window)

    def _wake(self, window: _Window) -> None:
        while window.waiting and window.in_flight < window.allowed:
            waiter = window.waiting.popleft()
            if not waiter.done():
                window.in_flight += 1
                waiter.set_result(None)

    def summary(self) -> dict[str, LimitSummary]:
        """The workflows whose limit was ever cut: how low it went, where it is now, the maximum."""
        return {
            workflow: LimitSummary(max(1, int(w.lowest)), w.allowed, self.maximum)
            for workflow, w in self._windows.items()
            if w.lowest < self.maximum
        }
