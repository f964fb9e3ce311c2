"""Fixtures of the apply-engine tests: anyio on asyncio only; an emulator world per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .harness import World


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def world(tmp_path: Path, anyio_backend: str) -> AsyncIterator[World]:
    """The emulator in-process (real time, short durations), a client on it, a state file in tmp_path."""
    async with World(tmp_path / "reconciler.state.json") as built:
        yield built
