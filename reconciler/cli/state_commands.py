"""State surgery commands: state list|show|rm|mv|pull|push, and force-unlock."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import (
    Context,
    Duration,
    common_options,
    handle_errors,
    json_option,
    pass_context,
    record_document,
)
from reconciler.errors import StateError, UserError

# Each command imports the operations and views it uses: `--help`, `workspace` and `apply` import
# this module, and need none of them.
if TYPE_CHECKING:
    from reconciler.backends.base import LockInfo

lock_timeout_option = click.option(
    "--lock-timeout",
    type=Duration(),
    default="0s",
    show_default=True,
    help="How long to wait for the state lock (e.g. 30s).",
)


@click.group()
def state() -> None:
    """Inspect and change the recorded state (each change is locked and serial-checked)."""


@state.command("list")
@common_options
@json_option
@pass_context
@handle_errors
def state_list(ctx: Context, as_json: bool) -> None:
    """List the recorded runs."""
    recorded, _ = ctx.project().read_state()
    if as_json:
        ctx.ui.raw(json.dumps(sorted(recorded.runs)))
        return
    for name in sorted(recorded.runs):
        ctx.ui.raw(name)


@state.command("show")
@common_options
@click.argument("run")
@json_option
@pass_context
@handle_errors
def state_show(ctx: Context, run: str, as_json: bool) -> None:
    """Show one recorded run."""
    from reconciler.ui import state_view

    recorded, _ = ctx.project().read_state()
    if run not in recorded.runs:
        raise StateError(f"no run named {run!r} in the state")
    if as_json:
        ctx.ui.raw(json.dumps(record_document(recorded.runs[run]), indent=2))
        return
    one = recorded.model_copy(update={"runs": {run: recorded.runs[run]}})
    ctx.ui.lines(state_view.state_lines(one, True)[2:])


@state.command("rm")
@common_options
@click.argument("runs", nargs=-1, required=True)
@lock_timeout_option
@pass_context
@handle_errors
def state_rm(ctx: Context, runs: tuple[str, ...], lock_timeout: float) -> None:
    """Forget RUNS (their executions stay on the server)."""
    from reconciler.operations import state as surgery

    surgery.state_rm(ctx.project().backend(), runs, lock_timeout)
    ctx.ui.line(f"Removed {len(runs)} run(s) from the state.")


@state.command("mv")
@common_options
@click.argument("old")
@click.argument("new")
@lock_timeout_option
@pass_context
@handle_errors
def state_mv(ctx: Context, old: str, new: str, lock_timeout: float) -> None:
    """Rename a recorded run (after renaming it in the manifests), so it is not run again."""
    from reconciler.operations import state as surgery

    surgery.state_mv(ctx.project().backend(), old, new, lock_timeout)
    ctx.ui.line(f"Moved {old} to {new}.")


@state.command("pull")
@common_options
@pass_context
@handle_errors
def state_pull(ctx: Context) -> None:
    """Print the state as stored (JSON), e.g. to back it up."""
    recorded = ctx.project().backend().read()
    if recorded is None:
        raise StateError("no state exists yet")
    ctx.ui.raw(json.dumps(recorded.model_dump(mode="json", by_alias=True), indent=2))


@state.command("push")
@common_options
@click.argument("file")
@click.option("--force", is_flag=True, help="Replace even another lineage or an older serial.")
@lock_timeout_option
@pass_context
@handle_errors
def state_push(ctx: Context, file: str, force: bool, lock_timeout: float) -> None:
    """Replace the state with FILE ('-' for standard input)."""
    from reconciler.operations import state as surgery
    from reconciler.operations.project import read_text_file

    text = sys.stdin.read() if file == "-" else read_text_file(file)
    new = surgery.state_push(ctx.project().backend(), text, file, force, lock_timeout)
    ctx.ui.line(f"Pushed {file}: serial {new.serial}, {len(new.runs)} run(s).")


@click.command("force-unlock")
@common_options
@click.argument("lock_id")
@click.option(
    "--force",
    is_flag=True,
    help="Also break the lock of a holder that is still alive (PostgreSQL: terminate its session), "
    "after a prompt that names it.",
)
@click.option(
    "-f",
    "--yes",
    "yes",
    is_flag=True,
    help="Do not ask for confirmation (-f: what Terraform's force-unlock -force does; it breaks no live "
    "holder's lock, --force does); without a terminal, --force needs --yes.",
)
@pass_context
@handle_errors
def force_unlock(ctx: Context, lock_id: str, force: bool, yes: bool) -> None:
    """Break the state lock LOCK_ID.

    \b
    On a terminal it asks for confirmation first, naming the holder (-f / --yes skips it). A lock whose
    holder is gone is then removed. A holder still alive is refused: locally always
    (a kernel lock cannot be broken from outside; stop that process), on PostgreSQL unless --force.
    --force terminates the holder's PostgreSQL session once you answer 'yes' to a prompt naming the
    holder; that process then writes and starts nothing more (its next state write or lock check
    fails), and the next apply waits out its request timeout before taking any of its unanswered
    starts as never sent. Terraform's `force-unlock -force` only skips the prompt: here that is
    -f (--yes), and without a terminal --force is refused unless --yes is given too.
    """
    from reconciler.operations import state as surgery

    if force and not yes and not sys.stdin.isatty():
        raise UserError("force-unlock --force asks for confirmation on a terminal; without one, add --yes")
    ask = not yes and sys.stdin.isatty()
    surgery.force_unlock(
        ctx.project().backend(), lock_id, force, lambda holder: yes or _confirm(ctx, holder, force), ask=ask
    )
    ctx.ui.line(f"Lock {lock_id} released.")


def _confirm(ctx: Context, holder: LockInfo, force: bool) -> bool:
    from reconciler.ui.console import escape

    consequence = (
        "If that process is still running, its session is terminated: it then writes and starts nothing more."
        if force
        else "A holder that is still running keeps its lock: only a lock left behind is removed."
    )
    ctx.ui.line(
        f"[bold]Break the state lock held by {escape(holder.who)} (pid {holder.pid}, {escape(holder.operation)} "
        f"since {escape(holder.created)})?[/]\n{escape(holder.describe())}\n{consequence} Only 'yes' will be accepted."
    )
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"
