"""The state, outputs and saved plans for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.markup import escape

from reconciler.parameters import SENSITIVE_MARK
from reconciler.state.models import State
from reconciler.ui.plan_view import value_text

STATE_COLOURS = {"completed": "green", "failed": "red", "canceled": "red", "unknown": "yellow"}


def state_lines(state: State, exists: bool) -> list[str]:
    if not exists:
        return ["No state yet: nothing has been applied."]
    lines = [f"[dim]lineage {state.lineage}, serial {state.serial}, {len(state.runs)} run(s)[/]", ""]
    for name, record in sorted(state.runs.items()):
        execution = record.execution
        status = execution.state if execution else ("starting" if record.pending else "none")
        colour = STATE_COLOURS.get(status, "cyan")
        lines.append(f"[bold]{escape(name)}[/]  [{colour}]{escape(status)}[/]")
        lines.append(f"    workflow  = {escape(record.workflow)}")
        if execution:
            lines.append(
                f"    execution = {escape(execution.id)} (started {execution.start_date or '?'}"
                f" by {execution.started_by or '?'}, ended {execution.end_date or '-'})"
            )
            if execution.error:
                lines.append(f"    error     = {escape(execution.error)}")
        lines.append(f"    attempts  = {record.attempts}, revision = {record.revision}")
        for out_name, value in sorted(_outputs(record.outputs, record.sensitive_outputs).items()):
            lines.append(f"    [green]>[/] {escape(out_name)} = {escape(value_text(value))}")
        lines.append("")
    return lines


def _outputs(outputs: Mapping[str, Any], sensitive: list[str]) -> dict[str, Any]:
    return {**outputs, **dict.fromkeys(sensitive, SENSITIVE_MARK)}


def output_lines(values: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not any(values.values()):
        return ["No outputs recorded."]
    return [
        f"{escape(run)}.{escape(name)} = {escape(value_text(value))}"
        for run, outs in values.items()
        for name, value in outs.items()
    ]
