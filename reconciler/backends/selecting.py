"""Which backend a stack uses: ``spec.backend`` of the stack file (SPEC 2.1).

Accepted keys (camelCase, as in the stack file and as ``model_dump(by_alias=True)`` gives them)::

    backend:
      type: local                  # or postgres; default local
      path: reconciler.state.json  # local: relative to the stack folder
      dsnFrom: {env: RECONCILER_PG_DSN}   # postgres: the env var holding the DSN (default shown)
      workspace: default           # postgres; RECONCILER_WORKSPACE or --workspace override it
      schema: reconciler           # postgres, optional

The DSN itself is never in the stack file. ``None`` values count as absent (pydantic dumps them).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.backends.local import LocalBackend
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.backends.base import StateBackend
    from reconciler.backends.postgres import PostgresBackend

DEFAULT_PATH = "reconciler.state.json"
DEFAULT_DSN_ENV = "RECONCILER_PG_DSN"
DEFAULT_WORKSPACE = "default"
DEFAULT_SCHEMA = "reconciler"
WORKSPACE_ENV = "RECONCILER_WORKSPACE"  # overrides spec.backend.workspace (set by --workspace)


def as_mapping(backend_cfg: Mapping[str, Any] | object | None) -> dict[str, Any]:
    """The config as a plain dict: a mapping, a pydantic model, or an object with attributes."""
    if backend_cfg is None:
        return {}
    if isinstance(backend_cfg, Mapping):
        raw = dict(backend_cfg)
    elif hasattr(backend_cfg, "model_dump"):
        raw = backend_cfg.model_dump(by_alias=True)
    else:
        names = ("type", "path", "dsnFrom", "dsn_from", "workspace", "schema")
        raw = {name: getattr(backend_cfg, name) for name in names if hasattr(backend_cfg, name)}
    if "dsn_from" in raw and "dsnFrom" not in raw:
        raw["dsnFrom"] = raw.pop("dsn_from")
    return {key: value for key, value in raw.items() if value is not None}


def dsn_env_name(dsn_from: Any) -> str:
    if dsn_from is None:
        return DEFAULT_DSN_ENV
    env = dsn_from.get("env") if isinstance(dsn_from, Mapping) else getattr(dsn_from, "env", None)
    if not isinstance(env, str) or not env:
        raise ConfigError("spec.backend.dsnFrom must be {env: VARIABLE_NAME}")
    return env


def local_backend(cfg: Mapping[str, Any], stack_dir: Path) -> LocalBackend:
    path = Path(str(cfg.get("path", DEFAULT_PATH)))
    return LocalBackend(path if path.is_absolute() else stack_dir / path)


def postgres_backend(cfg: Mapping[str, Any], environ: Mapping[str, str]) -> PostgresBackend:
    name = dsn_env_name(cfg.get("dsnFrom"))
    dsn = environ.get(name, "")
    if not dsn:
        raise ConfigError(f"the postgres backend reads its DSN from the environment variable {name}, which is not set")
    workspace = environ.get(WORKSPACE_ENV) or str(cfg.get("workspace", DEFAULT_WORKSPACE))
    from reconciler.backends.postgres import PostgresBackend  # only for stacks that use it

    return PostgresBackend(dsn, workspace=workspace, schema=str(cfg.get("schema", DEFAULT_SCHEMA)))


def backend_from_config(
    backend_cfg: Mapping[str, Any] | object | None, stack_dir: Path, environ: Mapping[str, str]
) -> StateBackend:
    """The backend ``spec.backend`` describes (the local default when it is None or empty)."""
    cfg = as_mapping(backend_cfg)
    kind = cfg.get("type", "local")
    if kind == "local":
        return local_backend(cfg, stack_dir)
    if kind == "postgres":
        return postgres_backend(cfg, environ)
    raise ConfigError(f"spec.backend.type must be local or postgres, not {kind!r}")
