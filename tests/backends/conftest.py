"""Fixtures: one `Store` per backend kind, so the contract tests run against both.

PostgreSQL comes from ``RECONCILER_TEST_PG_DSN`` (default the local ``test`` database); when it is
unreachable the postgres cases are skipped, unless ``RECONCILER_REQUIRE_PG=1`` makes that a failure.
Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.backends.base import StateBackend
from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend

PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Store:
    """Where one test's state lives, and how to open it (again, or from another process)."""

    kind: str
    open_at: Callable[[str], StateBackend]  # a backend on the named location (file / workspace)
    spawn_expr: Callable[[str], str]  # the same, as Python code for a subprocess
    release_grace: float  # how long the server may take to notice a killed holder

    def open(self) -> StateBackend:
        return self.open_at("main")

    def fresh(self) -> StateBackend:
        return self.open_at(uuid.uuid4().hex[:12])


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        message = f"PostgreSQL not reachable at RECONCILER_TEST_PG_DSN: {exc}"
        if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return PG_DSN


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def local_store(folder: Path) -> Store:
    def path(name: str) -> Path:
        return folder / f"{name}.state.json"

    return Store(
        "local",
        lambda name: LocalBackend(path(name)),
        lambda name: f"LocalBackend(Path({str(path(name))!r}))",
        0.0,
    )


def postgres_store(dsn: str, schema: str) -> Store:
    return Store(
        "postgres",
        lambda name: PostgresBackend(dsn, workspace=name, schema=schema),
        lambda name: f"PostgresBackend({dsn!r}, workspace={name!r}, schema={schema!r})",
        10.0,
    )


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return local_store(tmp_path)
    return postgres_store(request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema"))


@pytest.fixture
def pg_store(pg_dsn: str, pg_schema: str) -> Store:
    return postgres_store(pg_dsn, pg_schema)
