"""The ``${...}`` reference syntax of manifest strings, parsed once into literal parts and references.

Four references exist: ``${var.NAME}``, ``${runs.RUN.outputs.PARAM}``, ``${each.key}`` and
``${each.value}`` (with fields: ``${each.value.disk.size}``, a number indexing a list); ``$${``
writes a literal ``${``. A run's name may be built from ``each`` and ``var`` references
(``${runs.web-${each.key}.outputs.ip}``): the reference then carries the name's parts, resolved per
run by `reconciler.desired.templating`. Anything else between ``${`` and ``}`` is an
error (a typo must not become a literal string sent to a workflow). Parsing is separate from
substitution (`reconciler.desired.templating`) so that both the desired runs and the schema checks
read one grammar. Strings without ``${`` take a fast path: most values never reach the regex.

Parsed templates are remembered per text (in memory, for this process): manifests repeat the same
reference thousands of times (``owner: ${var.owner}`` in every run, one upstream's output read by
its ten downstreams), and parsing is a pure function of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NAME_PATTERN = r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?"
VARIABLE_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]*"

_VAR = re.compile(rf"var\.({VARIABLE_PATTERN})")
_RUN = re.compile(rf"runs\.({NAME_PATTERN})\.outputs\.([^.\s{{}}$]+)")
_EACH = re.compile(r"each\.(?:(key)|(value)((?:\.[A-Za-z0-9_-]+)*))")
# A run reference whose name is built from references: the name's text keeps its ``${...}``.
_BUILT_RUN = re.compile(r"runs\.(.+)\.outputs\.([^.\s{}$]+)", re.DOTALL)
_NAME_TEXT = re.compile(r"[a-z0-9.-]*")

RefKind = Literal["var", "runs", "each"]


@dataclass(frozen=True)
class Reference:
    """One ``${...}``: ``name`` is the variable, the run, or ``key``/``value`` for ``each``."""

    kind: RefKind
    name: str
    output: str = ""  # for kind "runs"
    source: str = ""  # as written, e.g. "${var.owner}"
    offset: int = 0  # where it starts in the string
    fields: tuple[str, ...] = ()  # for ``each.value.a.b``: ("a", "b")
    name_parts: tuple[Part, ...] = ()  # for a run name built from references: its literal parts and references


@dataclass(frozen=True)
class TemplateError:
    """A malformed reference: what was written, where in the string, and why."""

    source: str
    offset: int
    message: str


Part = str | Reference


def parse_template(text: str) -> tuple[tuple[Part, ...], list[TemplateError]]:
    """The parts of ``text`` (adjacent literals joined), and its malformed references."""
    if "${" not in text:
        return (text,), []
    found = _PARSED.get(text)
    if found is None:
        found = _parse(text)
        if len(_PARSED) < _PARSED_MAX:
            _PARSED[text] = found
    return found[0], list(found[1])


_PARSED: dict[str, tuple[tuple[Part, ...], tuple[TemplateError, ...]]] = {}
_PARSED_MAX = 100_000


def _parse(text: str) -> tuple[tuple[Part, ...], tuple[TemplateError, ...]]:
    parts: list[Part] = []
    errors: list[TemplateError] = []
    literal: list[str] = []
    position = 0
    while (found := _OPEN.search(text, position)) is not None:
        literal.append(text[position : found.start()])
        if found.group(0) == "$${":
            literal.append("${")
            position = found.end()
            continue
        end = _closing(text, found.end())
        source = text[found.start() : end + 1] if end >= 0 else text[found.start() :]
        position = end + 1 if end >= 0 else len(text)
        reference = _reference(source, found.start(), end >= 0, errors)
        if reference is None:
            literal.append(source)
            continue
        _flush(literal, parts)
        parts.append(reference)
    literal.append(text[position:])
    _flush(literal, parts)
    return tuple(parts) or ("",), tuple(errors)


_OPEN = re.compile(r"\$\$\{|\$\{")


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` that closes the ``${`` before ``start`` (nested ``${...}`` skipped); -1: none."""
    close = text.find("}", start)
    if text.find("${", start, close if close >= 0 else len(text)) < 0:
        return close  # no nested reference (nearly always): the first '}'
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if not depth:
                return index
        index += 1
    return -1


def _flush(literal: list[str], parts: list[Part]) -> None:
    joined = "".join(literal)
    literal.clear()
    if joined:
        parts.append(joined)


def _reference(source: str, offset: int, closed: bool, errors: list[TemplateError]) -> Reference | None:
    if not closed:
        errors.append(TemplateError(source, offset, f"unterminated reference {source!r}: missing '}}'"))
        return None
    body = source[2:-1].strip()
    if found := _VAR.fullmatch(body):
        return Reference("var", found.group(1), source=source, offset=offset)
    if found := _RUN.fullmatch(body):
        return Reference("runs", found.group(1), found.group(3), source=source, offset=offset)
    if found := _EACH.fullmatch(body):
        if found.group(1):
            return Reference("each", "key", source=source, offset=offset)
        fields = tuple(found.group(3).split(".")[1:])
        return Reference("each", "value", source=source, offset=offset, fields=fields)
    if "${" in body and (built := _built_run(body, source, offset)) is not None:
        return built
    errors.append(TemplateError(source, offset, _unknown_message(source, body)))
    return None


def _built_run(body: str, source: str, offset: int) -> Reference | None:
    """``runs.web-${each.key}.outputs.ip``: a run reference whose name is built from ``each``/``var``
    references (None when ``body`` is not one)."""
    found = _BUILT_RUN.fullmatch(body)
    if found is None:
        return None
    name_parts, errors = _parse(found.group(1))
    for part in name_parts:
        if isinstance(part, str) and not _NAME_TEXT.fullmatch(part):
            return None
        if isinstance(part, Reference) and part.kind == "runs":
            return None
    if errors:
        return None
    return Reference("runs", found.group(1), found.group(2), source=source, offset=offset, name_parts=name_parts)


def _unknown_message(source: str, body: str) -> str:
    hint = (
        "; inside a reference, only a run's name may be built from ${each...} or ${var...} "
        "(e.g. ${runs.web-${each.key}.outputs.ip})"
        if "${" in body
        else ""
    )
    return (
        f"unknown reference {source!r}: expected ${{var.NAME}}, ${{runs.RUN.outputs.PARAM}}, "
        f"${{each.key}}, ${{each.value}} or ${{each.value.FIELD}} (write $${{ for a literal ${{){hint}"
    )
