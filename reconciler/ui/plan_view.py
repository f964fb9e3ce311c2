"""The plan for people: Terraform-style text, and a Markdown text for pull-request comments.

Symbols: ``+`` start, ``-/+`` re-run (a new execution replaces the recorded one), ``+~`` retry,
``<=`` await (wait and read the outputs), ``-`` delete, ``!`` failed and not retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.markup import escape

from reconciler.planning.changes import Action, Change, Move, Plan
from reconciler.planning.checking import DefinitionChange
from reconciler.planning.diffs import display
from reconciler.planning.ordering import for_review

SYMBOLS = {
    Action.START: ("+", "green"),
    Action.RERUN: ("-/+", "yellow"),
    Action.RETRY: ("+~", "yellow"),
    Action.AWAIT: ("<=", "cyan"),
    Action.DELETE: ("-", "red"),
    Action.FAILED: ("!", "red"),
    Action.NOOP: (" ", "dim"),
}
VERBS = {
    Action.START: "will be started",
    Action.RERUN: "will be re-run",
    Action.RETRY: "will be retried",
    Action.AWAIT: "will be awaited",
    Action.DELETE: "will be deleted from the state",
    Action.FAILED: "failed and will not be retried",
}


def value_text(value: Any) -> str:
    """A value as one line: strings quoted, marks bare, the rest as compact JSON."""
    if isinstance(value, str) and value in ("(sensitive)", "(known after apply)"):
        return value
    return json.dumps(value, ensure_ascii=False)


def plan_lines(plan: Plan) -> list[str]:
    """Rich-markup lines of the whole plan (changes and failed runs, then the summary), grouped by
    action and alphabetical within each group (`for_review`). The header names actions: it is not
    printed over a plan with none (failed runs not retried are no action)."""
    plan = for_review(plan)
    shown = [c for c in plan.changes if c.action is not Action.NOOP]
    lines: list[str] = []
    if plan.has_changes:
        lines += ["reconciler will perform the following actions:", ""]
    lines += [line for move in plan.moves for line in (*move_lines(move), "")]
    for change in shown:
        lines += [*change_lines(change), ""]
    lines += unchanged_ignored_lines(plan)
    lines.append(summary_line(plan))
    return lines


def change_lines(change: Change) -> list[str]:
    symbol, colour = SYMBOLS[change.action]
    sym = escape(symbol)
    head = f"  [bold]# {escape(change.run)}[/] {VERBS[change.action]} [dim]({escape(change.reason)})[/]"
    lines = [head, f"  [{colour}]{sym}[/] run {escape(json.dumps(change.run))} {{"]
    lines.append(f"      workflow = {escape(json.dumps(change.workflow))}")
    if change.execution_id and change.action in (Action.AWAIT, Action.DELETE, Action.FAILED):
        lines.append(f"      execution = {escape(json.dumps(change.execution_id))} [dim]({change.execution_state})[/]")
    lines += _input_lines(change, colour)
    lines += _ignored_lines(change)
    lines.append("    }")
    return lines


def move_lines(move: Move) -> list[str]:
    """A renamed record (``spec.movedFrom``); the run's own change, if any, is shown on its own."""
    old, new = escape(json.dumps(move.old)), escape(json.dumps(move.new))
    return [
        f"  [bold]# {escape(move.old)}[/] has moved to [bold]{escape(move.new)}[/] [dim](movedFrom; nothing starts)[/]",
        f"  [cyan]->[/] run {old} -> run {new}",
    ]


def _ignored_lines(change: Change) -> list[str]:
    return [f"    [yellow]~[/] {escape(p.name)}: change ignored (ignoreChanges)" for p in change.ignored]


def unchanged_ignored_lines(plan: Plan) -> list[str]:
    """The runs left as they are although a parameter of their ``ignoreChanges`` changed."""
    lines: list[str] = []
    for change in plan.changes:
        if change.action is Action.NOOP and change.ignored:
            lines += [
                f"  [bold]# {escape(change.run)}[/] is unchanged [dim](ignoreChanges)[/]",
                *_ignored_lines(change),
                "",
            ]
    return lines


def _input_lines(change: Change, colour: str) -> list[str]:
    if change.action is Action.RERUN:
        lines = []
        for p in change.diff:
            mark = {"added": "[green]+[/]", "removed": "[red]-[/]", "changed": "[yellow]~[/]"}[p.kind]
            if p.kind == "added":
                text = value_text(p.after)
            elif p.kind == "removed":
                text = f"{value_text(p.before)} [dim]-> null[/]"
            else:
                text = f"{escape(value_text(p.before))} [dim]->[/] {escape(value_text(p.after))}"
                lines.append(f"    {mark} {escape(p.name)} = {text}")
                lines += [f"          [dim]{escape(d)}[/]" for d in p.details]
                continue
            lines.append(f"    {mark} {escape(p.name)} = {escape(text) if p.kind == 'added' else text}")
        return lines
    if change.action in (Action.START, Action.RETRY):
        width = max((len(n) for n in change.inputs), default=0)
        return [
            f"    [{colour}]+[/] {escape(n.ljust(width))} = {escape(value_text(display(i)))}"
            for n, i in change.inputs.items()
        ]
    return []


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    if not plan.has_changes:
        tail = f" {s['failed']} failed run(s) will not be retried." if s["failed"] else ""
        return f"[bold green]No changes.[/] The recorded runs match the manifests ({s['noop']} unchanged).{tail}"
    parts = (
        f"{s['start']} to start, {s['rerun']} to re-run, {s['retry']} to retry, {s['await']} to await, "
        f"{s['delete']} to delete" + (f", {s['moved']} to move" if s["moved"] else "")
    )
    extra = f", {s['noop']} unchanged" + (f", {s['failed']} failed" if s["failed"] else "")
    return f"[bold]Plan:[/] {parts}{extra}."


def markdown(plan: Plan) -> str:
    """The plan as compact Markdown for a pull-request comment (GitHub / GitLab flavoured), in the
    order of the text plan (`for_review`); failed runs not retried are listed with or without changes."""
    plan = for_review(plan)
    s = plan.summary()
    out = ["### reconciler plan", ""]
    if not plan.has_changes:
        tail = f" {s['failed']} failed run(s) will not be retried." if s["failed"] else ""
        out.append(f"No changes. {s['noop']} run(s) unchanged.{tail}")
        failed = [c for c in plan.changes if c.action is Action.FAILED]
        if failed:
            out += ["", "| run | action | reason |", "|---|---|---|"]
            out += [f"| `{c.run}` | **{c.action.value}** | {_md_cell(c.reason)} |" for c in failed]
        out += _ignored_markdown(plan)
        return "\n".join(out) + "\n"
    out += ["| run | action | reason |", "|---|---|---|"]
    out += [f"| `{m.new}` | **moved** | from `{m.old}`; nothing starts |" for m in plan.moves]
    for c in plan.changes:
        if c.action is not Action.NOOP:
            out.append(f"| `{c.run}` | **{c.action.value}** | {_md_cell(c.reason)} |")
    out += [
        "",
        f"**{s['start']}** to start, **{s['rerun']}** to re-run, **{s['retry']}** to retry, "
        f"**{s['await']}** to await, **{s['delete']}** to delete, "
        + (f"**{s['moved']}** to move, " if s["moved"] else "")
        + f"{s['noop']} unchanged"
        + (f", {s['failed']} failed." if s["failed"] else "."),
        "",
    ]
    details = [c for c in plan.changes if c.action is not Action.NOOP]
    out += ["<details><summary>Details</summary>", "", "```diff"]
    out += [f"  {m.old} -> {m.new} (moved: nothing starts)" for m in plan.moves]
    for c in details:
        symbol = SYMBOLS[c.action][0]
        out.append(f"{symbol} {c.run} ({c.action.value}: {c.reason})")
        for p in c.diff:
            if p.kind != "added":
                out.append(f"-     {p.name} = {value_text(p.before)}")
            if p.kind != "removed":
                out.append(f"+     {p.name} = {value_text(p.after)}")
        out += [f"~     {p.name}: change ignored (ignoreChanges)" for p in c.ignored]
    out += ["```", "", "</details>", *_ignored_markdown(plan), ""]
    return "\n".join(out)


def _ignored_markdown(plan: Plan) -> list[str]:
    """The unchanged runs' ignored changes (``ignoreChanges``): nothing re-runs for them."""
    notes = [
        f"- `{c.run}` ~ `{p.name}`: change ignored (ignoreChanges)"
        for c in plan.changes
        if c.action is Action.NOOP
        for p in c.ignored
    ]
    return ["", *notes] if notes else []


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def definition_change_lines(changes: Sequence[DefinitionChange]) -> list[str]:
    """Workflows whose definition changed on the server since it was last read, one block each."""
    if not changes:
        return []
    lines = ["Workflow definitions changed on the server since they were last read:", ""]
    for change in changes:
        label = f"{change.name} ({change.workflow_id})" if change.name else change.workflow_id
        used_by = ", ".join(change.runs[:10]) + (f" and {len(change.runs) - 10} more" if len(change.runs) > 10 else "")
        lines.append(f"  [bold]~ workflow {escape(json.dumps(label))}[/] [dim](used by {escape(used_by)})[/]")
        lines += [f"      {escape(text)}" for text in change.summaries()]
    return [*lines, ""]


def definitions_note(source: str | None, read_at: datetime | None, now: datetime) -> str | None:
    """Where the definitions the runs were checked against come from, when it is not the server now."""
    if source != "cache":
        return None
    if read_at is None:
        return "workflow definitions from cache"
    return f"workflow definitions from cache, read {age_text((now - read_at).total_seconds())}"


def age_text(seconds: float) -> str:
    """``just now``, ``42 s ago``, ``5 min ago``, ``3 h ago``, ``2 days ago``."""
    if seconds < 1:
        return "just now"
    for size, unit in ((86400, " days"), (3600, " h"), (60, " min")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count}{' day' if unit == ' days' and count == 1 else unit} ago"
    return f"{int(seconds)} s ago"


def definition_changes_markdown(changes: Sequence[DefinitionChange]) -> str:
    """The changed definitions for a pull-request comment (empty when none changed)."""
    if not changes:
        return ""
    out = ["**Workflow definitions changed on the server since they were last read:**", ""]
    for change in changes:
        label = f"{change.name} (`{change.workflow_id}`)" if change.name else f"`{change.workflow_id}`"
        out.append(f"- {_md_cell(label)}, used by {', '.join(f'`{r}`' for r in change.runs[:10])}")
        out += [f"  - {_md_cell(text)}" for text in change.summaries()]
    return "\n".join([*out, "", ""])
