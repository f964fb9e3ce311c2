"""Resolving input templates against what upstream runs produced.

A template leaf `OutputRef` takes the referenced output's value (keeping its type); an
`Interpolation` renders to a string. When an upstream's outputs are not known yet (it will start,
re-run, retry or is still running) the whole input is `UNKNOWN`: the plan shows
``(known after apply)`` and apply resolves it once the upstream is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from reconciler.desired.runs import Interpolation, OutputRef
from reconciler.errors import MissingOutputError


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


# Given a run name: its outputs when known, or None when they will only be known after apply.
OutputLookup = Callable[[str], Mapping[str, Any] | None]


def resolve(template: Any, lookup: OutputLookup) -> Any:
    """The plain value of ``template``, or UNKNOWN if any referenced output is not known yet."""
    if isinstance(template, OutputRef):
        return _output(template, lookup)
    if isinstance(template, Interpolation):
        return _interpolate(template, lookup)
    if isinstance(template, list):
        items = [resolve(item, lookup) for item in template]
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    if isinstance(template, dict):
        pairs = {k: resolve(v, lookup) for k, v in template.items()}
        return UNKNOWN if any(v is UNKNOWN for v in pairs.values()) else pairs
    return template


def _output(ref: OutputRef, lookup: OutputLookup) -> Any:
    outputs = lookup(ref.run)
    if outputs is None:
        return UNKNOWN
    if ref.output not in outputs:
        raise MissingOutputError(ref.run, ref.output, sorted(outputs))
    return outputs[ref.output]


def _interpolate(template: Interpolation, lookup: OutputLookup) -> Any:
    parts: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            parts.append(part)
            continue
        value = _output(part, lookup)
        if value is UNKNOWN:
            return UNKNOWN
        parts.append(value if isinstance(value, str) else json.dumps(value))
    return "".join(parts)
