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


# `planner.planned_inputs` gives a scalar input its desired type and value without `resolve`; this
# is the one rule for every input, which it must equal.
def _planned_general(run: Any, done: Any) -> dict[str, Any]:
    from reconciler.desired.runs import OutputRef
    from reconciler.parameters import infer_type
    from reconciler.planning.changes import PlannedInput
    from reconciler.planning.resolving import UNKNOWN, resolve

    def outputs(upstream: str) -> Any:
        record = done(upstream)
        return record.outputs if record is not None else None

    resolved = {}
    for name, i in run.inputs.items():
        value = resolve(i.value, outputs)
        type_name = i.type
        if i.type_inferred and isinstance(i.value, OutputRef) and value is not UNKNOWN:
            record = done(i.value.run)
            recorded = record.output_types.get(i.value.output) if record is not None else None
            type_name = recorded or infer_type(value) or i.type
        resolved[name] = PlannedInput(type_name, value, i.sensitive, i.source)
    return resolved


def _templates() -> Any:
    from reconciler.desired.runs import Interpolation, OutputRef

    refs = st.builds(OutputRef, st.sampled_from(["up", "gone"]), st.sampled_from(["o", "n"]))
    interpolations = st.builds(lambda r: Interpolation(("x-", r)), refs)
    return st.recursive(leaves | refs | interpolations, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(max_size=4), st.tuples(types, _templates(), st.booleans(), st.booleans()), max_size=5),
    st.booleans(),
    st.dictionaries(st.sampled_from(["o", "n"]), values, max_size=2),
    st.dictionaries(st.sampled_from(["o", "n"]), types, max_size=2),
)
def test_planned_inputs_equal_the_general_rule(
    given_inputs: dict[str, Any], upstream_done: bool, outputs: dict[str, Any], output_types: dict[str, str]
) -> None:
    from reconciler.desired.runs import DesiredInput, DesiredRun
    from reconciler.errors import MissingOutputError
    from reconciler.planning.changes import Action, Change
    from reconciler.planning.planner import _planned, _planned_lazily, planned_inputs, planned_key
    from reconciler.state.models import RunRecord

    run = DesiredRun(
        "r", "wf", {n: DesiredInput(t, v, s, None, type_inferred=inf) for n, (t, v, s, inf) in given_inputs.items()}
    )
    record = RunRecord(workflow="wf", key="k", outputs=outputs, output_types=output_types)

    def done(upstream: str) -> Any:
        return record if upstream_done and upstream == "up" else None

    def outcome(plan: Any) -> Any:
        try:
            return plan(run, done)
        except MissingOutputError as err:
            return str(err)

    fast, general = outcome(planned_inputs), outcome(_planned_general)
    assert fast == general
    # make_plan's path: the upstream is done when it is planned as a noop, then read from the records
    upstream = Change("up", Action.NOOP if upstream_done else Action.START, "", "wf")
    try:
        lazy, lazy_key = _planned_lazily(run, {"up": upstream}, {"up": record}, SALT)
    except MissingOutputError as err:
        assert str(err) == fast
    else:
        assert isinstance(fast, dict)
        assert repr(lazy) == repr(fast) and lazy == fast and list(lazy.items()) == list(fast.items())
        assert [type(i.value) for i in lazy.values()] == [type(i.value) for i in fast.values()]
        assert lazy_key == planned_key(run, fast, SALT)
    if isinstance(fast, dict):
        assert [type(i.value) for i in fast.values()] == [type(i.value) for i in general.values()]
        # make_plan takes the key from the same pass: it equals planned_key over those inputs
        together, flat = _planned(run, done)
        assert together == fast
        key = None if flat is None else inputs_key(run.workflow, flat, run.revision, SALT)
        assert key == planned_key(run, fast, SALT)


def test_the_remembered_heads_are_bounded_and_give_the_same_keys() -> None:
    from reconciler.planning import fingerprints

    flat = [("a", "string", "x", False), ("b", "number", 2, False), ("c", "boolean", True, False)]
    first = inputs_key("wf", flat, 1, SALT)
    for n in range(fingerprints._MAX_HEADS + 10):
        inputs_key("wf", [(f"n{n}", "string", "v", False)], 1, SALT)
    assert sum(len(by_name) for by_name in fingerprints.PLAIN_HEADS.values()) <= fingerprints._MAX_HEADS
    assert inputs_key("wf", flat, 1, SALT) == first == _slow("wf", {n: (t, v, s) for n, t, v, s in flat}, 1)


def test_make_plans_key_pass_leaves_unusual_names_and_revisions_to_inputs_key() -> None:
    from reconciler.desired.runs import DesiredInput, DesiredRun
    from reconciler.planning.planner import _planned_lazily, planned_inputs, planned_key

    unusual: dict[Any, DesiredInput] = {2: DesiredInput("number", 1), 1: DesiredInput("string", "x", True)}
    runs = [
        DesiredRun("r", "wf", unusual),
        DesiredRun("r", "wf", {"a": DesiredInput("number", 1.5)}, revision=True),
        DesiredRun("r", "wf", {"b": DesiredInput("boolean", False), "a": DesiredInput("number", 2**70)}),
    ]
    for run in runs:
        lazy, key = _planned_lazily(run, {}, {}, SALT)
        eager = planned_inputs(run, lambda upstream: None)
        assert lazy == eager and key == planned_key(run, eager, SALT) is not None
