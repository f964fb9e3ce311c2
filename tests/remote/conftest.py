"""Shared fixtures of the client tests: anyio on asyncio only, a fake sleep that records delays."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeSleep


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()
