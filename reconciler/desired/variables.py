"""Stack variables: declared in ``spec.variables``, set by defaults, the environment, var files, ``--var``.

Precedence, lowest first (Terraform's order): the declared ``default``; ``RECONCILER_VAR_<name>``
from the environment; the ``*.auto.vars.yaml`` files beside the stack file, in lexical order; each
``--var-file`` in the order given; each ``--var K=V``. The caller hands over the environment's
values (`environment_values`, only for declared names: the environment holds much else) and the
auto var files ahead of the ``--var-file`` files, in that order, as one sequence of sources.
Setting a variable the stack does not declare, in a file or with ``--var``, is an error (a typo
would otherwise be silently ignored).

A ``--var`` or environment value is text: it stays a string unless the variable declares
``type: number | boolean`` (parsed as such) or ``type: list | map`` (parsed as a YAML or JSON flow
value, e.g. ``--var 'zones=[a, b]'``); a variable of no declared type (``any``) takes text that
starts with ``[`` or ``{`` as such a flow value too. Var files and defaults are YAML, so their
values keep their YAML type (lists and maps included), and are checked against a declared type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from reconciler.errors import InvalidValueError, Problem, SourceLocation
from reconciler.manifest.models import StackConfig, Variable
from reconciler.manifest.parsing import Document, parse_documents, parse_value


@dataclass(frozen=True)
class Variables:
    """The resolved variables; ``known`` is False when the stack file could not be read."""

    declared: Mapping[str, Variable] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    known: bool = True

    def is_sensitive(self, name: str) -> bool:
        declared = self.declared.get(name)
        return declared is not None and declared.sensitive


ENVIRONMENT_PREFIX = "RECONCILER_VAR_"


class EnvironmentValue(NamedTuple):
    """A variable's value from ``RECONCILER_VAR_<name>``: text, typed as a ``--var`` is.

    A source among the var files (a pair, as a var file's (path, text) is), told apart by its class."""

    name: str
    text: str


def environment_values(declared: Iterable[str], environ: Mapping[str, str]) -> list[EnvironmentValue]:
    """The values the environment sets for the ``declared`` variables, in declaration order."""
    return [
        EnvironmentValue(name, environ[ENVIRONMENT_PREFIX + name])
        for name in declared
        if ENVIRONMENT_PREFIX + name in environ
    ]


def resolve_variables(
    stack: tuple[StackConfig, Document] | None,
    var_files: Sequence[tuple[str, str]],
    cli_values: Mapping[str, str],
    problems: list[Problem],
) -> Variables:
    """Every variable's value by precedence; problems for undeclared or mistyped values.

    ``var_files``: the sources between the defaults and ``--var``, lowest first: `EnvironmentValue`s,
    then (path, text) of the auto var files and of each ``--var-file``."""
    if stack is None:
        return Variables(known=False)
    config, document = stack
    declared = config.spec.variables
    values: dict[str, Any] = {}
    for name, variable in declared.items():
        if variable.has_default:
            where = partial(document.location, ("spec", "variables", name, "default"))
            _set(values, name, variable, variable.default, where, problems)
    for source in var_files:
        if isinstance(source, EnvironmentValue):
            _set_from_text(source.name, source.text, f"{ENVIRONMENT_PREFIX}{source.name}", declared, values, problems)
        else:
            _read_var_file(source[0], source[1], declared, values, problems)
    for name, text in cli_values.items():
        _set_from_text(name, text, f"--var {name}", declared, values, problems)
    return Variables(declared, values)


def _read_var_file(
    path: str, text: str, declared: Mapping[str, Variable], values: dict[str, Any], problems: list[Problem]
) -> None:
    documents = parse_documents(path, text, problems)
    if not documents:
        return
    document = documents[0]
    if len(documents) > 1 or not isinstance(document.data, dict):
        problems.append(Problem(document.location(), "a var file holds one mapping of name: value"))
        return
    for name, value in document.data.items():
        if name not in declared:
            where = document.location((name,), key=True)
            problems.append(Problem(where, _undeclared(name)))
            continue
        _set(values, name, declared[name], value, partial(document.location, (name,)), problems)


def _set_from_text(
    name: str, text: str, origin: str, declared: Mapping[str, Variable], values: dict[str, Any], problems: list[Problem]
) -> None:
    where = SourceLocation(origin)
    if name not in declared:
        problems.append(Problem(where, _undeclared(name)))
        return
    try:
        value = from_text(declared[name].type, text)
    except ValueError as exc:
        why = f"the value is not a valid {declared[name].type}" if declared[name].sensitive else str(exc)
        problems.append(Problem(where, f"variable {name!r}: {why}"))
        return
    _set(values, name, declared[name], value, partial(SourceLocation, where.file), problems)


def from_text(type_name: str, text: str) -> Any:
    """A ``--var`` text as a value of the declared variable type."""
    if type_name == "number":
        return parse_number(text)
    if type_name == "boolean":
        return parse_boolean(text)
    if type_name in ("list", "map"):
        return parse_value(text)
    if type_name == "any" and text.lstrip()[:1] in ("[", "{"):
        try:
            return parse_value(text)
        except InvalidValueError as exc:
            raise InvalidValueError(
                f"{exc} (text starting with [ or {{ is read as a list or map; "
                "declare the variable type: string to keep it as text)"
            ) from None
    return text


def parse_number(text: str) -> int | float:
    """``"8"`` -> 8, ``"1.5"`` -> 1.5; ValueError otherwise."""
    try:
        return int(text.strip())
    except ValueError:
        pass
    try:
        return float(text.strip())
    except ValueError:
        raise InvalidValueError(f"{text!r} is not a number") from None


def parse_boolean(text: str) -> bool:
    """``true``/``false`` (any case); ValueError otherwise."""
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidValueError(f"{text!r} is not a boolean: write true or false")
    return lowered == "true"


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}


def _set(
    values: dict[str, Any],
    name: str,
    variable: Variable,
    value: Any,
    where: Callable[[], SourceLocation],
    problems: list[Problem],
) -> None:
    if not _TYPE_CHECKS[variable.type](value):
        got = f"a {type(value).__name__}" if variable.sensitive else repr(value)  # a secret is never echoed
        problems.append(Problem(where(), f"variable {name!r} is declared type {variable.type}, got {got}"))
        return
    values[name] = value


def _undeclared(name: str) -> str:
    return f"variable {name!r} is not declared (declare it under spec.variables in the stack file)"
