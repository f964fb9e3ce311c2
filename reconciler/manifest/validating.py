"""Plain data of a located document -> a strict model, or problems that point into the file.

pydantic reports an error as a ``loc`` path; `Document.node_at` follows it through the node tree so
that the problem names the file, line and column: the *key* for an unknown field, the *value* for a
wrong type, the enclosing mapping for a missing field. The node tree is only walked when validation
fails, so a valid manifest costs one `model_validate`.

One leniency, lossless: where a string is expected and YAML read a plain number (``apiVersion:
37.1``, ``tier: 1``), the number's source text is taken, exactly as written. A boolean or a null
there stays an error (``name: true`` is more likely a mistake than a name).
"""

from __future__ import annotations

import copy
import functools
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import ScalarNode

from reconciler.errors import Problem, closest
from reconciler.manifest.models import MAX_NAME_LENGTH, RunName
from reconciler.manifest.parsing import FLOAT, INT, Document

M = TypeVar("M", bound=BaseModel)

NAME_RULE = "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO"})


def run_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a run, by the very rule of a manifest's ``metadata.name`` (`RunName`),
    for a name that comes from elsewhere (``state mv``); None when it can."""
    try:
        _run_name().validate_python(name)
    except ValidationError:
        return f"{name!r} is not a valid run name ({NAME_RULE}; at most {MAX_NAME_LENGTH} characters)"
    return None


@functools.cache
def _run_name() -> TypeAdapter[str]:
    return TypeAdapter(RunName)


def validate(
    document: Document,
    model: type[M],
    problems: list[Problem],
    *,
    data: Any = None,
    at: tuple[Any, ...] = (),
) -> M | None:
    """``data`` (the document's, by default), found at ``at``, as a ``model``; None after problems."""
    data = document.data if data is None else data
    try:
        found: M = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return found
    fixed = _numbers_as_text(document, data, at, errors)
    if fixed is not None:
        try:
            return model.model_validate(fixed)
        except ValidationError as exc:
            errors = exc.errors()
    problems.extend(_problem(document, model, at, error) for error in errors)
    return None


def _numbers_as_text(document: Document, data: Any, at: tuple[Any, ...], errors: list[ErrorDetails]) -> Any | None:
    """A copy of ``data`` with numbers replaced by their source text where strings were expected."""
    targets = []
    for error in errors:
        if error["type"] != "string_type" or not isinstance(error["input"], int | float):
            continue
        node = document.node_at(at + tuple(error["loc"]))
        if isinstance(node, ScalarNode) and node.tag in (INT, FLOAT) and not node.style:
            targets.append((tuple(error["loc"]), node.value))
    if not targets:
        return None
    fixed = copy.deepcopy(data)
    for loc, text in targets:
        parent = fixed
        for step in loc[:-1]:
            parent = parent[step]
        parent[loc[-1]] = text
    return fixed


def _problem(document: Document, model: type[BaseModel], at: tuple[Any, ...], error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    path = at + loc
    if kind == "extra_forbidden":
        return Problem(document.location(path, key=True), _unknown_field(model, loc))
    where = document.location(path)
    message = error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return Problem(where, f"missing required field {_dotted(loc)!r}")
    if kind == "literal_error" and loc and loc[-1] in ("kind", "apiVersion"):
        message = f"unknown {loc[-1]} {error['input']!r}: expected {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch" and loc[-2:] == ("metadata", "name"):
        message = f"{error['input']!r} is not a valid run name ({NAME_RULE})"
    return Problem(where, f"{_dotted(loc)}: {message}{_hint(kind, error['input'])}" if loc else message)


def _hint(kind: str, value: Any) -> str:
    if kind == "bool_type" and value in _YAML11_BOOLEANS:
        return f" ({value!r} is a string in YAML 1.2: write true or false)"
    if kind == "string_type" and (isinstance(value, bool) or value is None):
        return " (quote it to write a string)"
    return ""


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(step) for step in loc)


def _unknown_field(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    name = str(loc[-1])
    allowed = _fields_at(model, loc[:-1])
    if not allowed:
        return f"unknown field {name!r}"
    close = closest(name, allowed)
    hint = f"did you mean {close!r}? " if close else ""
    return f"unknown field {name!r} ({hint}expected one of: {', '.join(allowed)})"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The camelCase field names of the model found at ``loc`` below ``model``."""
    current: Any = model
    for step in loc:
        current = _model_in(current, step)
        if current is None:
            return []
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _model_in(current: Any, step: Any) -> Any:
    """The type one ``loc`` step below ``current`` (a model field, a dict value, a list item)."""
    if isinstance(current, type) and issubclass(current, BaseModel):
        by_alias = {info.alias or name: info.annotation for name, info in current.model_fields.items()}
        return _unwrap(by_alias.get(step))
    args = get_args(current)
    return _unwrap(args[-1]) if args else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> X; other annotations unchanged."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and type(None) in get_args(annotation):
        return args[0]
    return annotation
