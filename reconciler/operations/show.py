"""Read-only views of the state and the manifests: ``show``, ``output``, ``graph``."""

from __future__ import annotations

import json
from typing import Any

from reconciler.desired.runs import DesiredStack
from reconciler.errors import UserError
from reconciler.parameters import SENSITIVE_MARK
from reconciler.state.models import State


def outputs_of(state: State, selector: str | None) -> dict[str, dict[str, Any]]:
    """``{"RUN": {"PARAM": value}}`` for every run, one run, or one output (``RUN.PARAM``)."""
    run, _, param = (selector or "").partition(".")
    if run and run not in state.runs:
        # run names may contain dots: try the longest run name that prefixes the selector
        run, param = _split_dotted(state, selector or "")
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
