"""Test doubles below the transport: a sleep that records delays."""

from __future__ import annotations


class FakeSleep:
    """Records requested delays and returns at once (the client's ``sleep`` is injectable)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
