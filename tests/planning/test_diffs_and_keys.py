"""Per-parameter diffs of a rerun (display only), and run keys (the decision), with secrets kept out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.planning.changes import Action, ParamChange, PlannedInput
from reconciler.planning.fingerprints import input_body, key_of, record_input, secret_hash
from reconciler.planning.planner import planned_key, recorded_inputs
from reconciler.planning.rendering import plan_document
from reconciler.planning.resolving import UNKNOWN
from reconciler.planning.saved import save
from reconciler.state.models import RecordedInput

from .stacks import SALT, SECRET, applied_state, plan, run_doc, stack

BEFORE: dict[str, Any] = {
    "size": 2,
    "name": "web",
    "tags": ["a", "b"],
    "props": {"type": "Properties", "value": {"k": "v", "nested": {"x": 1, "list": [1, 2]}}},
    "vm": {"type": "VC:VirtualMachine", "value": {"id": "vm-42"}},
    "pw": {"type": "SecureString", "valueFrom": {"env": "PW"}},
}

DIFFS = {
    "scalar-changed": ({"size": 4}, ParamChange("size", "changed", 2, 4)),
    "string-changed": ({"name": "web-2"}, ParamChange("name", "changed", "web", "web-2")),
    "list-item-changed": (
        {"tags": ["a", "c"]},
        ParamChange("tags", "changed", ["a", "b"], ["a", "c"], ("[1]: changed",)),
    ),
    "list-item-added": (
        {"tags": ["a", "b", "c"]},
        ParamChange("tags", "changed", ["a", "b"], ["a", "b", "c"], ("[2]: added",)),
    ),
    "list-item-removed": ({"tags": ["a"]}, ParamChange("tags", "changed", ["a", "b"], ["a"], ("[1]: removed",))),
    "nested-dict-changed": (
        {"props": {"type": "Properties", "value": {"k": "v", "nested": {"x": 2, "list": [1, 2]}}}},
        ParamChange(
            "props",
            "changed",
            {"k": "v", "nested": {"x": 1, "list": [1, 2]}},
            {"k": "v", "nested": {"x": 2, "list": [1, 2]}},
            ("['nested']['x']: changed",),
        ),
    ),
    "nested-list-in-dict": (
        {"props": {"type": "Properties", "value": {"k": "w", "nested": {"x": 1, "list": [1, 3]}, "new": True}}},
        ParamChange(
            "props",
            "changed",
            {"k": "v", "nested": {"x": 1, "list": [1, 2]}},
            {"k": "w", "nested": {"x": 1, "list": [1, 3]}, "new": True},
            ("['k']: changed", "['nested']['list'][1]: changed", "['new']: added"),
        ),
    ),
    "sdk-object-changed": (
        {"vm": {"type": "VC:VirtualMachine", "value": {"id": "vm-43"}}},
        ParamChange("vm", "changed", {"id": "vm-42"}, {"id": "vm-43"}, ("['id']: changed",)),
    ),
    "added": ({"zone": "eu-1"}, ParamChange("zone", "added", after="eu-1")),
    "removed": ({"name": None}, ParamChange("name", "removed", before="web")),
    "secret-added": (
        {"pw2": {"type": "SecureString", "valueFrom": {"env": "PW"}}},
        ParamChange("pw2", "added", after="(sensitive)"),
    ),
    "secret-removed": ({"pw": None}, ParamChange("pw", "removed", before="(sensitive)")),
    "type-changed": ({"size": "2"}, ParamChange("size", "changed", 2, "2")),
}


def _desired(overrides: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    params = {k: v for k, v in {**BEFORE, **overrides}.items() if v is not None}
    return stack(run_doc("web", "wf-web", params), environ=environ)


@pytest.mark.parametrize(("overrides", "expected"), list(DIFFS.values()), ids=list(DIFFS))
def test_rerun_diff_per_parameter(overrides: dict[str, Any], expected: ParamChange) -> None:
    state = applied_state(_desired({}))

    result = plan(_desired(overrides), state)
    change = result.by_run()["web"]

    assert change.action is Action.RERUN
    assert change.diff == (expected,)
    [document] = plan_document(result)["changes"][0]["diff"]
    assert document["parameter"] == expected.name and document["change"] == expected.kind
    assert ("before" in document) is (expected.kind != "added")
    assert ("after" in document) is (expected.kind != "removed")
    assert document.get("paths", []) == list(expected.details)


def test_diff_of_several_parameters_is_sorted_by_name() -> None:
    state = applied_state(_desired({}))

    change = plan(_desired({"size": 3, "name": "x", "zone": "z"}), state).by_run()["web"]

    assert [p.name for p in change.diff] == ["name", "size", "zone"]


def test_diff_shows_workflow_and_revision_before_parameters() -> None:
    state = applied_state(_desired({}))
    desired = stack(run_doc("web", "wf-web-2", {**BEFORE, "size": 3}, revision=5))

    change = plan(desired, state).by_run()["web"]

    assert change.diff[:2] == (
        ParamChange("(workflow)", "changed", "wf-web", "wf-web-2"),
        ParamChange("(revision)", "changed", 1, 5),
    )
    assert change.reason == "workflow changed"


def test_a_replace_with_unchanged_inputs_has_an_empty_diff() -> None:
    desired = _desired({})
    change = plan(desired, applied_state(desired), replace=["web"]).by_run()["web"]
    assert (change.action, change.diff) == (Action.RERUN, ())


@pytest.mark.parametrize(
    "overrides",
    [{}, {"size": 9}, {"pw": None}, {"pw2": {"type": "SecureString", "valueFrom": {"env": "PW"}}}],
    ids=["unchanged", "other-param", "secret-removed", "secret-added"],
)
@pytest.mark.parametrize("new_secret", [SECRET, "n3w-" + SECRET], ids=["same-secret", "new-secret"])
def test_secrets_never_appear_in_clear(overrides: dict[str, Any], new_secret: str) -> None:
    state = applied_state(_desired({}))

    result = plan(_desired(overrides, {"PW": new_secret}), state, replace=["web"])
    change = result.by_run()["web"]

    texts = [
        json.dumps(plan_document(result)),
        repr(change.diff),
        repr(change),
        repr(result),
        change.reason,
        save(result, {}, [], "2026-01-31T10:00:00Z"),
        state.model_dump_json(),
    ]
    for text in texts:
        assert SECRET not in text
        assert new_secret not in text
    if "pw" in change.inputs:
        assert change.inputs["pw"].value == new_secret  # still there, in memory, for apply
        assert plan_document(result)["changes"][0]["inputs"]["pw"] == "(sensitive)"


def test_a_sensitive_variable_is_redacted_like_a_secret() -> None:
    item = PlannedInput("string", "hunter2", sensitive=True, source="var:token")
    assert "hunter2" not in repr(item)
    assert "hunter2" not in str(item)


# --- run keys -------------------------------------------------------------------------------------------


def _inputs(**values: Any) -> dict[str, PlannedInput]:
    return {n: PlannedInput("Properties" if isinstance(v, dict) else "string", v) for n, v in values.items()}


def test_equal_inputs_give_equal_keys_regardless_of_order() -> None:
    run = stack(run_doc("web", "wf", {"a": 1})).runs["web"]
    one = _inputs(a="x", b={"p": 1, "q": {"r": [1, 2], "s": None}})
    two = dict(reversed(list(_inputs(a="x", b={"q": {"s": None, "r": [1, 2]}, "p": 1}).items())))

    assert planned_key(run, one, SALT) == planned_key(run, two, SALT)


@st.composite
def _values(draw: st.DrawFn) -> dict[str, Any]:
    leaves = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none())
    tree = st.recursive(leaves, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3))
    return draw(st.dictionaries(st.text(min_size=1, max_size=4), tree, max_size=5))


def _reorder(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


def run_key(workflow: str, inputs: Mapping[str, RecordedInput], revision: int) -> str:
    """The key of recorded inputs: `key_of` over their bodies (a secret's hash as recorded)."""
    bodies = {
        n: {"type": i.type, "hash": i.hash} if i.sensitive else input_body(i.type, i.value, False, SALT)
        for n, i in inputs.items()
    }
    return key_of(workflow, bodies, revision)


@settings(max_examples=50, deadline=None)
@given(_values())
def test_key_depends_on_content_not_on_mapping_order(values: dict[str, Any]) -> None:
    inputs = {n: record_input("Properties", v, False, SALT) for n, v in values.items()}
    reordered = {n: record_input("Properties", _reorder(values[n]), False, SALT) for n in reversed(list(values))}
    assert run_key("wf", inputs, 1) == run_key("wf", reordered, 1)


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (("wf-2", {"a": "x"}, 1), "workflow"),
        (("wf", {"a": "x"}, 2), "revision"),
        (("wf", {"a": "y"}, 1), "value"),
        (("wf", {"a": "x", "b": "x"}, 1), "added input"),
        (("wf", {}, 1), "removed input"),
        (("wf", {"b": "x"}, 1), "renamed input"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_any_difference_gives_another_key(other: tuple[str, dict[str, Any], int], why: str) -> None:
    def key(workflow: str, values: dict[str, Any], revision: int) -> str:
        return run_key(workflow, {n: record_input("string", v, False, SALT) for n, v in values.items()}, revision)

    assert key("wf", {"a": "x"}, 1) != key(*other), why


def test_type_is_part_of_the_key() -> None:
    assert run_key("wf", {"a": record_input("string", "2", False, SALT)}, 1) != run_key(
        "wf", {"a": record_input("Date", "2", False, SALT)}, 1
    )


def test_secrets_enter_keys_and_records_only_as_a_keyed_hash() -> None:
    recorded = record_input("SecureString", SECRET, True, SALT)

    assert recorded.value is None and recorded.sensitive
    assert recorded.hash == secret_hash(SALT, SECRET)
    assert recorded.hash is not None and recorded.hash.startswith("hmac-sha256:")
    assert SECRET not in recorded.model_dump_json()
    key = run_key("wf", {"pw": recorded}, 1)
    assert SECRET not in key
    assert run_key("wf", {"pw": record_input("SecureString", "other", True, SALT)}, 1) != key


def test_a_different_salt_gives_a_different_hash_and_key() -> None:
    one, two = record_input("SecureString", SECRET, True, SALT), record_input("SecureString", SECRET, True, "other")

    assert one.hash != two.hash
    assert run_key("wf", {"pw": one}, 1) != run_key("wf", {"pw": two}, 1)
    assert secret_hash(SALT, SECRET) == secret_hash(SALT, SECRET)


def test_the_key_of_a_plan_is_what_the_record_holds_after_apply() -> None:
    desired = _desired({})
    state = applied_state(desired)
    change = plan(desired, state).by_run()["web"]

    assert change.key == state.runs["web"].key
    assert recorded_inputs(change.inputs, SALT) == state.runs["web"].inputs


def test_no_key_while_any_input_is_unknown() -> None:
    run = stack(run_doc("web", "wf", {"a": 1})).runs["web"]
    assert planned_key(run, {"a": PlannedInput("string", UNKNOWN), "b": PlannedInput("string", "x")}, SALT) is None
