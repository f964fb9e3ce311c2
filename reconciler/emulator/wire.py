"""The emulator's own reading of parameter values on the wire (SPEC 5.3), in both formats.

``openapi``: the polymorphic ``Parameter`` of the VCD OpenAPI model, ``{"inputType": "string",
"value": "x"}``. ``inputType`` may be the ``ParameterTypes`` key (``string``, ``sdkObject``...) or the
schema name (``StringParam``, ``SdkObject``...): Swagger 2.0 allows either reading of a discriminator.

``vro``: the Orchestrator wire form VCD passes through, ``{"string": {"value": "x"}}``.

Decoding yields plain values (``reconciler.parameters``) checked against the declared type; encoding
writes plain values back in the format an execution was started with. This module deliberately does
not share code with the client's codecs: the two are independent readings of the same documents, and
the tests that run one against the other are what catch a misreading.

Deviation to keep the answers valid against the Swagger document: in the ``openapi`` format, the
entries of a ``Properties`` value carry ``"inputType": "keyValuePair"`` (``KeyValuePair`` is declared
as a ``Parameter`` subtype, so ``inputType`` is required there).
"""

from __future__ import annotations

from typing import Any, Literal

from reconciler.errors import InvalidValueError
from reconciler.parameters import ParamType, check_value, infer_type

ValueFormat = Literal["openapi", "vro"]
MASK = "********"

_VRO_KEYS = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "secure-string": "securestring",
    "encrypted-string": "securestring",
    "array": "array",
    "properties": "properties",
    "sdk-object": "sdkobject",
}
_OPENAPI_NAMES = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "securestring": "secureString",
    "array": "array",
    "properties": "properties",
    "sdkobject": "sdkObject",
}


class WireError(InvalidValueError):
    """A value that does not follow either format, or does not fit the declared type."""


def detect_format(value: Any) -> ValueFormat | None:
    """Which format a wire value is in, or None when it is neither."""
    if isinstance(value, dict):
        if "inputType" in value:
            return "openapi"
        if len(value) == 1 and next(iter(value)) in _VRO_KEYS:
            return "vro"
    return None


def _kind_of(type_name: str) -> str:
    t = ParamType(type_name)
    if t.is_array:
        return "array"
    if t.is_sdk_object:
        return "sdkobject"
    return {"Date": "date", "SecureString": "securestring", "Properties": "properties"}.get(type_name, type_name)


def _unwrap(value: Any) -> tuple[str, dict[str, Any]]:
    """(kind, body): body holds ``value`` / ``property`` / sdk fields whatever the format."""
    fmt = detect_format(value)
    if fmt == "openapi":
        raw = str(value["inputType"]).lower().removesuffix("param")
        kind = "securestring" if raw == "encryptedstring" else raw
        return kind, value
    if fmt == "vro":
        key, body = next(iter(value.items()))
        if not isinstance(body, dict):
            raise WireError(f"'{key}' must hold an object")
        if key == "array":
            body = {"value": body.get("elements")}
        return _VRO_KEYS[key], body
    raise WireError("value is neither {'inputType': ...} nor {'<type>': {...}}")


def decode(type_name: str, value: Any) -> Any:
    """The plain value of a wire ``value`` declared as ``type_name``; raises WireError."""
    kind, body = _unwrap(value)
    expected = _kind_of(type_name)
    if kind != expected and not (expected == "securestring" and kind == "string"):
        raise WireError(f"expected a {type_name} value, got '{kind}'")
    plain = _decode_body(type_name, kind, body)
    why = check_value(type_name, plain)
    if why:
        raise WireError(why)
    return plain


def _decode_body(type_name: str, kind: str, body: dict[str, Any]) -> Any:
    if kind == "array":
        items = body.get("value")
        if not isinstance(items, list):
            raise WireError("an array value needs a list of elements")
        element = ParamType(type_name).element.name
        return [_decode_element(element, i, item) for i, item in enumerate(items)]
    if kind == "properties":
        return _decode_properties(body.get("property"))
    if kind == "sdkobject":
        return _decode_sdk_object(type_name, body)
    plain = body.get("value")
    if isinstance(plain, float) and plain.is_integer():
        return int(plain)
    return plain


def _decode_element(type_name: str, index: int, item: Any) -> Any:
    try:
        return decode(type_name, item)
    except WireError as exc:
        raise WireError(f"element {index}: {exc}") from exc


def _decode_properties(entries: Any) -> dict[str, Any]:
    if not isinstance(entries, list):
        raise WireError("a properties value needs a 'property' list")
    result: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise WireError("each property needs a string 'key'")
        result[entry["key"]] = decode_untyped(entry.get("value"))
    return result


def decode_untyped(value: Any) -> Any:
    """Decode a value whose type is only known from the wire (inside Properties)."""
    kind, body = _unwrap(value)
    type_name = {"date": "Date", "securestring": "SecureString", "properties": "Properties"}.get(kind, kind)
    if kind == "array":
        return [decode_untyped(item) for item in body.get("value") or []]
    if kind == "sdkobject":
        type_name = str(body.get("type") or "Any:Object")
    return _decode_body(type_name, kind, body)


def _decode_sdk_object(type_name: str, body: dict[str, Any]) -> dict[str, Any]:
    declared = body.get("type")
    if declared is not None and declared != type_name:
        raise WireError(f"sdk object of type {declared!r} where {type_name!r} is expected")
    if not isinstance(body.get("id"), str):
        raise WireError("an sdk object needs a string 'id'")
    plain = {"id": body["id"]}
    if isinstance(body.get("href"), str):
        plain["href"] = body["href"]
    return plain


def encode(type_name: str, plain: Any, fmt: ValueFormat, *, mask: bool = False) -> dict[str, Any]:
    """The wire form of a plain value; ``mask`` hides secure strings."""
    t = ParamType(type_name)
    kind = _kind_of(type_name)
    if t.is_array:
        items = [encode(t.element.name, item, fmt, mask=mask) for item in plain]
        return {"inputType": "array", "value": items} if fmt == "openapi" else {"array": {"elements": items}}
    if kind == "properties":
        return _encode_properties(plain, fmt, mask)
    if kind == "sdkobject":
        fields = {"type": type_name, **plain}
        return {"inputType": "sdkObject", **fields} if fmt == "openapi" else {"sdk-object": fields}
    if kind == "securestring":
        return _encode_secure(plain, fmt, mask)
    if fmt == "openapi":
        return {"inputType": _OPENAPI_NAMES[kind], "value": plain}
    return {kind: {"value": plain}}


def _encode_secure(plain: Any, fmt: ValueFormat, mask: bool) -> dict[str, Any]:
    shown = MASK if mask else plain
    if fmt == "openapi":
        return {"inputType": "secureString", "value": shown, "isPlainText": not mask}
    return {"secure-string": {"value": shown}}


def _encode_properties(plain: dict[str, Any], fmt: ValueFormat, mask: bool) -> dict[str, Any]:
    entries = []
    for key, item in plain.items():
        item_type = "Properties" if isinstance(item, dict) else infer_type(item) or "string"
        encoded = encode(item_type, item if item_type != "string" else str(item), fmt, mask=mask)
        entry = {"key": key, "value": encoded}
        entries.append({"inputType": "keyValuePair", **entry} if fmt == "openapi" else entry)
    if fmt == "openapi":
        return {"inputType": "properties", "property": entries}
    return {"properties": {"property": entries}}
