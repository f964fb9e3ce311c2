"""Parameter values on the wire (SPEC 5.3): plain value <-> ``WsParameter.value``, in both formats.

Why both: which shape a real VCD accepts and returns inside ``value`` is the one undocumented thing of
this API (reference section 2.1). The ``openapi`` format follows the published model
(``{"inputType": "string", "value": "x"}``); the ``vro`` format is what VCD passes to Orchestrator
(``{"string": {"value": "x"}}``). The client *sends* the configured format and *reads* whatever comes
back, so decoding is liberal: the discriminator may be the ParameterTypes key (``sdkObject``), the
schema name (``SdkObject``, ``StringParam``) or the kebab form (``sdk-object``), and field names may be
camel or kebab (``displayValue`` / ``display-value``).

Plain values are those of `reconciler.parameters`. Decoding needs no declared type: the wire carries
its own discriminator, and an SDK object decodes to ``{"id", "href"?}`` (its type is the parameter's).
Integral numbers decode to ``int`` (vRO numbers are doubles: ``2.0`` is the ``2`` the user wrote).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import CodecError
from reconciler.parameters import ParamType
from reconciler.remote.settings import ValueFormat

Wire = dict[str, Any]
TypedValue = tuple[str, Any]
_MAX_EXACT_INT = 2**53

# Normalised discriminator (lowercase, no '-'/'_', no 'Param' suffix) -> canonical kind.
_KINDS = {
    "string": "string",
    "text": "string",
    "regex": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "securestring": "secureString",
    "encryptedstring": "secureString",
    "array": "array",
    "properties": "properties",
    "sdkobject": "sdkObject",
}
_TYPE_OF_KIND = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "Date",
    "secureString": "SecureString",
    "properties": "Properties",
}
_SCALAR_KIND_OF_TYPE = {"string": "string", "number": "number", "boolean": "boolean", "Date": "date"}


# --------------------------------------------------------------------------------------------- encode


def ws_parameter(name: str, type_name: str, plain: Any, fmt: ValueFormat) -> Wire:
    """One input of a start request: a ``WsParameter`` with ``scope: local``."""
    return {
        "name": name,
        "type": type_name,
        "scope": "local",
        "value": encode(type_name, plain, fmt),
        "encryptValue": False,
    }


def encode(type_name: str, plain: Any, fmt: ValueFormat) -> Wire:
    """The wire ``value`` of a plain value of vRO type ``type_name``."""
    t = ParamType(type_name)
    if t.is_array:
        if not isinstance(plain, list):
            raise CodecError(f"expected a list for {type_name}, got {type(plain).__name__}")
        return _array([encode(t.element.name, item, fmt) for item in plain], fmt)
    if type_name == "Properties":
        return _properties(plain, fmt)
    if type_name == "SecureString":
        return _secure_string(plain, fmt)
    if t.is_sdk_object:
        return _sdk_object(type_name, plain, fmt)
    kind = _SCALAR_KIND_OF_TYPE.get(type_name)
    if kind is None:
        raise CodecError(f"cannot encode a value of unknown type {type_name!r}")
    return _scalar(kind, plain, fmt)


def infer_wire_type(plain: Any) -> str:
    """The vRO type a Properties entry gets from its plain value (lists of mixed items: ``Array/Any``)."""
    if isinstance(plain, bool):
        return "boolean"
    if isinstance(plain, int | float):
        return "number"
    if isinstance(plain, str):
        return "string"
    if isinstance(plain, Mapping):
        return "Properties"
    if isinstance(plain, list):
        kinds = {infer_wire_type(item) for item in plain}
        return f"Array/{kinds.pop()}" if len(kinds) == 1 else "Array/Any"
    raise CodecError(f"cannot infer a parameter type for {type(plain).__name__} value {plain!r}")


def _encode_inferred(plain: Any, fmt: ValueFormat) -> Wire:
    if isinstance(plain, list):
        return _array([_encode_inferred(item, fmt) for item in plain], fmt)
    return encode(infer_wire_type(plain), plain, fmt)


def _scalar(kind: str, value: Any, fmt: ValueFormat) -> Wire:
    if fmt == "vro":
        return {kind: {"value": value}}
    return {"inputType": kind, "value": value}


def _secure_string(value: Any, fmt: ValueFormat) -> Wire:
    if fmt == "vro":
        return {"secure-string": {"value": value}}
    return {"inputType": "secureString", "value": value, "isPlainText": True}


def _array(elements: list[Wire], fmt: ValueFormat) -> Wire:
    if fmt == "vro":
        return {"array": {"elements": elements}}
    return {"inputType": "array", "value": elements}


def _properties(plain: Any, fmt: ValueFormat) -> Wire:
    if not isinstance(plain, Mapping):
        raise CodecError(f"expected a mapping for Properties, got {type(plain).__name__}")
    pairs = [{"key": str(key), "value": _encode_inferred(item, fmt)} for key, item in plain.items()]
    if fmt == "vro":
        return {"properties": {"property": pairs}}
    return {"inputType": "properties", "property": pairs}


def _sdk_object(type_name: str, plain: Any, fmt: ValueFormat) -> Wire:
    if not isinstance(plain, Mapping) or not isinstance(plain.get("id"), str):
        raise CodecError(f"expected {{id: ..., href?: ...}} for {type_name}, got {plain!r}")
    body: Wire = {"type": type_name, "id": plain["id"]}
    if plain.get("href") is not None:
        body["href"] = plain["href"]
    if fmt == "vro":
        return {"sdk-object": body}
    return {"inputType": "sdkObject", **body}


# --------------------------------------------------------------------------------------------- decode


def decode_parameter(ws: Mapping[str, Any]) -> TypedValue:
    """(type, plain value) of a ``WsParameter`` as the server returned it."""
    value = ws.get("value")
    type_name = ws.get("type")
    plain = decode(value)
    if not isinstance(type_name, str) or not type_name:
        type_name = _type_of_wire(value)
    return type_name, plain


def decode(wire: Any) -> Any:
    """The plain value of a wire ``value`` in either format (None for an absent value)."""
    if wire is None:
        return None
    if not isinstance(wire, Mapping):
        return _plain_number(wire)  # a bare JSON value: already plain
    kind, body = _split(wire)
    return _DECODERS[kind](body)


def _split(wire: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """(canonical kind, the mapping holding the fields) for either format."""
    if "inputType" in wire:
        return _kind(wire["inputType"]), wire
    if len(wire) == 1:
        key, body = next(iter(wire.items()))
        if isinstance(body, Mapping):
            return _kind(key), body
    raise CodecError(f"unreadable parameter value {dict(wire)!r}")


def _kind(discriminator: Any) -> str:
    norm = str(discriminator).replace("-", "").replace("_", "").lower()
    norm = norm.removesuffix("param")
    kind = _KINDS.get(norm)
    if kind is None:
        raise CodecError(f"unsupported parameter value type {discriminator!r}")
    return kind


def _type_of_wire(wire: Any) -> str:
    if not isinstance(wire, Mapping):
        return "string"
    kind, body = _split(wire)
    if kind == "sdkObject":
        return str(body.get("type") or "Any")
    return _TYPE_OF_KIND.get(kind, "Array/Any")


def _decode_value(body: Mapping[str, Any]) -> Any:
    return _plain_number(body.get("value"))


def _decode_array(body: Mapping[str, Any]) -> list[Any]:
    items = body.get("elements")
    if items is None:
        items = body.get("value")
    return [decode(item) for item in items or []]


def _decode_properties(body: Mapping[str, Any]) -> dict[str, Any]:
    pairs = body.get("property")
    if pairs is None:
        pairs = body.get("properties") or []
    if isinstance(pairs, Mapping):  # a single pair, as some XML-to-JSON bridges emit
        pairs = [pairs]
    return {str(pair["key"]): decode(pair.get("value")) for pair in pairs}


def _decode_sdk_object(body: Mapping[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = {"id": body.get("id")}
    if body.get("href") is not None:
        plain["href"] = body["href"]
    return plain


def _plain_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT_INT:
        return int(value)
    return value


_DECODERS = {
    "string": _decode_value,
    "number": _decode_value,
    "boolean": _decode_value,
    "date": _decode_value,
    "secureString": _decode_value,
    "array": _decode_array,
    "properties": _decode_properties,
    "sdkObject": _decode_sdk_object,
}
