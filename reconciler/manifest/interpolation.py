"""The ``${...}`` reference syntax of manifest strings, parsed once into literal parts and references.

Four references exist: ``${var.NAME}``, ``${runs.RUN.outputs.PARAM}``, ``${each.key}`` and
``${each.value}``; ``$${`` writes a literal ``${``. Anything else between ``${`` and ``}`` is an
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

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")
_VAR = re.compile(rf"var\.({VARIABLE_PATTERN})")
_RUN = re.compile(rf"runs\.({NAME_PATTERN})\.outputs\.([^.\s{{}}$]+)")
_EACH = re.compile(r"each\.(key|value)")

RefKind = Literal["var", "runs", "each"]


@dataclass(frozen=True)
class Reference:
    """One ``${...}``: ``name`` is the variable, the run, or ``key``/``value`` for ``each``."""

    kind: RefKind
    name: str
    output: str = ""  # for kind "runs"
    source: str = ""  # as written, e.g. "${var.owner}"
    offset: int = 0  # where it starts in the string


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
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        if match.group(0) == "$${":
            literal.append("${")
            continue
        reference = _reference(match, errors)
        if reference is None:
            literal.append(match.group(0))
            continue
        _flush(literal, parts)
        parts.append(reference)
    literal.append(text[position:])
    _flush(literal, parts)
    return tuple(parts) or ("",), tuple(errors)


def _flush(literal: list[str], parts: list[Part]) -> None:
    joined = "".join(literal)
    literal.clear()
    if joined:
        parts.append(joined)


def _reference(match: re.Match[str], errors: list[TemplateError]) -> Reference | None:
    source, body, offset = match.group(0), match.group(1).strip(), match.start()
    if not match.group(2):
        errors.append(TemplateError(source, offset, f"unterminated reference {source!r}: missing '}}'"))
        return None
    if found := _VAR.fullmatch(body):
        return Reference("var", found.group(1), source=source, offset=offset)
    if found := _RUN.fullmatch(body):
        return Reference("runs", found.group(1), found.group(3), source=source, offset=offset)
    if found := _EACH.fullmatch(body):
        return Reference("each", found.group(1), source=source, offset=offset)
    errors.append(TemplateError(source, offset, _unknown_message(source, body)))
    return None


def _unknown_message(source: str, body: str) -> str:
    hint = "; nested references are not supported" if "${" in body else ""
    return (
        f"unknown reference {source!r}: expected ${{var.NAME}}, ${{runs.RUN.outputs.PARAM}}, "
        f"${{each.key}} or ${{each.value}} (write $${{ for a literal ${{){hint}"
    )
