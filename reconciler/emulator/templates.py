"""Output templates: how the emulator derives a workflow's outputs from its inputs.

A template is a string with ``${...}`` placeholders; ``$${`` is a literal ``${``::

    net-${inputs.name|hash:8}           ->  net-3f2a9c01
    ${inputs.cidr|firstHost}            ->  10.0.1.1
    10.20.${inputs.network|octet}.${inputs.vmName|octet}

References: ``inputs.NAME`` (one input, defaults applied), ``inputs`` (all inputs as canonical JSON),
``workflow.id``, ``workflow.name``, ``execution.id``, ``execution.user``, ``execution.org``,
``execution.startedBy``. Filters, applied left to right: ``hash`` / ``hash:N`` (first N hex digits of
the SHA-256 of the text, default 8), ``octet`` (a number 1..254 derived from the text), ``lower``,
``upper``, ``firstHost`` (the first host address of a CIDR such as ``10.0.1.0/24``).

Everything but ``execution.*`` is a pure function of the inputs, so a re-run with the same inputs
yields the same outputs: that is what lets the tool show "no downstream change" after a re-run.
Templates are parsed when the catalog loads, so a typo is a catalog error, not a failed execution.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import InvalidValueError

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_REFERENCE = re.compile(r"^(inputs(\.[A-Za-z_][A-Za-z0-9_]*)?|workflow\.(id|name)|execution\.(id|user|org|startedBy))$")


class TemplateError(InvalidValueError):
    """A template that cannot be parsed, or a value a filter cannot transform."""


def render_text(value: Any) -> str:
    """The text of a plain value inside a template: strings as is, the rest as canonical JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _hash(text: str, arg: str | None) -> str:
    size = int(arg) if arg else 8
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _octet(text: str, arg: str | None) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16) % 254 + 1)


def _first_host(text: str, arg: str | None) -> str:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise TemplateError(f"firstHost: {text!r} is not a CIDR") from exc
    return str(network.network_address + 1)


_FILTERS: dict[str, Callable[[str, str | None], str]] = {
    "hash": _hash,
    "octet": _octet,
    "lower": lambda text, arg: text.lower(),
    "upper": lambda text, arg: text.upper(),
    "firstHost": _first_host,
}


@dataclass(frozen=True)
class Placeholder:
    """One ``${reference|filter:arg|...}``."""

    reference: str
    filters: tuple[tuple[str, str | None], ...]

    @property
    def input_name(self) -> str | None:
        return self.reference.split(".", 1)[1] if self.reference.startswith("inputs.") else None


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders, in order."""

    parts: tuple[str | Placeholder, ...]

    @property
    def input_names(self) -> set[str]:
        return {p.input_name for p in self.parts if isinstance(p, Placeholder) and p.input_name}

    def render(self, context: Mapping[str, Any]) -> str:
        return "".join(p if isinstance(p, str) else _render_placeholder(p, context) for p in self.parts)


def parse_template(source: str) -> Template:
    """Parse ``source``; raises TemplateError naming the bad placeholder."""
    parts: list[str | Placeholder] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        parts.append(source[position : match.start()])
        position = match.end()
        if match.group(0) == "$${":
            parts.append("${")
            continue
        parts.append(_parse_placeholder(match.group(1)))
    parts.append(source[position:])
    return Template(tuple(p for p in parts if p != ""))


def _parse_placeholder(body: str) -> Placeholder:
    reference, *filters = (piece.strip() for piece in body.split("|"))
    if not _REFERENCE.match(reference):
        raise TemplateError(f"unknown reference ${{{body}}} (use inputs.NAME, workflow.*, execution.*)")
    parsed: list[tuple[str, str | None]] = []
    for item in filters:
        name, _, arg = item.partition(":")
        if name not in _FILTERS:
            raise TemplateError(f"unknown filter {name!r} in ${{{body}}} (known: {', '.join(_FILTERS)})")
        if name == "hash" and arg and not (arg.isdigit() and 1 <= int(arg) <= 64):
            raise TemplateError(f"hash length must be 1..64, got {arg!r}")
        parsed.append((name, arg or None))
    return Placeholder(reference, tuple(parsed))


def _render_placeholder(placeholder: Placeholder, context: Mapping[str, Any]) -> str:
    head, _, tail = placeholder.reference.partition(".")
    value = context[head] if not tail else context[head].get(tail)
    text = render_text(value)
    for name, arg in placeholder.filters:
        text = _FILTERS[name](text, arg)
    return text
