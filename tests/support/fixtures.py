"""Fixtures shared by the end-to-end, example and torture tests (a plugin: ``pytest_plugins`` in
``tests/conftest.py``), each defined once here:

- `emulator_catalog`: the emulator's catalog (the end-to-end one; ``tests/torture/conftest.py`` gives its own);
- `make_emulator` / `emulator`: ``reconciler emulator`` subprocesses on the catalog, killed afterwards;
- `pg_reachable` (per worker) and `workspace`: a PostgreSQL workspace of the test's own, its rows
  removed afterwards; skipped when PostgreSQL is not reachable, failed if ``RECONCILER_REQUIRE_PG=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.e2e import CATALOG, Emulator, start_emulator, stop
from tests.support.stores import drop_workspace, pg_problem


@pytest.fixture
def emulator_catalog() -> dict[str, Any]:
    return CATALOG


@pytest.fixture
def catalog_file(tmp_path: Path, emulator_catalog: dict[str, Any]) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(emulator_catalog, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_emulator(catalog_file: Path) -> Iterator[Callable[..., Emulator]]:
    """``make(*options)``: an emulator started with ``reconciler emulator`` options (``--latency 1``...)."""
    started: list[Emulator] = []

    def make(*extra: str) -> Emulator:
        emulator = start_emulator(catalog_file, *extra)
        started.append(emulator)
        return emulator

    try:
        yield make
    finally:
        for emulator in started:
            stop(emulator.process)


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


@pytest.fixture(scope="session")
def pg_reachable() -> bool:
    problem = pg_problem()
    if problem is not None and os.environ.get("RECONCILER_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL not reachable at RECONCILER_TEST_PG_DSN: {problem}")
    return problem is None


@pytest.fixture
def make_workspace(request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``make(prefix)``: a new PostgreSQL workspace name; its rows are removed after the test. Skips
    the test when PostgreSQL is not reachable."""
    made: list[str] = []

    def make(prefix: str) -> str:
        if not request.getfixturevalue("pg_reachable"):
            pytest.skip("PostgreSQL not reachable at RECONCILER_TEST_PG_DSN")
        made.append(f"{prefix}{uuid.uuid4().hex[:12]}")
        return made[-1]

    try:
        yield make
    finally:
        for workspace in made:
            drop_workspace(workspace)


@pytest.fixture
def workspace(make_workspace: Callable[[str], str]) -> str:
    return make_workspace("ws-")
