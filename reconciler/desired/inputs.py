"""One run's ``parameters`` -> typed `DesiredInput`s: shorthand or explicit form, secrets, type checks.

Shorthand infers the type from the value (string, number, boolean, a list of one scalar kind); a
shorthand that is an output reference is typed ``string`` (``type_inferred`` lets the planner take
the output's own type instead). A mapping is never shorthand: it is the explicit form when it has a
``type``, and an error otherwise (a ``Properties`` value must say so).

``valueFrom`` reads an environment variable or a file (through the caller's ``read_file``: this
package does no I/O); the text is the value of a string, SecureString or Date, is parsed for a
number or a boolean, and is read as YAML (JSON works too) for lists, Properties and SDK objects.
A file's one trailing newline is dropped. A SecureString written literally in a manifest is an error.

Fast path: most parameters are plain scalars without ``${`` (``vmName: web-01``, ``cpuCount: 2``).
Rendering such a value returns it unchanged and can fail on nothing, so `_shorthand` takes their type
from `_PLAIN_TYPES` (built with `infer_type` itself) and skips the render/inference walk; a large
stack has tens of thousands of them, so their `DesiredInput` is built directly, its sensitivity
known per Python type (`_PLAIN_SENSITIVE`) when no sensitive variable was rendered. The next most common value is one whole reference
(``owner: ${var.owner}``, ``network: ${runs.net.outputs.id}``): rendering it is resolving that one
reference (`resolve_reference`, which `render` calls too), and a plain scalar or `OutputRef` result
is typed from `_PLAIN_TYPES` as well; anything else it gives goes through the general typing.
`_general_shorthand` is the path every other value takes, and tests check that both give equal
inputs and problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from yaml.nodes import ScalarNode

from reconciler.desired.runs import DesiredInput, Interpolation, OutputRef, ParameterLocator, new_input
from reconciler.desired.templating import (
    Path,
    Scope,
    contains_failure,
    contains_output,
    new_use,
    render,
    resolve_reference,
)
from reconciler.desired.variables import parse_boolean, parse_number
from reconciler.errors import InvalidValueError
from reconciler.manifest.interpolation import Reference, parse_template
from reconciler.manifest.models import ExplicitParameter, ValueFrom
from reconciler.manifest.parsing import STR, parse_value
from reconciler.manifest.validating import validate
from reconciler.parameters import SCALAR_TYPES, ParamType, check_value, infer_type, is_valid_type


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


class Remembered(NamedTuple):
    """How a shorthand that is one whole reference resolved, for the next run that writes the same text.

    Kept only for what cannot differ between runs of one load: a ``${var.X}`` that gave an input
    without a problem or a sensitive variable, and a ``${runs.R.outputs.O}`` (``run`` is then R and
    ``source`` the text, for the `RunUse` each run records). ``${each...}`` depends on the run.
    """

    type: str
    value: Any
    sensitive: bool
    run: str | None
    source: str


def build_inputs(
    parameters: Mapping[str, Any],
    scope: Scope,
    sources: Sources,
    remembered: dict[str, Remembered] | None = None,
) -> dict[str, DesiredInput]:
    """The desired inputs of one run; problems go to ``scope.problems``.

    ``remembered`` (one per load, shared by its runs) holds whole-reference shorthands already
    resolved (`Remembered`): a large stack writes ``owner: ${var.owner}`` in every run and reads
    each upstream output from several runs. Plain scalars (`_PLAIN_TYPES`) and the plain explicit
    form (`_plain_explicit`) are built here directly, without the per-input call chain: all three
    give what `_shorthand` / `_explicit` give (tests/desired/test_fast_paths.py).
    """
    inputs: dict[str, DesiredInput] = {}
    if not parameters:
        return inputs
    locate = scope.parameter_locator()
    sensitive = scope.sensitive_variables
    for name, raw in parameters.items():
        if sensitive:
            sensitive.clear()
        kind = type(raw)
        if kind in _PLAIN_TYPES and (kind is not str or "${" not in raw):
            inputs[name] = new_input(_PLAIN_TYPES[kind], raw, _PLAIN_SENSITIVE[kind], None, locate, True, name)
            continue
        known = remembered.get(raw) if kind is str and remembered is not None else None
        if known is not None:
            if known.run is not None:
                scope.uses.append(new_use(known.run, scope.document, ("spec", "parameters", name), known.source, False))
            inputs[name] = new_input(known.type, known.value, known.sensitive, None, locate, True, name)
            continue
        built = _other_input(name, raw, scope, sources, remembered, locate)
        if built is not None:
            inputs[name] = built
    return inputs


def _other_input(
    name: str,
    raw: Any,
    scope: Scope,
    sources: Sources,
    remembered: dict[str, Remembered] | None,
    locate: ParameterLocator,
) -> DesiredInput | None:
    """A parameter the loop of `build_inputs` did not build directly: `_explicit` or `_shorthand`."""
    path = ("spec", "parameters", name)
    if isinstance(raw, dict):
        built = _plain_explicit(name, raw, locate) if type(raw) is dict else None
        return built if built is not None else _explicit(name, raw, path, scope, sources)
    if remembered is None or type(raw) is not str:
        return _shorthand(name, raw, path, scope)
    reported = len(scope.problems)
    built = _shorthand(name, raw, path, scope)
    if built is not None and len(scope.problems) == reported and not scope.sensitive_variables:
        _remember(raw, built, remembered)
    return built


def _remember(raw: str, built: DesiredInput, remembered: dict[str, Remembered]) -> None:
    """Keep how ``raw`` resolved when it is one whole ``var`` or ``runs`` reference (`Remembered`)."""
    parts, errors = parse_template(raw)
    if errors or len(parts) != 1 or type(parts[0]) is not Reference or built.source is not None:
        return
    reference = parts[0]
    if reference.kind == "var":
        remembered[raw] = Remembered(built.type, built.value, built.sensitive, None, "")
    elif reference.kind == "runs":
        remembered[raw] = Remembered(built.type, built.value, built.sensitive, reference.name, reference.source)


# The explicit types whose plain value `_plain_explicit` takes: valid scalar types that are not secrets.
_PLAIN_EXPLICIT_TYPES = frozenset(t for t in SCALAR_TYPES if is_valid_type(t) and not ParamType(t).is_sensitive)


def _plain_explicit(name: str, raw: dict[str, Any], locate: ParameterLocator) -> DesiredInput | None:
    """``{type: string, value: 10.0.0.0/24}`` with a plain scalar of a non-secret type, or None.

    Such a mapping is always a valid `ExplicitParameter` and its value renders to itself, so what
    `_explicit` does reduces to `check_value`; anything else (None) takes `_explicit`.
    """
    if len(raw) != 2 or "value" not in raw:
        return None
    type_name = raw.get("type")
    if type(type_name) is not str or type_name not in _PLAIN_EXPLICIT_TYPES:
        return None
    value = raw["value"]
    kind = type(value)
    if kind not in _PLAIN_TYPES or (kind is str and "${" in value) or check_value(type_name, value) is not None:
        return None
    return new_input(type_name, value, False, None, locate, False, name)


@lru_cache(maxsize=1024)
def _is_sensitive_type(type_name: str) -> bool:
    """`ParamType.is_sensitive` of a type name (remembered: a stack uses a handful of types)."""
    return ParamType(type_name).is_sensitive


# The type `infer_type` gives each plain scalar type (the fast path of `_shorthand`).
_PLAIN_TYPES: dict[type, str] = {kind: str(infer_type(kind())) for kind in (str, int, float, bool)}


# Whether each of those types is sensitive (`_is_sensitive_type`, what `_input` asks).
_PLAIN_SENSITIVE: dict[type, bool] = {kind: _is_sensitive_type(type_name) for kind, type_name in _PLAIN_TYPES.items()}


def _shorthand(name: str, raw: Any, path: Path, scope: Scope) -> DesiredInput | None:
    kind = type(raw)
    if kind in _PLAIN_TYPES:
        if not (kind is str and "${" in raw):
            if not scope.sensitive_variables:  # as `build_inputs` leaves it: `_input` with its answers known
                type_name = _PLAIN_TYPES[kind]
                locate = scope.parameter_locator()
                return DesiredInput(type_name, raw, _PLAIN_SENSITIVE[kind], None, locate, True, path[2])
            return _input(_PLAIN_TYPES[kind], raw, path, scope, inferred=True)
        if kind is str:
            parts, errors = parse_template(raw)
            if not errors and len(parts) == 1 and type(parts[0]) is Reference:
                value = resolve_reference(parts[0], scope, path, True)
                found = type(value)
                if found is OutputRef:
                    return _input(_PLAIN_TYPES[str], value, path, scope, inferred=True)
                if found in _PLAIN_TYPES:
                    return _input(_PLAIN_TYPES[found], value, path, scope, inferred=True)
                return _typed_shorthand(name, value, path, scope)
    return _general_shorthand(name, raw, path, scope)


def _general_shorthand(name: str, raw: Any, path: Path, scope: Scope) -> DesiredInput | None:
    if raw is None:
        scope.problem(path, "", f"parameter {name!r} has no value", key=True)
        return None
    return _typed_shorthand(name, render(raw, scope, path), path, scope)


def _typed_shorthand(name: str, value: Any, path: Path, scope: Scope) -> DesiredInput | None:
    """A rendered shorthand value as an input typed by `infer_type`, or None with a problem."""
    if contains_failure(value):
        return None
    type_name = infer_type(_for_inference(value))
    if type_name is None:
        hint = "a list of one kind of scalar" if isinstance(value, list) else "a string, number or boolean"
        scope.problem(
            path, "", f"parameter {name!r}: shorthand needs {hint}; use the explicit form {{type: ..., value: ...}}"
        )
        return None
    return _input(type_name, value, path, scope, inferred=True)


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
    value = render(raw, scope, path)
    if contains_failure(value):
        return None
    if ParamType(type_name).is_sensitive and not (contains_output(value) or scope.sensitive_variables):
        scope.problem(
            path,
            "",
            f"parameter {name!r}: a literal secret in a manifest; use valueFrom: {{env: NAME}} or {{file: PATH}}",
        )
        return None
    if not contains_output(value):
        why = check_value(type_name, value)
        if why:
            scope.problem(path, "", f"parameter {name!r}: {why}{_quote_hint(type_name, scope, path)}")
            return None
    return _input(type_name, value, path, scope)


def _quote_hint(type_name: str, scope: Scope, path: Path) -> str:
    node = scope.document.node_at(path)
    if type_name in ("string", "Date") and isinstance(node, ScalarNode) and node.tag != STR:
        return f' (quote it to write a string: "{node.value}")'
    return ""


def _input(type_name: str, value: Any, path: Path, scope: Scope, *, inferred: bool = False) -> DesiredInput:
    sensitive_variable = scope.sensitive_variables[0] if scope.sensitive_variables else None
    return DesiredInput(
        type=type_name,
        value=value,
        sensitive=_is_sensitive_type(type_name) or sensitive_variable is not None,
        source=f"var:{sensitive_variable}" if sensitive_variable else None,
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
