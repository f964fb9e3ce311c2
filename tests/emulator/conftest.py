"""Fixtures for the emulator tests: an app on a manual clock, and a client logged in as admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorOptions, ManualClock, create_app, load_catalog
from reconciler.emulator.catalog import Catalog

from .emulator_helpers import client_for, login


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_app(catalog: Catalog, clock: ManualClock) -> Callable[..., Any]:
    def make(**options: Any) -> Any:
        chosen, on = options.pop("catalog", catalog), options.pop("clock", clock)
        return create_app(chosen, EmulatorOptions(**options), clock=on)

    return make


@pytest.fixture
async def admin(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as client:
        await login(client)
        yield client
