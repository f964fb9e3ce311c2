"""One run's ``parameters`` -> typed `DesiredInput`s: shorthand or explicit form, secrets, type checks.

Shorthand infers the type from the value (string, number, boolean, a list of one scalar kind); a
shorthand that is an output reference is typed ``string`` (``type_inferred`` lets the planner take
the output's own type instead). A mapping is never shorthand: it is the explicit form when it has a
``type``, and an error otherwise (a ``Properties`` value must say so).

``valueFrom`` reads an environment variable or a file (through the caller's ``read_file``: this
package does no I/O); the text is the value of a string, SecureString or Date, is parsed for a
number or a boolean, and is read as YAML (JSON works too) for lists, Properties and SDK objects.
A file's one trailing newline is dropped. A SecureString written literally in a manifest is an error.

Every parameter is built by the same steps (render, then type); a plain scalar without ``${``
renders to itself, so its type is read off it directly (the one shortcut, `_PLAIN_TYPES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import ScalarNode

from reconciler.desired.runs import DesiredInput, Interpolation, OutputRef
from reconciler.desired.templating import Path, Scope, contains_failure, contains_output, render, render_input
from reconciler.desired.variables import parse_boolean, parse_number
from reconciler.errors import InvalidValueError
from reconciler.manifest.models import ExplicitParameter, ValueFrom
from reconciler.manifest.parsing import STR, parse_value
from reconciler.manifest.validating import validate
from reconciler.parameters import ParamType, check_value, infer_type, is_sensitive_type, is_valid_type


@dataclass
class Sources:
    """Where ``valueFrom`` reads: the environment and the caller's file reader (cached per path)."""

    environ: Mapping[str, str]
    read_file: Callable[[str], str]
    _files: dict[str, str | OSError] = field(default_factory=dict)

    def file(self, path: str) -> str:
        if path not in self._files:
            try:
                self._files[path] = self.read_file(path)
            except OSError as exc:
                self._files[path] = exc
        found = self._files[path]
        if isinstance(found, OSError):
            raise found
        return found


def build_inputs(parameters: Mapping[str, Any], scope: Scope, sources: Sources) -> dict[str, DesiredInput]:
    """The desired inputs of one run; problems go to ``scope.problems``."""
    inputs: dict[str, DesiredInput] = {}
    for name, raw in parameters.items():
        path = ("spec", "parameters", name)
        if isinstance(raw, dict):
            built = _explicit(name, raw, path, scope, sources)
        else:
            built = _shorthand(name, raw, path, scope)
        if built is not None:
            inputs[name] = built
    return inputs


# The type `infer_type` gives each plain scalar type.
_PLAIN_TYPES: dict[type, str] = {kind: str(infer_type(kind())) for kind in (str, int, float, bool)}


def _shorthand(name: str, raw: Any, path: Path, scope: Scope) -> DesiredInput | None:
    kind = type(raw)
    if kind is float and not math.isfinite(raw):
        scope.problem(path, "", f"parameter {name!r}: {raw!r} is not a number a workflow can take (no NaN or infinity)")
        return None
    if kind in _PLAIN_TYPES and not (kind is str and "${" in raw):  # renders to itself: its type is its own
        return _input(_PLAIN_TYPES[kind], raw, None, path, scope, inferred=True)
    if raw is None:
        scope.problem(path, "", f"parameter {name!r} has no value", key=True)
        return None
    value, secret = render_input(raw, scope, path)
    if contains_failure(value):
        return None
    type_name = infer_type(_for_inference(value))
    if type_name is None:
        hint = "a list of one kind of scalar" if isinstance(value, list) else "a string, number or boolean"
        scope.problem(
            path, "", f"parameter {name!r}: shorthand needs {hint}; use the explicit form {{type: ..., value: ...}}"
        )
        return None
    return _input(type_name, value, secret, path, scope, inferred=True)


def _for_inference(value: Any) -> Any:
    if isinstance(value, OutputRef | Interpolation):
        return ""
    if isinstance(value, list):
        return [_for_inference(v) for v in value]
    return value


def _explicit(name: str, raw: dict[str, Any], path: Path, scope: Scope, sources: Sources) -> DesiredInput | None:
    if "type" not in raw:
        message = (
            f"parameter {name!r}: a mapping needs the explicit form {{type: ..., value: ...}} "
            f"(e.g. {{type: Properties, value: {{...}}}})"
        )
        scope.problem(path, "", message)
        return None
    explicit = validate(scope.document, ExplicitParameter, scope.problems, data=raw, at=path)
    if explicit is None:
        return None
    if not is_valid_type(explicit.type):
        scope.problem((*path, "type"), "", f"parameter {name!r}: unknown type {explicit.type!r} ({_TYPES_HINT})")
        return None
    if ("value" in raw) == (explicit.value_from is not None):
        scope.problem(path, "", f"parameter {name!r} needs exactly one of value or valueFrom")
        return None
    if explicit.value_from is not None:
        return _from_source(name, explicit.type, explicit.value_from, path, scope, sources)
    return _from_value(name, explicit.type, raw["value"], (*path, "value"), scope)


_TYPES_HINT = "expected string, number, boolean, Date, SecureString, Array/T, Properties or PLUGIN:Type"


def _from_value(name: str, type_name: str, raw: Any, path: Path, scope: Scope) -> DesiredInput | None:
    value, secret = render_input(raw, scope, path)
    if contains_failure(value):
        return None
    if ParamType(type_name).is_sensitive and not (contains_output(value) or secret):
        scope.problem(
            path,
            "",
            f"parameter {name!r}: a literal secret in a manifest; use valueFrom: {{env: NAME}} or {{file: PATH}}",
        )
        return None
    if not contains_output(value):
        why = check_value(type_name, value)
        if why and secret:  # the reason may quote the value: a secret is named, never shown
            why = f"the value of sensitive variable {secret!r} is not a valid {type_name}"
        if why:
            scope.problem(path, "", f"parameter {name!r}: {why}{_quote_hint(type_name, scope, path)}")
            return None
    return _input(type_name, value, secret, path, scope)


def _quote_hint(type_name: str, scope: Scope, path: Path) -> str:
    node = scope.document.node_at(path)
    if type_name in ("string", "Date") and isinstance(node, ScalarNode) and node.tag != STR:
        return f' (quote it to write a string: "{node.value}")'
    return ""


def _input(
    type_name: str, value: Any, secret: str | None, path: Path, scope: Scope, *, inferred: bool = False
) -> DesiredInput:
    """``secret``: the sensitive variable the value was rendered from, which makes it a secret."""
    return DesiredInput(
        type=type_name,
        value=value,
        sensitive=is_sensitive_type(type_name) or secret is not None,
        source=f"var:{secret}" if secret else None,
        locate=scope.parameter_locator(),
        type_inferred=inferred,
        name=path[2],
    )


def _from_source(
    name: str, type_name: str, value_from: ValueFrom, path: Path, scope: Scope, sources: Sources
) -> DesiredInput | None:
    kind = "env" if value_from.env is not None else "file"
    at = (*path, "valueFrom", kind)
    where = render(value_from.env or value_from.file, scope, at, runs_allowed=False)
    if not isinstance(where, str):
        if not contains_failure(where):
            scope.problem(at, "", f"parameter {name!r}: valueFrom.{kind} must be a string")
        return None
    text = _read_source(name, kind, where, at, scope, sources)
    if text is None:
        return None
    try:
        value = _typed(type_name, text)
    except ValueError as exc:
        scope.problem(at, "", f"parameter {name!r}: the value from {kind} {where!r}: {exc}")
        return None
    return DesiredInput(
        type=type_name,
        value=value,
        sensitive=ParamType(type_name).is_sensitive,
        source=f"{kind}:{where}",
        locate=scope.parameter_locator(),
        name=path[2],
    )


def _read_source(name: str, kind: str, where: str, at: Path, scope: Scope, sources: Sources) -> str | None:
    if kind == "env":
        text = sources.environ.get(where)
        if text is None:
            scope.problem(at, "", f"parameter {name!r}: environment variable {where!r} is not set")
        return text
    try:
        text = sources.file(where)
    except OSError as exc:
        scope.problem(at, "", f"parameter {name!r}: cannot read file {where!r}: {exc.strerror or exc}")
        return None
    return text.removesuffix("\n").removesuffix("\r")


def _typed(type_name: str, text: str) -> Any:
    if type_name in ("string", "SecureString", "Date"):
        value: Any = text
    elif type_name == "number":
        value = parse_number(text)
    elif type_name == "boolean":
        value = parse_boolean(text)
    else:
        value = parse_value(text)
    why = check_value(type_name, value)
    if why:
        raise InvalidValueError(why)
    return value
