"""Choosing the backend from ``spec.backend``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend
from reconciler.backends.selecting import backend_from_config
from reconciler.errors import ConfigError

STACK = Path("/stack")


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (None, STACK / "reconciler.state.json"),
        ({}, STACK / "reconciler.state.json"),
        ({"type": "local", "path": "state/prod.json"}, STACK / "state/prod.json"),
        ({"type": "local", "path": "/var/lib/r.json", "dsnFrom": None}, Path("/var/lib/r.json")),
        (SimpleNamespace(type="local", path="x.json"), STACK / "x.json"),
    ],
)
def test_local_paths_are_relative_to_the_stack(cfg: Any, expected: Path) -> None:
    backend = backend_from_config(cfg, STACK, {})
    assert isinstance(backend, LocalBackend) and backend.path == expected


def test_postgres_reads_its_dsn_from_the_named_variable() -> None:
    cfg = {"type": "postgres", "dsnFrom": {"env": "TEAM_DSN"}, "workspace": "prod"}
    backend = backend_from_config(cfg, STACK, {"TEAM_DSN": "postgresql://u:pw@db/x"})
    assert isinstance(backend, PostgresBackend)
    assert (backend.dsn, backend.workspace, backend.schema) == ("postgresql://u:pw@db/x", "prod", "reconciler")


def test_postgres_defaults() -> None:
    backend = backend_from_config({"type": "postgres"}, STACK, {"RECONCILER_PG_DSN": "host=db"})
    assert isinstance(backend, PostgresBackend) and backend.workspace == "default"


def test_a_pydantic_like_model_is_dumped_by_alias() -> None:
    class Model:
        def model_dump(self, by_alias: bool = False) -> dict[str, Any]:
            assert by_alias
            return {"type": "postgres", "path": None, "dsnFrom": {"env": "D"}, "workspace": "w"}

    backend = backend_from_config(Model(), STACK, {"D": "host=db"})
    assert isinstance(backend, PostgresBackend) and backend.workspace == "w"


@pytest.mark.parametrize(
    ("cfg", "environ", "message"),
    [
        ({"type": "postgres"}, {}, "RECONCILER_PG_DSN, which is not set"),
        ({"type": "postgres", "dsnFrom": {"env": ""}}, {}, "dsnFrom must be"),
        ({"type": "s3"}, {}, "must be local or postgres, not 's3'"),
    ],
)
def test_bad_configs_are_config_errors(cfg: dict[str, Any], environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        backend_from_config(cfg, STACK, environ)
