"""Read-only views of the state and the manifests: ``show``, ``output``, ``graph``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.desired.runs import DesiredStack
from reconciler.errors import UserError
from reconciler.parameters import SENSITIVE_MARK
from reconciler.state.models import State

if TYPE_CHECKING:
    from reconciler.operations.project import Project
    from reconciler.remote.executions import Execution as RemoteExecution


def parse_selector(state: State, selector: str | None) -> tuple[str, str]:
    """``(RUN, PARAM)`` of ``output``'s selector, each "" when not given (run names may contain dots)."""
    run, _, param = (selector or "").partition(".")
    if run and run not in state.runs:
        # run names may contain dots: try the longest run name that prefixes the selector
        run, param = _split_dotted(state, selector or "")
    return run, param


def outputs_of(state: State, selector: str | None) -> dict[str, dict[str, Any]]:
    """``{"RUN": {"PARAM": value}}`` for every run, one run, or one output (``RUN.PARAM``)."""
    run, param = parse_selector(state, selector)
    names = [run] if run else sorted(state.runs)
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        record = state.runs[name]
        values = dict(record.outputs)
        values.update(dict.fromkeys(record.sensitive_outputs, SENSITIVE_MARK))
        if param:
            if param not in values:
                known = ", ".join(sorted(values)) or "none"
                raise UserError(f"run {name!r} has no output {param!r} (it has: {known})")
            values = {param: values[param]}
        result[name] = dict(sorted(values.items()))
    return result


def _split_dotted(state: State, selector: str) -> tuple[str, str]:
    for name in sorted(state.runs, key=len, reverse=True):
        if selector == name or selector.startswith(name + "."):
            return name, selector[len(name) + 1 :]
    raise UserError(f"no run named {selector.partition('.')[0]!r} in the state")


def sensitive_among(state: State, values: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The ``(RUN, PARAM)`` of ``values`` that are sensitive outputs (shown as ``(sensitive)``: the state
    keeps only their names)."""
    return [(run, name) for run, outs in values.items() for name in outs if name in state.runs[run].sensitive_outputs]


def revealed(project: Project, state: State, values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``values`` with their sensitive outputs read from the server, from each run's recorded execution
    (``output --show-sensitive``); the server is contacted only when there is one."""
    wanted = sensitive_among(state, values)
    result = {run: dict(outs) for run, outs in values.items()}
    if not wanted:
        return result
    import asyncio

    executions = asyncio.run(_read_executions(project, state, sorted({run for run, _ in wanted})))
    for run, name in wanted:
        found = executions[run].outputs.get(name)
        if found is None:
            execution = executions[run].id
            raise UserError(f"the server no longer returns output {name!r} of run {run!r} (execution {execution})")
        result[run][name] = found[1]
    return result


async def _read_executions(project: Project, state: State, runs: list[str]) -> dict[str, RemoteExecution]:
    from reconciler.operations.endpoint import api_settings
    from reconciler.remote.client import WorkflowClient  # the HTTP client: only with --show-sensitive

    found: dict[str, RemoteExecution] = {}
    async with WorkflowClient(api_settings(project)) as client:
        for run in runs:
            record = state.runs[run]
            if record.execution is None:  # a record with sensitive outputs has its completed execution
                raise UserError(f"run {run!r} has no recorded execution to read its outputs from")
            found[run] = await client.get_execution(record.workflow, record.execution.id)
    return found


def raw_value(value: Any) -> str:
    """A value for ``output --raw``: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def state_document(state: State) -> dict[str, Any]:
    """The state as JSON for ``show --json`` (already free of secrets by construction)."""
    doc: dict[str, Any] = state.model_dump(mode="json", by_alias=True)
    doc.pop("salt", None)
    return doc


def dot_graph(desired: DesiredStack) -> str:
    lines = ["digraph reconciler {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for name in desired.order:
        run = desired.runs[name]
        lines.append(f'  "{name}" [label="{name}\\n{run.workflow[:13]}"];')
    for name in desired.order:
        for dep in sorted(desired.runs[name].depends_on):
            lines.append(f'  "{dep}" -> "{name}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
