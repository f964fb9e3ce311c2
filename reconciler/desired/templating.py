"""Substituting ``${...}`` references in manifest values, in one pass over a plain value tree.

What can be known now is substituted now: variables and ``each.key``/``each.value``. Run outputs
cannot (they exist only after apply), so they become `OutputRef` leaves (a whole-string reference,
which keeps the output's type) or `Interpolation` leaves (text around references). A whole-string
``${var.X}`` or ``${each.value}`` likewise keeps its value's type: ``cpu: ${var.cpus}`` is a number
when the variable is one, and ``${each.value}`` may be a whole mapping (``${each.value.cpu}`` one of
its fields). A run name built from references (``${runs.web-${each.key}.outputs.ip}``) is resolved
here, per run, into the concrete name the graph then checks.

Every run reference is recorded as a `RunUse`, so that the graph adds the edge and can say where it
was written if the run does not exist or closes a cycle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.runs import Interpolation, OutputRef, ParameterLocator
from reconciler.desired.variables import Variables
from reconciler.errors import Problem, SourceLocation
from reconciler.manifest.interpolation import Reference, parse_template
from reconciler.manifest.parsing import Document
from reconciler.manifest.validating import run_name_problem

Path = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RunUse:
    """A reference to a run (an output reference or a ``dependsOn`` item) and where it is written."""

    run: str
    document: Document
    path: Path
    source: str = ""
    depends_on: bool = False  # a dependsOn item (may name a whole forEach) rather than an output reference
    built: bool = False  # the run's name was built from references (``${runs.web-${each.key}.outputs.ip}``)

    def location(self) -> SourceLocation:
        return self.document.text_location(self.path, self.source)


class _Failed:
    """Stands in for a reference that could not be resolved (a problem is already reported)."""


FAILED = _Failed()


@dataclass(slots=True)
class Scope:
    """What references can see while rendering one run's values, and what the rendering found."""

    variables: Variables
    document: Document
    problems: list[Problem]
    each: tuple[str, Any] | None = None
    uses: list[RunUse] = field(default_factory=list)
    _parameter_locator: ParameterLocator | None = None

    def parameter_locator(self) -> ParameterLocator:
        """Where a parameter of this run is written, by name: made once, shared by the run's inputs."""
        if self._parameter_locator is None:
            self._parameter_locator = _ParameterLocator(self.document)
        return self._parameter_locator

    def problem(self, path: Path, source: str, message: str, *, key: bool = False) -> None:
        """A problem at the ``source`` text in the value at ``path`` (or at its key when ``key``)."""
        where = self.document.location(path, key=True) if key else self.document.text_location(path, source)
        self.problems.append(Problem(where, message))


@dataclass(frozen=True, slots=True)
class _ParameterLocator:
    """A `ParameterLocator` of one document's run (one small object per run, kept by its inputs)."""

    document: Document

    def __call__(self, name: str, text: str = "") -> SourceLocation:
        return _parameter_location(self.document, name, text)


def _parameter_location(document: Document, name: str, text: str = "") -> SourceLocation:
    """The parameter's key; with ``text``, where that text first appears within the parameter's value."""
    path = ("spec", "parameters", name)
    if text:
        node = document.node_at(path)
        lines = document.lines
        for line in range(node.start_mark.line, min(node.end_mark.line, len(lines) - 1) + 1):
            column = lines[line].find(text, node.start_mark.column if line == node.start_mark.line else 0)
            if column >= 0:
                return SourceLocation(document.file, line + 1, column + 1)
    return document.location(path, key=True)


def render(value: Any, scope: Scope, path: Path, *, runs_allowed: bool = True) -> Any:
    """``value`` with references substituted (recursively through lists and mapping values)."""
    return _render(value, scope, path, runs_allowed, [])


def render_input(value: Any, scope: Scope, path: Path) -> tuple[Any, str | None]:
    """`render` for a parameter's value, and the first sensitive variable it read (None: none read).

    A value rendered from a sensitive variable is a secret, whatever its declared type."""
    secrets: list[str] = []
    rendered = _render(value, scope, path, True, secrets)
    return rendered, secrets[0] if secrets else None


def _render(value: Any, scope: Scope, path: Path, runs_allowed: bool, secrets: list[str]) -> Any:
    """`render`; the sensitive variables read are appended to ``secrets``."""
    if isinstance(value, str):
        return _render_text(value, scope, path, runs_allowed, secrets)
    if isinstance(value, list):
        return [_render(item, scope, (*path, i), runs_allowed, secrets) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: _render(v, scope, (*path, k), runs_allowed, secrets) for k, v in value.items()}
    return value


def contains_failure(value: Any) -> bool:
    """Whether a rendered value holds an unresolved reference (already reported)."""
    if value is FAILED:
        return True
    if isinstance(value, list):
        return any(contains_failure(v) for v in value)
    if isinstance(value, dict):
        return any(contains_failure(v) for v in value.values())
    return False


def contains_output(value: Any) -> bool:
    """Whether a rendered value depends on another run's outputs (so it is checked only later)."""
    if isinstance(value, OutputRef | Interpolation):
        return True
    if isinstance(value, list):
        return any(contains_output(v) for v in value)
    if isinstance(value, dict):
        return any(contains_output(v) for v in value.values())
    return False


def _render_text(text: str, scope: Scope, path: Path, runs_allowed: bool, secrets: list[str]) -> Any:
    if "${" not in text:
        return text
    parts, errors = parse_template(text)
    for error in errors:
        scope.problem(path, error.source, error.message)
    if errors:
        return FAILED
    if len(parts) == 1:
        part = parts[0]
        return part if isinstance(part, str) else _reference(part, scope, path, runs_allowed, secrets)
    return _join(
        [p if isinstance(p, str) else _reference(p, scope, path, runs_allowed, secrets) for p in parts], scope, path
    )


def _join(pieces: list[Any], scope: Scope, path: Path) -> Any:
    joined: list[str | OutputRef] = []
    for piece in pieces:
        if piece is FAILED:
            return FAILED
        if isinstance(piece, OutputRef):
            joined.append(piece)
        elif isinstance(piece, list | dict):
            scope.problem(path, "", "a list or mapping can only be used as a whole value, not inside a string")
            return FAILED
        else:
            text = piece if isinstance(piece, str) else json.dumps(piece)
            if joined and isinstance(joined[-1], str):
                joined[-1] += text
            else:
                joined.append(text)
    if len(joined) == 1 and isinstance(joined[0], str):
        return joined[0]
    return Interpolation(tuple(joined))


def _reference(reference: Reference, scope: Scope, path: Path, runs_allowed: bool, secrets: list[str]) -> Any:
    """The value of one ``${...}`` (FAILED, with a problem reported, when it has none)."""
    if reference.kind == "var":
        return _variable(reference, scope, path, secrets)
    if reference.kind == "each":
        if scope.each is None:
            scope.problem(path, reference.source, f"{reference.source} is only available in a run with forEach")
            return FAILED
        if reference.name == "key":
            return scope.each[0]
        return _field(scope.each[1], reference, scope, path) if reference.fields else scope.each[1]
    if not runs_allowed:
        scope.problem(path, reference.source, f"{reference.source}: run outputs cannot be used here")
        return FAILED
    name = _built_name(reference, scope, path, secrets) if reference.name_parts else reference.name
    if name is None:
        return FAILED
    scope.uses.append(RunUse(name, scope.document, path, reference.source, built=bool(reference.name_parts)))
    return OutputRef(name, reference.output)


def _field(value: Any, reference: Reference, scope: Scope, path: Path) -> Any:
    """``${each.value.a.b}``: field ``a`` of ``each.value``, then its field ``b`` (a number indexes a list)."""
    walked = "each.value"
    for name in reference.fields:
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            scope.problem(path, reference.source, f"{reference.source}: {_no_field(walked, value, name)}")
            return FAILED
        walked += f".{name}"
    return value


def _no_field(walked: str, value: Any, name: str) -> str:
    if isinstance(value, dict):
        known = ", ".join(sorted(map(str, value))) or "none"
        return f"{walked} has no field {name!r} (its fields: {known})"
    if isinstance(value, list):
        return f"{walked} is a list of {len(value)} items: {name!r} is not an index of it"
    return f"{walked} is {json.dumps(value)}, not a mapping: it has no field {name!r}"


def _built_name(reference: Reference, scope: Scope, path: Path, secrets: list[str]) -> str | None:
    """The run name of ``${runs.web-${each.key}.outputs.ip}`` for this run (None: a problem is reported)."""
    pieces: list[str] = []
    for part in reference.name_parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        value = _reference(part, scope, path, False, secrets)
        if value is FAILED:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            scope.problem(path, reference.source, f"{reference.source}: {part.source} is not a string or a number")
            return None
        pieces.append(value if isinstance(value, str) else json.dumps(value))
    name = "".join(pieces)
    if run_name_problem(name) is not None:
        scope.problem(
            path, reference.source, f"{reference.source} names the run {name!r}, which is not a valid run name"
        )
        return None
    return name


def _variable(reference: Reference, scope: Scope, path: Path, secrets: list[str]) -> Any:
    variables, name = scope.variables, reference.name
    if not variables.known:
        return FAILED  # the stack file has problems of its own; do not add noise
    if name not in variables.declared:
        scope.problem(path, reference.source, f"undeclared variable {name!r} (declare it under spec.variables)")
        return FAILED
    if name not in variables.values:
        message = f"variable {name!r} has no value: set it with --var {name}=... or a --var-file, or give it a default"
        scope.problem(path, reference.source, message)
        return FAILED
    if variables.is_sensitive(name):
        secrets.append(name)
    return variables.values[name]
