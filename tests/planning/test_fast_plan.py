"""`make_plan` (lazy inputs, inline references, skipped passes) equals the plain planner.

Compared through ``repr`` as well as ``==``: equality alone takes 1 for True and 1.0, repr does not,
and it reads every lazily built input."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.planning.changes import Action, Change, ParamChange, Plan, PlannedInput, PlannedInputs, new_change
from reconciler.planning.diffs import display, display_value
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.planning.rendering import plan_document
from reconciler.planning.resolving import UNKNOWN

from .reference import reference_plan
from .stacks import load, run_doc, stack, to_yaml, with_record
from .test_properties import FAST, generated_stacks, layouts, states


def _outcome(plan: Any, *args: Any) -> Plan | list[str]:
    try:
        result: Plan = plan(*args)
    except ManifestError as err:
        return [f"{p.location}: {p.message}" for p in err.problems]
    return result


def _assert_same(fast: Plan | list[str], plain: Plan | list[str]) -> None:
    assert repr(fast) == repr(plain)
    assert fast == plain
    if isinstance(fast, Plan) and isinstance(plain, Plan):
        assert plan_document(fast) == plan_document(plain)
        assert fast.summary() == plain.summary() and fast.has_changes == plain.has_changes
        for a, b in zip(fast.changes, plain.changes, strict=True):
            assert list(a.inputs.items()) == list(b.inputs.items())
            assert [type(i.value) for i in a.inputs.values()] == [type(i.value) for i in b.inputs.values()]


@FAST
@given(st.data())
def test_make_plan_equals_the_plain_planner(data: st.DataObject) -> None:
    generated = data.draw(generated_stacks())
    state = data.draw(states(generated, settled_failures=data.draw(st.booleans())))
    desired = load(data.draw(layouts(generated.documents)))
    known = sorted(set(desired.runs) | set(state.runs))
    options = PlanOptions(
        targets=tuple(data.draw(st.lists(st.sampled_from(known), unique=True, max_size=2))),
        replace=tuple(data.draw(st.lists(st.sampled_from(sorted(desired.runs)), unique=True, max_size=2))),
    )
    for opts in (PlanOptions(), options):
        exists = bool(state.runs)
        _assert_same(
            _outcome(make_plan, desired, state, exists, opts), _outcome(reference_plan, desired, state, exists, opts)
        )


def test_missing_outputs_and_unknown_names_are_reported_alike() -> None:
    from .stacks import applied_state

    desired = stack(
        run_doc("up", parameters={"a": 1}),
        run_doc("down", parameters={"x": "${runs.up.outputs.nope}", "y": "p-${runs.up.outputs.other}"}),
    )
    state = with_record(applied_state(stack(run_doc("up", parameters={"a": 1}))), "up", outputs={"id": "i"})
    for opts in (PlanOptions(), PlanOptions(targets=("ghost",)), PlanOptions(replace=("ghost",))):
        _assert_same(
            _outcome(make_plan, desired, state, True, opts), _outcome(reference_plan, desired, state, True, opts)
        )


def test_planned_inputs_mapping_reads_like_the_dict() -> None:
    desired = load(to_yaml(run_doc("r", parameters={"b": 1, "a": "x", "c": [1, 2]})))
    run = desired.runs["r"]
    lazy = PlannedInputs(run.inputs, {"c": ("Array/number", [1, 2])})
    eager = {
        "b": PlannedInput("number", 1),
        "a": PlannedInput("string", "x"),
        "c": PlannedInput("Array/number", [1, 2]),
    }
    assert lazy == eager and eager == lazy and dict(lazy) == eager
    assert list(lazy) == list(eager) and len(lazy) == 3 and "a" in lazy and "z" not in lazy
    assert repr(lazy) == repr(eager) and lazy.get("z") is None
    assert PlannedInputs(run.inputs, None)["c"] == PlannedInput(run.inputs["c"].type, run.inputs["c"].value)
    unknown = PlannedInputs(run.inputs, {"c": ("Array/number", UNKNOWN)})
    for inputs in (lazy, unknown):  # what plan --json shows of them, read without building each input
        shown = inputs.shown(display_value)
        assert list(shown.items()) == [(n, display(i)) for n, i in inputs.items()]


texts = st.text(max_size=5)
optional = st.none() | texts


@given(
    st.tuples(texts, st.sampled_from(list(Action)), texts, texts),
    st.dictionaries(texts, st.builds(PlannedInput, texts, st.integers() | texts, st.booleans(), optional), max_size=2),
    optional,
    st.lists(texts, max_size=2).map(tuple),
    optional,
    optional,
)
def test_new_change_equals_the_dataclass_constructor(
    head: tuple[str, Action, str, str],
    inputs: dict[str, PlannedInput],
    key: str | None,
    depends_on: tuple[str, ...],
    execution_id: str | None,
    execution_state: str | None,
) -> None:
    run, action, reason, workflow = head
    diff = (ParamChange("p", "changed", 1, 2),) if key else ()
    args = (run, action, reason, workflow, inputs, key, depends_on, diff, execution_id, execution_state)
    fast, plain = new_change(*args), Change(*args)
    assert fast == plain and repr(fast) == repr(plain)
    assert [getattr(fast, f.name) for f in fields(Change)] == list(args)
    with pytest.raises(FrozenInstanceError):
        fast.run = "other"  # type: ignore[misc]
