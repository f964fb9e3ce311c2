"""Time for the emulator: a clock function, a manual clock for tests, and VCD's date format.

Execution states are computed from the clock on every read instead of being pushed forward by
background tasks, so 1000 executions in flight cost nothing between requests, and a test can move
time forward by calling ``ManualClock.advance`` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Seconds since the epoch, like ``time.time``."""


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def iso_date(epoch: float) -> str:
    """``2024-04-03T14:19:20.488+00:00``: the format VCD and vRO use for dates."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"
