"""Parameter codecs: the SPEC 5.3 shapes, liberal decoding, and round trips for every type and format."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import CodecError
from reconciler.remote.codecs import decode, decode_parameter, encode, infer_wire_type, ws_parameter

FORMATS = ("openapi", "vro")


# ----------------------------------------------------------------------------------------- exact shapes

OPENAPI_SHAPES = [
    ("string", "web-01", {"inputType": "string", "value": "web-01"}),
    ("number", 2, {"inputType": "number", "value": 2}),
    ("boolean", True, {"inputType": "boolean", "value": True}),
    ("Date", "2026-01-31T10:00:00.000Z", {"inputType": "date", "value": "2026-01-31T10:00:00.000Z"}),
    ("SecureString", "s3cret", {"inputType": "secureString", "value": "s3cret", "isPlainText": True}),
    (
        "Array/string",
        ["prod", "web"],
        {
            "inputType": "array",
            "value": [{"inputType": "string", "value": "prod"}, {"inputType": "string", "value": "web"}],
        },
    ),
    (
        "Properties",
        {"k": "v"},
        {"inputType": "properties", "property": [{"key": "k", "value": {"inputType": "string", "value": "v"}}]},
    ),
    ("VC:VirtualMachine", {"id": "vm-42"}, {"inputType": "sdkObject", "type": "VC:VirtualMachine", "id": "vm-42"}),
]

VRO_SHAPES = [
    ("string", "x", {"string": {"value": "x"}}),
    ("number", 2, {"number": {"value": 2}}),
    ("boolean", True, {"boolean": {"value": True}}),
    ("Date", "2026-01-31T10:00:00Z", {"date": {"value": "2026-01-31T10:00:00Z"}}),
    ("SecureString", "s", {"secure-string": {"value": "s"}}),
    ("Array/number", [1, 2], {"array": {"elements": [{"number": {"value": 1}}, {"number": {"value": 2}}]}}),
    ("Properties", {"n": 1}, {"properties": {"property": [{"key": "n", "value": {"number": {"value": 1}}}]}}),
    (
        "VC:VirtualMachine",
        {"id": "vm-42", "href": "https://vc/vm-42"},
        {"sdk-object": {"type": "VC:VirtualMachine", "id": "vm-42", "href": "https://vc/vm-42"}},
    ),
]


@pytest.mark.parametrize(("type_name", "plain", "wire"), OPENAPI_SHAPES)
def test_openapi_encoding_follows_the_spec_table(type_name: str, plain: Any, wire: dict[str, Any]) -> None:
    assert encode(type_name, plain, "openapi") == wire
    assert decode(wire) == plain


@pytest.mark.parametrize(("type_name", "plain", "wire"), VRO_SHAPES)
def test_vro_encoding_follows_the_spec_table(type_name: str, plain: Any, wire: dict[str, Any]) -> None:
    assert encode(type_name, plain, "vro") == wire
    assert decode(wire) == plain


def test_ws_parameter_envelope() -> None:
    assert ws_parameter("cpuCount", "number", 2, "openapi") == {
        "name": "cpuCount",
        "type": "number",
        "scope": "local",
        "value": {"inputType": "number", "value": 2},
        "encryptValue": False,
    }


@pytest.mark.parametrize(
    ("wire", "plain"),
    [
        ({"inputType": "StringParam", "value": "a"}, "a"),
        ({"inputType": "NumberParam", "value": 2.0}, 2),
        ({"inputType": "BooleanParam", "value": False}, False),
        ({"inputType": "DateParam", "value": "2026-01-01T00:00:00Z"}, "2026-01-01T00:00:00Z"),
        ({"inputType": "SecureString", "value": "s", "isPlainText": True}, "s"),
        ({"inputType": "secure-string", "value": "s"}, "s"),
        ({"inputType": "EncryptedString", "value": "e"}, "e"),
        ({"inputType": "ArrayParam", "value": [{"inputType": "StringParam", "value": "a"}]}, ["a"]),
        (
            {
                "inputType": "Properties",
                "property": [{"key": "a", "value": {"inputType": "BooleanParam", "value": True}}],
            },
            {"a": True},
        ),
        (
            {
                "inputType": "Properties",
                "property": [{"inputType": "keyValuePair", "key": "a", "value": {"inputType": "string", "value": "b"}}],
            },
            {"a": "b"},
        ),
        ({"inputType": "SdkObject", "type": "VC:VM", "id": "vm-1", "displayValue": "web"}, {"id": "vm-1"}),
        ({"inputType": "sdk-object", "type": "VC:VM", "id": "vm-1", "href": "h"}, {"id": "vm-1", "href": "h"}),
        ({"sdk-object": {"type": "VC:VM", "id": "vm-1", "display-value": "web"}}, {"id": "vm-1"}),
        ({"sdkObject": {"type": "VC:VM", "id": "vm-1"}}, {"id": "vm-1"}),
        ({"secureString": {"value": "s"}}, "s"),
        ({"encrypted-string": {"value": "s"}}, "s"),
        ({"number": {"value": 789.0}}, 789),
        ({"number": {"value": 2.5}}, 2.5),
        ({"array": {"elements": []}}, []),
        (None, None),
    ],
)
def test_decoding_is_liberal(wire: Any, plain: Any) -> None:
    assert _strict_equal(decode(wire), plain)


def test_decode_parameter_gives_type_and_plain_value() -> None:
    ws = {
        "name": "vm",
        "type": "VC:VirtualMachine",
        "scope": "local",
        "value": {"sdk-object": {"type": "VC:VirtualMachine", "id": "vm-9"}},
    }
    assert decode_parameter(ws) == ("VC:VirtualMachine", {"id": "vm-9"})
    assert decode_parameter({"name": "x", "value": {"string": {"value": "a"}}}) == ("string", "a")


@pytest.mark.parametrize("wire", [{"inputType": "composite", "value": 1}, {"a": 1, "b": 2}, {"mystery": {"value": 1}}])
def test_unreadable_values_are_codec_errors(wire: Any) -> None:
    with pytest.raises(CodecError):
        decode(wire)


@pytest.mark.parametrize(
    ("type_name", "plain"),
    [("Array/string", "x"), ("Properties", [1]), ("VC:VM", {"name": "x"}), ("MimeAttachment", "x")],
)
def test_values_that_do_not_fit_their_type_are_refused(type_name: str, plain: Any) -> None:
    with pytest.raises(CodecError):
        encode(type_name, plain, "openapi")


def test_properties_infer_element_types() -> None:
    plain = {"s": "a", "n": 1.5, "b": False, "l": ["x"], "mixed": [1, "a"], "nested": {"k": 2}}
    wire = encode("Properties", plain, "openapi")
    kinds = {pair["key"]: pair["value"]["inputType"] for pair in wire["property"]}
    assert kinds == {
        "s": "string",
        "n": "number",
        "b": "boolean",
        "l": "array",
        "mixed": "array",
        "nested": "properties",
    }
    assert infer_wire_type([1, "a"]) == "Array/Any"
    assert _strict_equal(decode(wire), plain)


# ----------------------------------------------------------------------------------------- round trips

_numbers = st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
_dates = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
_sdk = st.fixed_dictionaries({"id": st.text(min_size=1)}, optional={"href": st.text()})
_scalar_plain = st.text() | _numbers | st.booleans()
_property_values = st.recursive(
    _scalar_plain,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_properties = st.dictionaries(st.text(), _property_values, max_size=4)

STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(),
    "number": _numbers,
    "boolean": st.booleans(),
    "Date": _dates,
    "SecureString": st.text(),
    "Properties": _properties,
    "VC:VirtualMachine": _sdk,
}
ALL_TYPES = [*STRATEGIES, *(f"Array/{t}" for t in STRATEGIES), "Array/Array/number"]


def _strategy(type_name: str) -> st.SearchStrategy[Any]:
    if type_name.startswith("Array/"):
        return st.lists(_strategy(type_name[len("Array/") :]), max_size=4)
    return STRATEGIES[type_name]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("type_name", ALL_TYPES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip(type_name: str, fmt: str, data: st.DataObject) -> None:
    plain = data.draw(_strategy(type_name))
    wire = json.loads(json.dumps(ws_parameter("p", type_name, plain, fmt)))  # type: ignore[arg-type]
    got_type, got = decode_parameter(wire)
    assert got_type == type_name
    assert _strict_equal(got, plain), (plain, wire, got)


def _strict_equal(a: Any, b: Any) -> bool:
    """Equality where a boolean is never a number (Python's True == 1 would hide a codec bug)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and (type(a) in (int, float)) == (type(b) in (int, float))
