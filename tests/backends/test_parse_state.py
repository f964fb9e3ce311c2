"""`parse_state`'s fast path (pydantic's JSON parser) gives exactly what ``json.loads`` + ``model_validate`` gives.

`parse_state_slowly` is the reference: whatever the fast path accepts must come out identical (same
types, same floats bit for bit, same key order), and whatever it refuses must end in
the reference's result or its exact error.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import struct
import sys
from typing import Any

import pytest

from reconciler.backends.state_file import parse_state, parse_state_slowly, state_bytes
from reconciler.errors import StateError
from reconciler.state.models import RecordedInput, RunRecord, State

from .samples import state


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types; floats bit for bit (NaN, -0.0); dicts in the same order."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):  # the state's classes: every field, in order
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", parse(raw, "state.json")
    except Exception as exc:  # the reference may also fail with a plain ValueError (too many digits)
        return type(exc).__name__, str(exc)


def assert_same_outcome(raw: bytes) -> None:
    fast, slow = outcome(parse_state, raw), outcome(parse_state_slowly, raw)
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "ok":
        assert same(fast[1], slow[1])
    else:
        assert fast[1] == slow[1]


def with_outputs(outputs: dict[str, Any]) -> State:
    base = state(runs=1)
    record = base.runs["run-0"].model_copy(update={"outputs": outputs})
    inputs = {name: RecordedInput(type="x", value=value) for name, value in outputs.items()}
    other = RunRecord(workflow="w", key="k", inputs=inputs)
    return base.model_copy(update={"runs": {"run-0": record, "run-1": other}})


def test_values_written_by_the_backend_come_back_identical() -> None:
    rng = random.Random(7)
    floats = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    floats += [0.1, 0.30000000000000004, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, sys.float_info.max, 1e22]
    floats += [math.nan, math.inf, -math.inf, rng.uniform(-1e6, 1e6), 9007199254740993.0]
    ints = [0, -1, 2**53 + 1, 2**63, -(2**64) - 1, 10**40, -(10**300), int("9" * 4300)]
    texts = [
        "é",
        "日本語",
        "😀 emoji",
        "\u0000nul",
        "\x1f",
        "tab\tnew\nline",
        '"quoted" \\ /',
        "\u2028\u2029",
        "\ufeff",
    ]
    outputs: dict[str, Any] = {f"f{i}": x for i, x in enumerate(floats)}
    outputs |= {f"i{i}": x for i, x in enumerate(ints)} | {f"s{i}": x for i, x in enumerate(texts)}
    outputs |= {"nested": {"list": [1, 2.5, None, True, False, "x", {"deep": [-0.0, []]}], "empty": {}}}
    outputs |= {"ünïcode-kéy 😀": 1, "": "empty key"}
    raw = state_bytes(with_outputs(outputs))
    fast = State.model_validate_json(raw)  # the fast path itself takes all of them
    assert same(fast, parse_state(raw, "state.json"))
    assert same(fast, parse_state_slowly(raw, "state.json"))
    # the writer's JSON mode stores NaN and the infinities as null (pydantic's default), both paths read that
    written = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value for key, value in outputs.items()
    }
    assert same(fast.runs["run-0"].outputs, written)


def reference_bytes(state: State) -> bytes:
    """The state file as ``json.dumps`` writes its document (what `state_bytes` is meant to write)."""
    doc = state.model_dump(mode="json", by_alias=True)
    doc["runs"] = {name: doc["runs"][name] for name in sorted(doc["runs"])}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def test_the_state_file_is_what_json_dumps_writes_of_its_document() -> None:
    """Byte for byte (runs sorted, unicode as it is, indent 2, a final newline), but for how a float's
    exponent is spelt (``1e-7``, ``1e-07``): the same value."""
    plain = {"s": 'é😀\u2028"\\', "i": 10**30, "f": [0.1, 1.5, -0.0, 1e22, 2.5e300], "n": None, "b": [True, {}]}
    unordered = with_outputs(plain)
    unordered = unordered.model_copy(update={"runs": dict(reversed(list(unordered.runs.items())))})
    assert state_bytes(unordered) == reference_bytes(unordered)
    rng = random.Random(3)
    floats = {f"f{i}": struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for i in range(2000)}
    floats |= {"tiny": 1e-7, "nan": math.nan, "inf": math.inf}
    many = with_outputs(floats)
    written, reference = state_bytes(many), reference_bytes(many)
    assert same(json.loads(written), json.loads(reference))
    assert len(written.splitlines()) == len(reference.splitlines())


@pytest.mark.parametrize(("ensure_ascii", "indent"), [(True, None), (False, None), (True, 2), (False, 2)])
def test_what_json_dumps_writes_comes_back_identical(ensure_ascii: bool, indent: int | None) -> None:
    """NaN and the infinities as json.dumps writes them (bare NaN / Infinity), big ints, unicode."""
    doc = state(runs=1).model_dump(mode="json", by_alias=True)
    outputs = {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "big": 10**30, "f": 0.1, "u": "é😀\u0000\ud7ff"}
    doc["runs"]["run-0"]["outputs"] = outputs | {"nested": [outputs]}
    raw = json.dumps(doc, ensure_ascii=ensure_ascii, indent=indent).encode()
    fast = State.model_validate_json(raw)  # the fast path itself takes it
    assert same(fast, parse_state_slowly(raw, "state.json"))
    assert same(parse_state(raw, "state.json"), fast)
    assert same(fast.runs["run-0"].outputs["nested"], [outputs])


def with_run(fields: str) -> str:
    """A state of one run ``r`` with the record's other ``fields`` (JSON members, each after a comma)."""
    return '{"lineage": "l", "salt": "s", "runs": {"r": {"workflow": "w", "key": "k"' + fields + "}}}"


@pytest.mark.parametrize(
    "outputs",
    [
        '{"a": NaN, "b": Infinity, "c": -Infinity}',
        '{"a": 123456789012345678901234567890, "b": -99999999999999999999999999999999999999}',
        '{"a": 1e400, "b": -1e400, "c": 1e-400, "d": 1E5, "e": 1.5E+3, "f": 10e-1, "g": 0e0, "h": -0}',
        '{"a": 1.00000000000000011102230246251565404236316680908203125, "b": 9007199254740993, "c": 0.'
        + "1" * 400
        + "}",
        '{"a": "\\u00e9\\ud83d\\ude00", "b": "é😀", "c": "\\u0000", "d": "\\/\\b\\f\\n\\r\\t\\"\\\\"}',
        '{"a": 1, "b": 2, "a": 3}',
        '{"a": {"x": 1, "y": 2, "x": 3}, "b": [1, {"k": 1, "k": [2]}]}',
    ],
)
def test_hand_written_outputs_come_back_identical(outputs: str) -> None:
    raw = with_run(', "outputs": ' + outputs).encode()
    fast = State.model_validate_json(raw)  # the fast path itself takes these
    assert same(fast, parse_state_slowly(raw, "state.json"))
    assert_same_outcome(raw)


@pytest.mark.parametrize(
    "text",
    [
        # lax coercions, in both modes or in neither
        '{"version": 1.0, "serial": 5.0, "lineage": "l", "salt": "s"}',
        '{"version": true, "serial": "5", "lineage": "l", "salt": "s"}',
        '{"version": "1", "lineage": "l", "salt": "s"}',
        '{"serial": 1e3, "lineage": "l", "salt": "s"}',
        '{"serial": 1.5, "lineage": "l", "salt": "s"}',
        '{"serial": 123456789012345678901234567890, "lineage": "l", "salt": "s"}',
        '{"serial": true, "lineage": "l", "salt": "s"}',
        '{"lineage": 1, "salt": "s"}',
        with_run(', "revision": " 2 ", "attempts": 2.0'),
        with_run(', "inputs": {"x": {"type": "t", "sensitive": "yes"}}'),
        with_run(', "inputs": {"x": {"type": "t", "sensitive": 1}}'),
        # names and aliases, duplicate keys (the last one wins), nulls, unknown fields
        with_run(', "output_types": {"a": "x"}, "depends_on": ["q"]'),
        with_run(', "outputTypes": {"a": "x"}, "output_types": {}'),
        '{"lineage": "l", "lineage": "m", "salt": "s"}',
        with_run('}, "q": {"workflow": "w", "key": "k"}, "r": {"workflow": "w2", "key": "k2"'),
        with_run('}}, "runs": {"q": {"workflow": "w", "key": "k"'),
        with_run(', "execution": null, "pending": null'),
        with_run(', "history": [{"id": "a", "state": "done", "x": 1}]'),
        '{"lineage": "l", "salt": "s", "runs": null}',
        '{"lineage": "l", "salt": "s", "extra": 1}',
        # JSON that one parser or the other may refuse
        '\n  {"lineage": "l", "salt": "s"}\n\n \t\r',
        '\ufeff{"lineage": "l", "salt": "s"}',
        '{"lineage": "\\ud800", "salt": "\\udc00x"}',
        '{"lineage": "l", "salt": "s"} x',
        '{"lineage": "l", "salt": "s"}\u0000',
        '{"lineage": "l\u0001", "salt": "s"}',
        with_run(', "outputs": {"a": 01}'),
        with_run(', "outputs": {"a": nan, "b": -inf}'),
        with_run(', "outputs": {"a": ' + "1" * 5000 + "}"),
        with_run(', "outputs": {"a": ' + "[" * 300 + "]" * 300 + "}"),
        with_run(', "outputs": ' + '{"a":' * 252 + "1" + "}" * 252),
        "",
        "[]",
        '{"version": 1,\n  "serial": 2,,}',
    ],
)
def test_hand_written_states_give_the_reference_result_or_error(text: str) -> None:
    assert_same_outcome(text.encode())


@pytest.mark.parametrize(
    "raw",
    [
        '{"lineage": "l", "salt": "s"}'.encode("utf-16"),
        '{"lineage": "l", "salt": "s"}'.encode("utf-32"),
        '{"lineage": "l", "salt": "s"}'.encode("utf-8-sig"),
        b'{"lineage": "l\xff", "salt": "s"}',
        b"\xff\xfe",
        b"\x80",
    ],
)
def test_encodings_give_the_reference_result_or_error(raw: bytes) -> None:
    assert_same_outcome(raw)


def test_errors_are_the_reference_messages() -> None:
    with pytest.raises(StateError, match=r"^state.json: not valid JSON \(line 2, column 15: Expecting") as bad_json:
        parse_state(b'{"version": 1,\n  "serial": 2,,}', "state.json")
    assert isinstance(bad_json.value.__cause__, json.JSONDecodeError)
    with pytest.raises(StateError, match=r"^state.json: not a valid reconciler state; .*:\n  serial: ") as invalid:
        parse_state(b'{"serial": "x", "lineage": "l", "salt": "s"}', "state.json")
    assert type(invalid.value.__cause__).__name__ == "ValidationError"
    with pytest.raises(StateError, match=r"^state.json: not UTF-8 text"):
        parse_state(b'{"lineage": "l\xff", "salt": "s"}', "state.json")
