"""Workflow parameter types and plain values: the vocabulary every layer shares.

A parameter value is held *plain*, as the user wrote it and as `reconciler output` prints it:

| vRO type       | plain value                                   |
|----------------|-----------------------------------------------|
| string         | str                                           |
| number         | int or float                                  |
| boolean        | bool                                          |
| Date           | str, ISO 8601 (e.g. 2026-01-31T10:00:00.000Z) |
| SecureString   | str (never stored or printed in clear)        |
| Array/T        | list of plain T values                        |
| Properties     | dict[str, plain value] (types inferred)       |
| PLUGIN:Type    | dict with "id" and optional "href"            |

The wire encodings (SPEC 5.3) live in `reconciler.remote.codecs`; the emulator has its own reading.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SCALAR_TYPES = ("string", "number", "boolean", "Date", "SecureString")
SENSITIVE_TYPES = ("SecureString", "EncryptedString")
SENSITIVE_MARK = "(sensitive)"
UNKNOWN_MARK = "(known after apply)"

_SDK_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z][A-Za-z0-9_]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class ParamType:
    """A parsed vRO type string such as ``string``, ``Array/number`` or ``VC:VirtualMachine``."""

    name: str

    @property
    def is_array(self) -> bool:
        return self.name.startswith("Array/")

    @property
    def element(self) -> ParamType:
        return ParamType(self.name[len("Array/") :])

    @property
    def is_sdk_object(self) -> bool:
        return bool(_SDK_TYPE.match(self.name))

    @property
    def is_sensitive(self) -> bool:
        return self.name in SENSITIVE_TYPES or (self.is_array and self.element.is_sensitive)


@lru_cache(maxsize=256)
def is_sensitive_type(name: str) -> bool:
    """`ParamType.is_sensitive` of a type name (remembered: a stack uses a handful of types)."""
    return ParamType(name).is_sensitive


def is_valid_type(name: str) -> bool:
    """Whether ``name`` is a parameter type this tool can encode."""
    t = ParamType(name)
    if t.is_array:
        return is_valid_type(t.element.name)
    return name in SCALAR_TYPES or name == "Properties" or t.is_sdk_object


def infer_type(value: Any) -> str | None:
    """The type of a shorthand value (``vmName: web-01``), or None when it has no shorthand."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if math.isfinite(value) else None
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        kinds = {infer_type(v) for v in value}
        if len(kinds) == 1 and None not in kinds and "Array/" not in str(next(iter(kinds))):
            return f"Array/{kinds.pop()}"
        if not value:
            return "Array/string"
    return None


def check_value(type_name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid plain value of ``type_name``; None when it is."""
    t = ParamType(type_name)
    if t.is_array:
        if not isinstance(value, list):
            return f"expected a list for {type_name}, got {_kind(value)}"
        for i, item in enumerate(value):
            why = check_value(t.element.name, item)
            if why:
                return f"item {i}: {why}"
        return None
    return _check_scalar(t, value)


def _check_scalar(t: ParamType, value: Any) -> str | None:
    name = t.name
    if name in ("string", "SecureString"):
        return None if isinstance(value, str) else f"expected a string, got {_kind(value)}"
    if name == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            return f"expected a finite number, got {value!r} (JSON has no NaN or infinity)"
        return None if ok else f"expected a number, got {_kind(value)}"
    if name == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, got {_kind(value)}"
    if name == "Date":
        ok = isinstance(value, str) and bool(_ISO_DATE.match(value))
        return None if ok else f"expected an ISO 8601 date, got {value!r}"
    if name == "Properties":
        return _check_properties(value)
    if t.is_sdk_object:
        ok = isinstance(value, dict) and isinstance(value.get("id"), str) and set(value) <= {"id", "href"}
        return None if ok else "expected {id: ..., href?: ...} for an SDK object"
    return f"unknown parameter type {name!r}"


def _check_properties(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"expected a mapping for Properties, got {_kind(value)}"
    for key, item in value.items():
        if infer_type(item) is None and not isinstance(item, dict):
            return f"property {key!r}: unsupported value {_kind(item)}"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def redact(type_name: str, value: Any) -> Any:
    """The value as it may be shown or stored: sensitive values become ``(sensitive)``."""
    return SENSITIVE_MARK if ParamType(type_name).is_sensitive else value
