"""The emulator's reading of parameter values: both formats, every type, and clear refusals."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.wire import WireError, decode, detect_format, encode

PLAIN = [
    ("string", "web-01"),
    ("number", 2),
    ("number", 2.5),
    ("boolean", False),
    ("Date", "2026-01-31T10:00:00.000Z"),
    ("SecureString", "s3cret"),
    ("Array/string", ["a", "b"]),
    ("Array/Array/number", [[1], [2, 3]]),
    ("Properties", {"owner": "team-a", "size": 3, "on": True, "tags": ["x"], "nested": {"k": "v"}}),
    ("VC:VirtualMachine", {"id": "vm-42"}),
    ("VC:VirtualMachine", {"id": "vm-42", "href": "https://vc/vm-42"}),
    ("Array/VC:VirtualMachine", [{"id": "vm-1"}]),
]


@pytest.mark.parametrize("fmt", ["openapi", "vro"])
@pytest.mark.parametrize(("type_name", "plain"), PLAIN)
def test_round_trip(type_name: str, plain: Any, fmt: Any) -> None:
    wire = encode(type_name, plain, fmt)
    assert detect_format(wire) == fmt
    assert decode(type_name, wire) == plain


@pytest.mark.parametrize(
    ("type_name", "wire", "plain"),
    [
        ("string", {"inputType": "StringParam", "value": "x"}, "x"),
        ("number", {"inputType": "NumberParam", "value": 2.0}, 2),
        ("SecureString", {"inputType": "SecureString", "value": "s", "isPlainText": True}, "s"),
        ("SecureString", {"inputType": "encryptedString", "value": "s"}, "s"),
        ("SecureString", {"string": {"value": "s"}}, "s"),  # older clients send secrets as strings
        ("Array/string", {"inputType": "ArrayParam", "value": [{"string": {"value": "a"}}]}, ["a"]),
        ("VC:VirtualMachine", {"inputType": "SdkObject", "id": "vm-1", "displayValue": "web"}, {"id": "vm-1"}),
        ("Properties", {"properties": {"property": [{"key": "k", "value": {"number": {"value": 1}}}]}}, {"k": 1}),
    ],
)
def test_alternative_spellings(type_name: str, wire: Any, plain: Any) -> None:
    assert decode(type_name, wire) == plain


def test_secure_strings_are_masked_on_request() -> None:
    assert encode("SecureString", "s", "openapi", mask=True) == {
        "inputType": "secureString",
        "value": "********",
        "isPlainText": False,
    }
    assert encode("Array/SecureString", ["s"], "vro", mask=True) == {
        "array": {"elements": [{"secure-string": {"value": "********"}}]}
    }


@pytest.mark.parametrize(
    ("type_name", "wire", "why"),
    [
        ("string", {"inputType": "number", "value": 1}, "expected a string value"),
        ("number", {"inputType": "number", "value": True}, "expected a number"),
        ("number", {"number": {"value": "1"}}, "expected a number"),
        ("boolean", {"boolean": 1}, "must hold an object"),
        ("Date", {"inputType": "date", "value": "tomorrow"}, "ISO 8601"),
        ("Array/string", {"inputType": "array", "value": "a"}, "list of elements"),
        ("Array/number", {"array": {"elements": [{"number": {"value": 1}}, {"string": {"value": "x"}}]}}, "element 1"),
        ("Properties", {"inputType": "properties"}, "'property' list"),
        ("Properties", {"properties": {"property": [{"value": {"string": {"value": "x"}}}]}}, "string 'key'"),
        ("VC:VirtualMachine", {"inputType": "sdkObject", "type": "VC:Host", "id": "h"}, "VC:Host"),
        ("VC:VirtualMachine", {"sdk-object": {"type": "VC:VirtualMachine"}}, "string 'id'"),
        ("string", {"text": {"value": "x"}}, "neither"),
        ("string", "x", "neither"),
    ],
)
def test_refusals_say_why(type_name: str, wire: Any, why: str) -> None:
    with pytest.raises(WireError, match=why):
        decode(type_name, wire)
