"""The VCD 37.2 Swagger document as JSON Schema, and its operations as (method, path regex, statuses).

Swagger 2.0 definitions are nearly JSON Schema draft 4; what needs care:

- ``x-*``, ``example`` and ``discriminator`` keys are dropped (not validation keywords).
- ``Parameter`` is polymorphic (``discriminator: inputType``). It becomes ``ParameterBase`` (the base
  object) plus a dispatch: when ``inputType`` is a subtype's schema name (``StringParam``) or its
  ``ParameterTypes`` key (``string``), the value must also validate against that subtype. Subtypes
  refer to ``ParameterBase``, so validation does not loop.
- The ``vro`` value format (``{"string": {"value": "x"}}``) is not modelled by the document at all:
  for answers in that format, ``Parameter`` is replaced by a one-key object over the vRO wire keys.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import datetime
from typing import Any

import jsonschema
import yaml

from .vendoring import VENDORED

SUBTYPES = {
    "StringParam": "string",
    "NumberParam": "number",
    "BooleanParam": "boolean",
    "DateParam": "date",
    "SecureString": "secureString",
    "EncryptedString": "encryptedString",
    "ArrayParam": "array",
    "Properties": "properties",
    "SdkObject": "sdkObject",
    "KeyValuePair": "keyValuePair",
    "CompositeType": "composite",
    "CompositeValue": "compositeValue",
    "MimeAttachment": "mimeAttachment",
    "Regex": "regex",
}
VRO_KEYS = [
    "string",
    "number",
    "boolean",
    "date",
    "secure-string",
    "encrypted-string",
    "array",
    "properties",
    "sdk-object",
]


@functools.cache
def load_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(VENDORED.read_text(encoding="utf-8"))
    return document


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _clean(value)
            for key, value in node.items()
            if not key.startswith("x-") and key not in ("example", "discriminator")
        }
    if isinstance(node, list):
        return [_clean(item) for item in node]
    return node


def _retarget_parameter_refs(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("$ref") == "#/definitions/Parameter":
            return {"$ref": "#/definitions/ParameterBase"}
        return {key: _retarget_parameter_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_retarget_parameter_refs(item) for item in node]
    return node


def definitions(value_format: str = "openapi") -> dict[str, Any]:
    """Every definition as JSON Schema, with the polymorphic ``Parameter`` resolved."""
    defs: dict[str, Any] = _clean(copy.deepcopy(load_document()["definitions"]))
    defs["ParameterBase"] = defs["Parameter"]
    for name in SUBTYPES:
        defs[name] = _retarget_parameter_refs(defs[name])
    if value_format == "vro":
        defs["Parameter"] = {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"enum": VRO_KEYS},
        }
        return defs
    dispatch = [
        {
            "if": {"properties": {"inputType": {"enum": [name, key]}}, "required": ["inputType"]},
            "then": {"$ref": f"#/definitions/{name}"},
        }
        for name, key in SUBTYPES.items()
    ]
    defs["Parameter"] = {"allOf": [{"$ref": "#/definitions/ParameterBase"}, *dispatch]}
    return defs


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("date-time")(_is_date_time)


@functools.cache
def _validator(definition: str, value_format: str) -> jsonschema.Draft7Validator:
    schema = {"definitions": definitions(value_format), "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def validate(body: Any, definition: str, value_format: str = "openapi", *, strict_nulls: bool = True) -> None:
    """Raise jsonschema.ValidationError unless ``body`` is a valid ``definition``.

    A JSON null is a violation (Swagger 2.0 has no "nullable"), unless ``strict_nulls=False``, which
    reads a null as an absent field: for answers of an emulator run with ``nulls=True``, as VCD
    writes unset properties in places."""
    _validator(definition, value_format).validate(body if strict_nulls else _without_nulls(body))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _path_regex(template: str) -> re.Pattern[str]:
    pieces = re.split(r"\{\w+\}", template)
    return re.compile("^" + "[^/]+".join(re.escape(piece) for piece in pieces) + "$")


def operation(method: str, path: str) -> dict[str, Any] | None:
    """The Swagger operation answering ``method path`` (a full path, /cloudapi included), if any."""
    document = load_document()
    relative = path.removeprefix(document["basePath"])
    # Literal paths first (``/sessions/current`` before ``/sessions/{id}``), as OpenAPI says.
    for template, operations in sorted(document["paths"].items(), key=lambda item: item[0].count("{")):
        if _path_regex(template).match(relative) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    return None
