"""Where a backend test's state lives: `Store` (local file or PostgreSQL schema), so the contract
tests run against both. The fixtures that hand them out are in ``tests/backends/conftest.py``."""

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
