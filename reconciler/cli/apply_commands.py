"""apply, refresh, import: the commands that start, watch and record executions."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from reconciler.cli.app import enable_collector
from reconciler.cli.common import (
    Context,
    common_options,
    handle_errors,
    inputs_from,
    json_option,
    pass_context,
    record_document,
    var_options,
)
from reconciler.cli.planning_commands import plan_options
from reconciler.cli.state_commands import lock_timeout_option
from reconciler.errors import UserError

if TYPE_CHECKING:
    from reconciler.operations import apply as applying
    from reconciler.planning.changes import Plan
    from reconciler.ui.console import Ui
    from reconciler.ui.progress_view import ProgressView


@click.command()
@common_options
@click.argument("planfile", required=False)
@plan_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for approval.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 1000),
    help="Most API requests in flight (default: the stack's); a workflow answered 429/503 gets fewer, then more again.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (needs --auto-approve or PLANFILE).")
@lock_timeout_option
@pass_context
@handle_errors
def apply(
    ctx: Context,
    planfile: str | None,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    refresh: bool,
    auto_approve: bool,
    parallelism: int | None,
    as_json: bool,
    lock_timeout: float,
) -> None:
    """Start what is missing, wait for it, and record the outputs.

    With PLANFILE, apply exactly that saved plan (refused when stale); otherwise plan, show the plan
    and ask for `yes` (on a terminal) unless --auto-approve.

    Exits 1 on an error, when a run this apply tried failed, timed out or was skipped because a
    dependency failed (what completed is recorded all the same), or when the approval is declined.
    Failures recorded by an earlier apply and not retried stay warnings: they do not change the exit
    code.
    """
    # imported here, not with the module: the HTTP client, the apply engine, the models and the views,
    # which `reconciler --help` (it loads every command module to list them) does not need
    from reconciler.operations import apply as applying
    from reconciler.planning.planner import PlanOptions
    from reconciler.ui import plan_view
    from reconciler.ui.progress_view import JsonLines, ProgressView

    ui = ctx.ui
    if planfile:
        if variables or var_files or targets or replace:
            raise UserError("a saved plan carries its own variables and options: give none with PLANFILE")
        request = applying.saved_request(planfile, refresh, parallelism, lock_timeout)
    elif not auto_approve and (as_json or not sys.stdin.isatty()):
        raise UserError("apply needs --auto-approve (or a saved plan) when it cannot ask on a terminal")
    else:
        request = applying.ApplyRequest(
            inputs_from(variables, var_files),
            PlanOptions(targets, replace),
            refresh=refresh,
            parallelism=parallelism,
            lock_timeout=lock_timeout,
        )
    request.starting = enable_collector
    project = ctx.project()
    total = 0

    def approve(plan: Plan) -> bool:
        nonlocal total
        total = sum(1 for c in plan.changes if c.action.starts)
        if as_json:
            return True
        ui.lines(plan_view.plan_lines(plan))
        return auto_approve or _ask(ui)

    if as_json:
        lines = JsonLines(ui)
        applied = applying.apply(project, request, approve, lines)
        lines.summary(applied.report, applied.plan.summary())
    else:
        view = ProgressView(ui, total)
        with view:
            applied = applying.apply(project, request, _counting(view, approve), view)
        _finish(ui, applied)
    if _declined(applied) or (applied.report is not None and not applied.report.ok):
        sys.exit(1)


def _declined(applied: applying.Applied) -> bool:
    """Changes were planned and nothing was applied: the approval was declined (a saved plan and
    --json never ask)."""
    return applied.report is None and applied.plan.has_changes


def _counting(view: ProgressView, approve: applying.Approve) -> applying.Approve:
    def wrapped(plan: Plan) -> bool:
        view.total = sum(1 for c in plan.changes if c.action.starts)
        approved = approve(plan)
        if approved:
            view.start()
        return approved

    return wrapped


def _finish(ui: Ui, applied: applying.Applied) -> None:
    from reconciler.ui import plan_view
    from reconciler.ui.console import escape
    from reconciler.ui.progress_view import summary_lines

    if applied.report is None:
        if _declined(applied):
            ui.line("Apply cancelled: nothing was started.")
        else:
            ui.line(plan_view.summary_line(applied.plan))
        return
    ui.line("")
    for line in summary_lines(applied.report):
        ui.line(line)
    for move in applied.plan.moves:  # renamed in the state before anything started (spec.movedFrom)
        ui.line(f"  moved: {escape(move.old)} -> {escape(move.new)} (the record, nothing started for it)")
    if applied.report.interrupted:
        ui.line("Interrupted: what was started is recorded; the next apply waits for it.")


def _ask(ui: Ui) -> bool:
    ui.line("\n[bold]Do you want to perform these actions?[/] Only 'yes' will be accepted.")
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


@click.command()
@common_options
@lock_timeout_option
@json_option
@pass_context
@handle_errors
def refresh(ctx: Context, lock_timeout: float, as_json: bool) -> None:
    """Update recorded executions from the server (state, end date, outputs) and re-read the workflow
    definitions that validate and plan --no-refresh check against. Starts nothing."""
    from reconciler.operations import apply as applying  # the HTTP client: not loaded with the module

    changed = applying.refresh(ctx.project(), lock_timeout)
    if as_json:
        ctx.ui.raw(json.dumps({"changed": {n: record_document(r) for n, r in sorted(changed.items())}}, indent=2))
        return
    for name, record in sorted(changed.items()):
        state = record.execution.state if record.execution else "?"
        ctx.ui.line(f"{name}: {state}")
    ctx.ui.line(f"Refreshed: {len(changed)} record(s) changed.")


@click.command("import")
@common_options
@click.argument("run")
@click.argument("execution_id")
@var_options
@lock_timeout_option
@json_option
@pass_context
@handle_errors
def import_(
    ctx: Context,
    run: str,
    execution_id: str,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Adopt EXECUTION_ID, which already exists on the server, as the record of declared run RUN."""
    from reconciler.operations import apply as applying  # the HTTP client: not loaded with the module

    record = applying.import_execution(
        ctx.project(), inputs_from(variables, var_files), run, execution_id, lock_timeout
    )
    if as_json:
        ctx.ui.raw(json.dumps({"run": run, "record": record_document(record)}, indent=2))
        return
    state = record.execution.state if record.execution else "?"
    same = not record.key.startswith("imported:")
    note = "its inputs match the manifest" if same else "its inputs differ from the manifest: the next plan re-runs it"
    ctx.ui.line(f"Imported {execution_id} as {run} ({state}); {note}.")
