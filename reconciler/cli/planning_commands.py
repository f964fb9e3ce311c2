"""validate, plan, show, output, graph, schema: commands that read and never start anything."""

from __future__ import annotations

import datetime as dt
import sys
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.common import (
    Context,
    Duration,
    F,
    common_options,
    handle_errors,
    inputs_from,
    json_option,
    json_text,
    pass_context,
    var_options,
)
from reconciler.errors import ManifestError, Problem, UserError

# Each command imports the operations and views it uses: `--help` imports this module to list the
# commands, and `schema` needs no planner, state or backend.
if TYPE_CHECKING:
    from reconciler.operations.plan import DefinitionsUsed

require_definitions_option = click.option(
    "--require-definitions",
    is_flag=True,
    help="A workflow whose definition cannot be had (not read, not cached) is an error, not a warning.",
)


@click.command()
@common_options
@var_options
@json_option
@require_definitions_option
@pass_context
@handle_errors
def validate(
    ctx: Context, variables: tuple[str, ...], var_files: tuple[str, ...], as_json: bool, require_definitions: bool
) -> None:
    """Check the stack file and manifests offline: schema, names, references, cycles, secrets.

    Every run is also checked against the workflow definitions last read from the server (kept by
    `apply` and `refresh`): unknown parameter names, values that do not fit the declared type,
    mandatory inputs left out, references to outputs the upstream workflow does not declare. The
    server is never contacted: the output says how old the definitions are, or that none was read
    yet (the checks are then skipped; --require-definitions makes that an error). Exit 1 with every
    problem, each as file:line:column."""
    from reconciler.operations.plan import check_definitions

    project = ctx.project()
    try:
        desired, unset = project.check(inputs_from(variables, var_files))
        used = check_definitions(project, desired, require=require_definitions)
    except ManifestError as err:
        if not as_json:
            raise
        ctx.ui.raw(json_text({"valid": False, "problems": [_problem(p) for p in err.problems]}))
        sys.exit(1)
    warnings = [f"environment variable {name} is not set: plan and apply will need it" for name in unset]
    files = len(project.manifest_files())
    if as_json:  # what the definitions checks skipped is under "definitions", as in `plan --json`
        document = {"valid": True, "runs": len(desired.runs), "files": files, "warnings": warnings}
        ctx.ui.raw(json_text({**document, "definitions": used.document()}))
        return
    for warning in warnings:
        ctx.ui.warn(warning)
    _report_definitions(ctx, used)
    ctx.ui.line(f"[green]Success![/] {len(desired.runs)} run(s) in {files} file(s) are valid.")


def _problem(problem: Problem) -> dict[str, Any]:
    where = problem.location
    return {"file": where.file, "line": where.line, "column": where.column, "message": problem.message}


def plan_options(func: F) -> F:
    func = click.option("--target", "targets", multiple=True, metavar="RUN", help="Only RUN and what it depends on.")(
        func
    )
    func = click.option("--replace", "replace", multiple=True, metavar="RUN", help="Force a new execution of RUN.")(
        func
    )
    func = click.option(
        "--refresh/--no-refresh",
        default=True,
        show_default=True,
        help=(
            "Read the workflow definitions and in-progress executions from the server first "
            "(plan --no-refresh never contacts it: the definitions come from the cache)."
        ),
    )(func)
    return var_options(func)


@click.command()
@common_options
@plan_options
@require_definitions_option
@click.option("--out", "out", metavar="FILE", help="Save the plan for `reconciler apply FILE`.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON document.")
@click.option("--markdown", is_flag=True, help="Print the plan as Markdown (for a pull-request comment).")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 with no changes, 1 on error (usage errors included), 2 with changes.",
)
@click.option(
    "--lock-timeout",
    type=Duration(),
    default=None,
    metavar="DURATION",
    help=(
        "Take the state lock while planning, waiting up to DURATION (e.g. 5m) for a writer such as a "
        "running apply to finish, so that the plan is made from the state it leaves (0s: fail at once "
        "if the state is locked). Without it, plan takes no lock: it reads the state as it is now."
    ),
)
@pass_context
@handle_errors
def plan(
    ctx: Context,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    refresh: bool,
    require_definitions: bool,
    out: str | None,
    as_json: bool,
    markdown: bool,
    detailed_exitcode: bool,
    lock_timeout: float | None,
) -> None:
    """Show what apply would do.

    The changes are listed grouped by action (moved, start, re-run, retry, await, delete, then the
    failed runs not retried), alphabetically within each group, in the text, --markdown and --json
    plans alike; the dependency order is what `reconciler graph` shows.

    Every run is first checked against its workflow's definition (the inputs and outputs the server
    declares): unknown parameter names, values that do not fit the declared type (a shorthand is
    checked against it: cpuCount: "4" against a number is an error), mandatory inputs left out,
    references to outputs the upstream run's workflow does not declare (a reference carries that
    output's type), and workflows that do not exist or are not available to you. Any problem fails
    the plan, exit 1, every problem listed with its file:line:column, before anything is started.

    With refresh (the default) the definitions are read from the server, once per workflow, and a
    definition that changed since it was last kept (by apply or refresh) is shown. With --no-refresh
    the kept definitions are used (the output says how old) and the server is never contacted. A workflow whose
    definition cannot be read is a warning and its runs go unchecked; --require-definitions makes it
    an error. --json adds "definitions": {source, read_at, warnings, changes}."""
    from reconciler.operations.plan import propose, save_plan
    from reconciler.planning.planner import PlanOptions
    from reconciler.ui import plan_view

    project = ctx.project()
    inputs = inputs_from(variables, var_files)
    # plan reads the state without a lock (a consistent snapshot); --lock-timeout waits for a writer first
    locked = nullcontext() if lock_timeout is None else project.backend().lock("plan", lock_timeout)
    with locked:
        planned = propose(
            project, inputs, PlanOptions(targets, replace), refresh=refresh, require_definitions=require_definitions
        )
    if out:
        save_plan(planned.plan, inputs, out)
    _report_definitions(ctx, planned.definitions)  # once the plan is saved: an error stays the one line
    if as_json:
        from reconciler.planning.rendering import plan_document  # only with --json

        document = {**plan_document(planned.plan), "definitions": planned.definitions.document()}
        ctx.ui.raw(json_text(document))
    elif markdown:
        ctx.ui.raw(
            plan_view.definition_changes_markdown(planned.definitions.changes) + plan_view.markdown(planned.plan)
        )
    else:
        ctx.ui.lines(plan_view.definition_change_lines(planned.definitions.changes))
        ctx.ui.lines(plan_view.plan_lines(planned.plan))
        if out:
            ctx.ui.line(f"\nSaved the plan to {out}. To perform exactly these actions: reconciler apply {out}")
    if detailed_exitcode and planned.plan.has_changes:
        sys.exit(2)


def _report_definitions(ctx: Context, used: DefinitionsUsed) -> None:
    """On stderr: the checks skipped, and where the definitions came from when not from the server now."""
    from reconciler.ui import plan_view
    from reconciler.ui.console import escape

    for warning in used.warnings:
        ctx.ui.warn(warning)
    note = plan_view.definitions_note(used.source, used.read_at, dt.datetime.now(dt.UTC))
    if note:
        ctx.ui.err.print(escape(note))


@click.command()
@common_options
@click.argument("planfile", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
@handle_errors
def show(ctx: Context, planfile: str | None, as_json: bool) -> None:
    """Show the state, or a saved plan.

    PLANFILE (written by `plan --out`) is printed in full, with its diffs, exactly as `plan` printed
    it (with --json, as `plan --json` printed its plan)."""
    # imported here, not at start-up: `plan` needs none of them
    from reconciler.operations import show as showing
    from reconciler.operations.project import read_text_file
    from reconciler.planning.saved import load as load_saved_plan
    from reconciler.planning.saved import shown_plan
    from reconciler.ui import plan_view, state_view

    if planfile:
        saved = load_saved_plan(read_text_file(planfile), planfile)
        if as_json:
            ctx.ui.raw(json_text(saved.document))
        else:
            ctx.ui.lines(plan_view.plan_lines(shown_plan(saved)))
        return
    state, exists = ctx.project().read_state()
    if as_json:
        ctx.ui.raw(json_text(showing.state_document(state) if exists else {}))
        return
    ctx.ui.lines(state_view.state_lines(state, exists))


@click.command()
@common_options
@click.argument("selector", required=False, metavar="[RUN[.PARAM]]")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"RUN": {"PARAM": value}} (with RUN or RUN.PARAM: only those); --raw prints one value alone.',
)
@click.option(
    "--raw",
    is_flag=True,
    help="Print one value bare (needs RUN.PARAM). A sensitive output is an error unless --show-sensitive.",
)
@click.option(
    "--show-sensitive",
    is_flag=True,
    help="Print sensitive outputs in clear, read from the server (the state keeps only their names).",
)
@pass_context
@handle_errors
def output(ctx: Context, selector: str | None, as_json: bool, raw: bool, show_sensitive: bool) -> None:
    """Show recorded outputs.

    Sensitive outputs (SecureString) are not kept in the state: they show as "(sensitive)". --raw on
    one of them exits 1 rather than print that mark where a script expects the value (TOKEN=$(...));
    with --show-sensitive the value is read from the run's execution on the server and printed."""
    # imported here, not at start-up: `plan` needs neither
    from reconciler.operations import show as showing
    from reconciler.ui import state_view

    project = ctx.project()
    state, _ = project.read_state()
    values = showing.outputs_of(state, selector)
    flat = [(run, name) for run, outs in values.items() for name in outs]
    if raw and len(flat) != 1:
        raise UserError("--raw prints one value: name it as RUN.PARAM")
    if show_sensitive:
        values = showing.revealed(project, state, values)
    elif raw and showing.sensitive_among(state, values):
        run, name = flat[0]
        raise UserError(
            f"output {run}.{name} is sensitive: the state keeps only its name, so --raw has no value to print. "
            "Add --show-sensitive to read it from the server and print it in clear."
        )
    if raw:
        run, name = flat[0]
        ctx.ui.raw(showing.raw_value(values[run][name]))
    elif as_json:  # SPEC 3: always {"RUN": {"PARAM": value}}, whatever the selector kept
        ctx.ui.raw(json_text(values))
    else:
        ctx.ui.lines(state_view.output_lines(values))


@click.command()
@common_options
@var_options
@pass_context
@handle_errors
def graph(ctx: Context, variables: tuple[str, ...], var_files: tuple[str, ...]) -> None:
    """Print the run dependency graph in DOT (pipe it to `dot -Tsvg`)."""
    from reconciler.operations import show as showing  # imported here, not at start-up: `plan` needs it not

    desired = ctx.project().load(inputs_from(variables, var_files))
    ctx.ui.raw(showing.dot_graph(desired))


@click.command()
@common_options
@pass_context
@handle_errors
def schema(ctx: Context) -> None:
    """Print the JSON Schema of the stack and manifest formats (for editors)."""
    from reconciler.manifest.schema import json_schema  # imported here, not at start-up: `plan` needs it not

    ctx.ui.raw(json_text(json_schema()))
