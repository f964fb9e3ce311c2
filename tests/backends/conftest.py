"""Fixtures: one `Store` per backend kind, so the contract tests run against both.

PostgreSQL comes from ``RECONCILER_TEST_PG_DSN`` (default the local ``test`` database); when it is
unreachable the postgres cases are skipped, unless ``RECONCILER_REQUIRE_PG=1`` makes that a failure.
Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stores import PG_DSN, Store, local_store, postgres_store


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


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return local_store(tmp_path)
    return postgres_store(request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema"))


@pytest.fixture
def pg_store(pg_dsn: str, pg_schema: str) -> Store:
    return postgres_store(pg_dsn, pg_schema)
