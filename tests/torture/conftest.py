"""Torture fixtures: emulators as subprocesses on real sockets, stacks on both backends, and a terminal
summary that prints every test's figures (seed, kills, lost answers, starts per run, outputs that
differ), so ``make test`` and ``make torture`` show them. Helpers live in ``tests/support/torture.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.torture import (
    CATALOG,
    FIGURES,
    PG_DSN,
    SCALE,
    SEED,
    Emulator,
    Stack,
    drop_workspace,
    new_workspace,
    start_emulator,
    stop,
)


def pytest_report_header() -> str:
    return f"torture: seed {SEED} (RECONCILER_TORTURE_SEED), scale {SCALE:g} (RECONCILER_TORTURE_SCALE)"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section(f"torture figures (seed {SEED}, scale {SCALE:g})")
    for test, figures in FIGURES:
        terminalreporter.write_line(f"{test}:")
        for key, value in figures.items():
            terminalreporter.write_line(f"    {key}: {value}")


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_emulator(catalog_file: Path) -> Iterator[Callable[..., Emulator]]:
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


@pytest.fixture(scope="session")
def pg_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL not reachable at RECONCILER_TEST_PG_DSN: {exc}")
        return False
    return True


@pytest.fixture
def make_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """``make(emulator, backend="local"|"postgres", parallelism=8, endpoint={...})``: a stack folder;
    postgres stacks get a workspace of their own, removed afterwards."""
    workspaces: list[str] = []

    def make(emulator: Emulator, backend: str = "local", parallelism: int = 8, **endpoint: Any) -> Stack:
        if backend == "postgres" and not request.getfixturevalue("pg_reachable"):
            pytest.skip("PostgreSQL not reachable at RECONCILER_TEST_PG_DSN")
        workspace = new_workspace()
        root = tmp_path / f"stack-{workspace}"
        root.mkdir()
        stack = Stack(root, emulator.url, backend, workspace)
        stack.write_stack(parallelism, endpoint)
        if backend == "postgres":
            workspaces.append(workspace)
        return stack

    try:
        yield make
    finally:
        for workspace in workspaces:
            drop_workspace(workspace)
