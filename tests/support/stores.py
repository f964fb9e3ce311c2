"""Where a backend test's state lives: `Store` (local file or PostgreSQL schema), so the contract
tests run against both. The fixtures that hand them out are in ``tests/backends/conftest.py``.

PostgreSQL for the tests that run the CLI: `PG_DSN` (``RECONCILER_TEST_PG_DSN``), `pg_problem` (why it
cannot be reached, if it cannot), `with_application` (a DSN whose sessions a test can find and end) and
`drop_workspace` (one test's rows, in schema ``reconciler``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.backends.base import StateBackend
from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend

PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def pg_problem() -> str | None:
    """Why PostgreSQL at `PG_DSN` cannot be reached, or None when it can."""
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc)
    return None


def with_application(dsn: str, application: str) -> str:
    """``dsn`` whose sessions carry ``application_name`` (so a test ends only its own sessions)."""
    return f"{dsn}{'&' if '?' in dsn else '?'}application_name={application}"


def drop_workspace(workspace: str) -> None:
    """Remove one workspace's rows from every table of schema ``reconciler`` that has a workspace."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'reconciler' AND column_name = 'workspace'"
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("DELETE FROM reconciler.{} WHERE workspace = %s").format(sql.Identifier(table))
            conn.execute(query, [workspace])


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
