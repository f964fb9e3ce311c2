"""`fingerprints.inputs_key` (the planner's fast path) equals `key_of` over `input_body` bodies."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.planning.fingerprints import input_body, inputs_key, key_of

SALT = "c2FsdA"

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3))
types = st.sampled_from(["string", "number", "boolean", "Array/string", "Properties", "SecureString", "VC:Vm", 'é\n"'])
inputs = st.dictionaries(st.text(), st.tuples(types, values, st.booleans()), max_size=6)


def _slow(workflow: Any, given_inputs: dict[Any, tuple[str, Any, bool]], revision: Any) -> str:
    bodies = {name: input_body(t, v, s, SALT) for name, (t, v, s) in given_inputs.items()}
    return key_of(workflow, bodies, revision)


@settings(max_examples=300, deadline=None)
@given(st.text(), inputs, st.integers(min_value=-(2**70), max_value=2**70))
def test_inputs_key_equals_key_of_the_bodies(workflow: str, given_inputs: dict[str, Any], revision: int) -> None:
    flat = [(name, t, v, s) for name, (t, v, s) in given_inputs.items()]
    assert inputs_key(workflow, flat, revision, SALT) == _slow(workflow, given_inputs, revision)


def test_unusual_names_revisions_and_values_take_the_general_path() -> None:
    cases: list[tuple[Any, dict[Any, tuple[str, Any, bool]], Any]] = [
        ("wf", {1: ("number", 1, False), 2: ("string", "x", False)}, 1),
        ("wf", {"a": ("number", True, False), "b": ("number", 1.0, False), "c": ("number", 2**80, False)}, 1),
        ("wf", {"a": ("string", "x", False)}, True),
    ]
    for workflow, given_inputs, revision in cases:
        flat = [(name, t, v, s) for name, (t, v, s) in given_inputs.items()]
        assert inputs_key(workflow, flat, revision, SALT) == _slow(workflow, given_inputs, revision)
