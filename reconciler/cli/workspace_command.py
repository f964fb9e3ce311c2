"""``reconciler workspace list | delete NAME``: the PostgreSQL backend's workspaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from reconciler.cli.common import Context, common_options, handle_errors, json_option, json_text, pass_context
from reconciler.cli.state_commands import lock_timeout_option
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.backends.postgres import PostgresBackend


@click.group()
def workspace() -> None:
    """PostgreSQL workspaces: one state each, in the stack's schema (`--workspace NAME` or
    RECONCILER_WORKSPACE picks one for any command)."""


@workspace.command("list")
@common_options
@json_option
@pass_context
@handle_errors
def list_(ctx: Context, as_json: bool) -> None:
    """The workspaces that hold a state, with their run counts; `*` marks the one in use."""
    from reconciler.ui.console import escape  # rich: not loaded by `--help`, which imports this module

    backend = _postgres(ctx)
    found = backend.workspaces()
    if as_json:
        rows = [
            {"name": w.name, "runs": w.runs, "serial": w.serial, "current": w.name == backend.workspace} for w in found
        ]
        ctx.ui.raw(json_text({"workspaces": rows}))
        return
    if not found:
        ctx.ui.line("No workspace holds a state yet.")
    for info in found:
        mark = "*" if info.name == backend.workspace else " "
        ctx.ui.line(f"{mark} {escape(info.name)}  ({info.runs} run(s), serial {info.serial})")


@workspace.command()
@common_options
@click.argument("name")
@click.option("--force", is_flag=True, help="Delete a workspace that still records runs (they are forgotten).")
@lock_timeout_option
@pass_context
@handle_errors
def delete(ctx: Context, name: str, force: bool, lock_timeout: float) -> None:
    """Delete workspace NAME (its state, under its lock). One that still records runs is refused
    without --force; the executions stay on the server either way."""
    from reconciler.backends.postgres import PostgresBackend
    from reconciler.ui.console import escape

    current = _postgres(ctx)
    target = PostgresBackend(current.dsn, workspace=name, schema=current.schema)
    if not any(w.name == name for w in current.workspaces()):
        raise ConfigError(f"no workspace named {name!r} in schema {current.schema}")
    forgotten = target.delete_workspace(force=force, timeout=lock_timeout)
    ctx.ui.line(f"Deleted workspace {escape(name)} ({forgotten} run record(s) forgotten).")


def _postgres(ctx: Context) -> PostgresBackend:
    from reconciler.backends.postgres import PostgresBackend

    backend = ctx.project().backend()
    if not isinstance(backend, PostgresBackend):
        raise ConfigError("workspaces need the postgres backend (spec.backend.type: postgres)")
    return backend
