"""SPEC 3.1, the decision table: one action and one reason per declared run, row by row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.parameters import UNKNOWN_MARK
from reconciler.planning.changes import Action
from reconciler.planning.planner import planned_key
from reconciler.planning.rendering import plan_document
from reconciler.planning.resolving import UNKNOWN
from reconciler.state.models import IN_PROGRESS, Execution, PendingStart

from .stacks import (
    SECRET,
    applied_state,
    completed_record,
    empty_state,
    plan,
    resolved_inputs,
    run_doc,
    stack,
    with_record,
)

BASE_PARAMS: dict[str, Any] = {
    "size": 2,
    "name": "web",
    "tags": ["a", "b"],
    "pw": {"type": "SecureString", "valueFrom": {"env": "PW"}},
}


@dataclass(frozen=True)
class Row:
    """One row: how the manifest and the record differ from 'applied as declared', and the verdict."""

    action: Action
    reason: str  # a fragment the reason must contain
    spec: dict[str, Any] = field(default_factory=dict)  # manifest spec overrides
    params: dict[str, Any] = field(default_factory=dict)  # parameter overrides (None removes)
    record: dict[str, Any] | None = field(default_factory=dict)  # record updates; None: no record
    environ: dict[str, str] = field(default_factory=dict)
    replace: bool = False
    diff: tuple[str, ...] = ()  # parameters named by the rerun's diff


def _spec(row_spec: dict[str, Any]) -> dict[str, Any]:
    return {"onFailure": "stop", **row_spec}


def _failed(state: str = "failed", error: str | None = "VcoException: no capacity left") -> dict[str, Any]:
    return {"state": state, "error": error}


ROWS = {
    "start/no-record": Row(Action.START, "not yet run", record=None),
    "start/record-without-execution": Row(Action.START, "recorded without an execution", record={"execution": None}),
    "noop/completed-same-key": Row(Action.NOOP, "completed with the same inputs"),
    "rerun/workflow-changed": Row(
        Action.RERUN, "workflow changed", spec={"workflow": "wf-web-v2"}, diff=("(workflow)",)
    ),
    "rerun/revision-changed": Row(
        Action.RERUN, "revision changed (1 -> 2)", spec={"revision": 2}, diff=("(revision)",)
    ),
    "rerun/input-value-changed": Row(Action.RERUN, "inputs changed", params={"size": 4}, diff=("size",)),
    "rerun/input-nested-changed": Row(Action.RERUN, "inputs changed", params={"tags": ["a", "c"]}, diff=("tags",)),
    "rerun/input-added": Row(Action.RERUN, "inputs changed", params={"zone": "eu-1"}, diff=("zone",)),
    "rerun/input-removed": Row(Action.RERUN, "inputs changed", params={"name": None}, diff=("name",)),
    "rerun/secret-changed": Row(Action.RERUN, "inputs changed", environ={"PW": "another-secret"}, diff=("pw",)),
    "rerun/replace": Row(Action.RERUN, "--replace", replace=True),
    "rerun/replace-of-failed-stop": Row(Action.RERUN, "--replace", record={"execution": _failed()}, replace=True),
    "retry/failed-attempts-left": Row(
        Action.RETRY,
        "last execution failed; attempt 2 of 3",
        spec={"onFailure": "retry", "maxAttempts": 3},
        record={"execution": _failed(), "attempts": 1},
    ),
    "retry/canceled-attempts-left": Row(
        Action.RETRY,
        "last execution canceled; attempt 3 of 3",
        spec={"onFailure": "retry", "maxAttempts": 3},
        record={"execution": _failed("canceled", None), "attempts": 2},
    ),
    "retry/default-max-attempts-is-3": Row(
        Action.RETRY,
        "attempt 3 of 3",
        spec={"onFailure": "retry"},
        record={"execution": _failed(), "attempts": 2},
    ),
    "failed/attempts-exhausted": Row(
        Action.FAILED,
        "failed after 3 attempts (maxAttempts 3): VcoException: no capacity left",
        spec={"onFailure": "retry", "maxAttempts": 3},
        record={"execution": _failed(), "attempts": 3},
    ),
    "failed/on-failure-stop": Row(
        Action.FAILED,
        "last execution failed (onFailure: stop): VcoException: no capacity left",
        record={"execution": _failed()},
    ),
    "failed/canceled-on-failure-stop": Row(
        Action.FAILED,
        "last execution canceled (onFailure: stop)",
        record={"execution": _failed("canceled", None)},
    ),
    **{
        f"await/{state}": Row(Action.AWAIT, f"is still {state}", record={"execution": {"state": state}})
        for state in sorted(IN_PROGRESS)
    },
    "await/in-progress-wins-over-changed-inputs": Row(
        Action.AWAIT, "is still running", params={"size": 9}, record={"execution": {"state": "running"}}
    ),
    "await/in-progress-wins-over-replace": Row(
        Action.AWAIT, "is still running", record={"execution": {"state": "running"}}, replace=True
    ),
    "await/completed-outputs-not-read": Row(
        Action.AWAIT, "exec-web completed; outputs not read yet", record={"outputs": {}, "outputs_read": False}
    ),
    "await/completed-outputs-not-read-though-some-recorded": Row(
        Action.AWAIT, "outputs not read yet", record={"outputs_read": False}
    ),
    "await/completed-before-the-flag-without-outputs": Row(
        Action.AWAIT, "outputs not read yet", record={"outputs": {}, "outputs_read": None}
    ),
    "await/outputs-not-read-wins-over-changed-inputs": Row(
        Action.AWAIT, "outputs not read yet", params={"size": 9}, record={"outputs_read": False}
    ),
    "await/outputs-not-read-wins-over-replace": Row(
        Action.AWAIT, "outputs not read yet", record={"outputs_read": False}, replace=True
    ),
    "noop/completed-without-outputs-read": Row(
        Action.NOOP, "completed with the same inputs", record={"outputs": {}, "outputs_read": True}
    ),
    "noop/completed-before-the-flag-with-outputs": Row(
        Action.NOOP, "completed with the same inputs", record={"outputs_read": None}
    ),
    "failed/failed-outputs-never-read": Row(
        Action.FAILED, "last execution failed (onFailure: stop)", record={"execution": _failed(), "outputs_read": False}
    ),
    "await/pending-interrupted-start": Row(
        Action.AWAIT,
        "a start was interrupted",
        record={"pending": PendingStart(key="sha256:x", requested_at="2026-01-31T10:00:00+00:00"), "execution": None},
    ),
}


def test_every_action_has_a_row() -> None:
    # deletes: test_delete_*; moves (a Plan's moves, not a run's decision): test_moves.py
    covered = {row.action for row in ROWS.values()} | {Action.DELETE, Action.MOVED}
    assert covered == set(Action)


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_decision_table(row: Row) -> None:
    declared = stack(run_doc("web", "wf-web", BASE_PARAMS, **_spec({})))
    state = applied_state(declared)
    if row.record is None:
        state = state.model_copy(update={"runs": {}})
    elif row.record:
        state = with_record(state, "web", **row.record)
    params = {k: v for k, v in {**BASE_PARAMS, **row.params}.items() if v is not None}
    spec = _spec(row.spec)
    desired = stack(run_doc("web", spec.pop("workflow", "wf-web"), params, **spec), environ=_env(row))

    change = plan(desired, state, replace=["web"] if row.replace else []).by_run()["web"]

    assert change.action is row.action
    assert row.reason in change.reason
    assert tuple(p.name for p in change.diff) == row.diff
    assert change.key == planned_key(desired.runs["web"], change.inputs, state.salt)
    if row.record is not None and state.runs["web"].execution is not None:
        execution = state.runs["web"].execution
        assert (change.execution_id, change.execution_state) == (execution.id, execution.state)


def _env(row: Row) -> dict[str, str]:
    return {"PW": SECRET, **row.environ}


def test_secret_change_is_seen_only_through_the_keyed_hash() -> None:
    declared = stack(run_doc("web", "wf-web", BASE_PARAMS))
    state = applied_state(declared)
    recorded = state.runs["web"].inputs["pw"]
    assert recorded.sensitive and recorded.value is None and recorded.hash and SECRET not in recorded.hash

    same = plan(stack(run_doc("web", "wf-web", BASE_PARAMS)), state).by_run()["web"]
    changed = plan(stack(run_doc("web", "wf-web", BASE_PARAMS), environ={"PW": "other"}), state).by_run()["web"]

    assert same.action is Action.NOOP
    assert changed.action is Action.RERUN
    assert [(p.name, p.before, p.after) for p in changed.diff] == [("pw", "(sensitive)", "(sensitive)")]


def test_delete_a_record_without_manifest() -> None:
    state = applied_state(stack(run_doc("web", "wf-web", {"size": 1}), run_doc("old", "wf-old", {"size": 1})))
    desired = stack(run_doc("web", "wf-web", {"size": 1}))

    result = plan(desired, state)

    delete = result.by_run()["old"]
    assert (delete.action, delete.reason, delete.workflow) == (Action.DELETE, "no longer declared", "wf-old")
    assert (delete.execution_id, delete.execution_state, delete.key) == ("exec-old", "completed", None)
    assert [c.run for c in result.changes] == ["web", "old"]
    assert result.summary()["delete"] == 1 and result.has_changes


@pytest.mark.parametrize("state_name", sorted(IN_PROGRESS))
def test_delete_of_a_running_execution_says_it_will_be_canceled(state_name: str) -> None:
    state = applied_state(stack(run_doc("old", "wf-old", {"size": 1})))
    state = with_record(state, "old", execution={"state": state_name, "id": "exec-77"})

    delete = plan(stack(), state).by_run()["old"]

    assert delete.action is Action.DELETE
    assert delete.reason == "no longer declared; execution exec-77 will be canceled"


def test_delete_of_a_record_without_execution() -> None:
    state = applied_state(stack(run_doc("old", "wf-old", {"size": 1})))
    state = with_record(state, "old", execution=None)

    delete = plan(stack(), state).by_run()["old"]

    assert (delete.action, delete.reason, delete.execution_id) == (Action.DELETE, "no longer declared", None)


# --- (known after apply) -------------------------------------------------------------------------------

DOWNSTREAM = {
    "net": "${runs.net.outputs.id}",
    "label": "vm-${runs.net.outputs.id}-${runs.net.outputs.count}",
    "ports": {"type": "Array/number", "value": "${runs.net.outputs.ports}"},
    "size": 2,
}
NET_OUTPUTS = {"id": "net-7", "count": 3, "ports": [80, 443]}


def _pair(net_params: dict[str, Any] | None = None, **net_spec: Any) -> Any:
    return stack(
        run_doc("net", "wf-net", net_params or {"cidr": "10.0.0.0/24"}, **net_spec),
        run_doc("web", "wf-web", DOWNSTREAM),
    )


def _pair_state(web_recorded: bool = True) -> Any:
    desired = _pair()
    state = empty_state()
    state = state.model_copy(update={"runs": {"net": completed_record(desired, "net", state, NET_OUTPUTS)}})
    if web_recorded:
        state = state.model_copy(update={"runs": {**state.runs, "web": completed_record(desired, "web", state)}})
    return state


@dataclass(frozen=True)
class Upstream:
    """What happens to ``net`` (the upstream of ``web``) in the plan."""

    action: Action
    execution: dict[str, Any] | None = None  # record update of net's execution
    removed: bool = False  # net has no record
    pending: bool = False  # net's start was interrupted
    params: dict[str, Any] | None = None  # net's new parameters
    spec: dict[str, Any] = field(default_factory=dict)
    replace: bool = False


UPSTREAM_UNKNOWN = {
    "upstream-starts": Upstream(Action.START, removed=True),
    "upstream-reruns": Upstream(Action.RERUN, params={"cidr": "10.9.0.0/24"}),
    "upstream-replaced": Upstream(Action.RERUN, replace=True),
    "upstream-awaited-running": Upstream(Action.AWAIT, execution={"state": "running"}),
    "upstream-awaited-waiting-signal": Upstream(Action.AWAIT, execution={"state": "waiting-signal"}),
    "upstream-pending": Upstream(Action.AWAIT, pending=True),
    "upstream-retries": Upstream(Action.RETRY, execution={"state": "failed"}, spec={"onFailure": "retry"}),
}


def _upstream_state(case: Upstream, web_recorded: bool) -> Any:
    state = _pair_state(web_recorded)
    if case.removed:
        return state.model_copy(update={"runs": {k: v for k, v in state.runs.items() if k != "net"}})
    if case.pending:
        pending = PendingStart(key="sha256:p", requested_at="2026-01-31T10:00:00+00:00")
        return with_record(state, "net", pending=pending, execution=None)
    if case.execution:
        return with_record(state, "net", execution=case.execution)
    return state


@pytest.mark.parametrize("web_recorded", [True, False], ids=["downstream-recorded", "downstream-new"])
@pytest.mark.parametrize("case", list(UPSTREAM_UNKNOWN.values()), ids=list(UPSTREAM_UNKNOWN))
def test_downstream_of_an_upstream_without_known_outputs_is_known_after_apply(
    case: Upstream, web_recorded: bool
) -> None:
    state = _upstream_state(case, web_recorded)
    desired = _pair(case.params, **case.spec)

    result = plan(desired, state, replace=["net"] if case.replace else [])
    net, web = result.by_run()["net"], result.by_run()["web"]

    assert net.action is case.action
    assert web.action is (Action.RERUN if web_recorded else Action.START)
    if web_recorded:
        assert web.reason == "inputs depend on outputs known after apply; re-runs only if they change"
    assert web.key is None
    assert {n: i.value is UNKNOWN for n, i in web.inputs.items()} == {
        "net": True,
        "label": True,
        "ports": True,
        "size": False,
    }
    document = next(c for c in plan_document(result)["changes"] if c["run"] == "web")
    assert document["inputs"] == {"net": UNKNOWN_MARK, "label": UNKNOWN_MARK, "ports": UNKNOWN_MARK, "size": 2}
    assert "key" not in document


@pytest.mark.parametrize("web_recorded", [True, False], ids=["downstream-recorded", "downstream-new"])
def test_downstream_of_a_failed_upstream_is_blocked_not_a_change(web_recorded: bool) -> None:
    case = Upstream(Action.FAILED, execution={"state": "failed"})
    result = plan(_pair(case.params, **case.spec), _upstream_state(case, web_recorded))
    web = result.by_run()["web"]

    assert web.action is Action.FAILED
    assert web.reason == "blocked: depends on net, which failed and will not be retried"
    assert not result.has_changes
    assert any(w.startswith("web: blocked") for w in result.warnings)


def test_downstream_of_a_noop_upstream_resolves_recorded_outputs() -> None:
    state = _pair_state(web_recorded=False)

    web = plan(_pair(), state).by_run()["web"]

    assert web.action is Action.START
    values = {n: i.value for n, i in web.inputs.items()}
    # a whole-value reference keeps the output's type; an interpolation renders a string
    assert values == {"net": "net-7", "label": "vm-net-7-3", "ports": [80, 443], "size": 2}
    assert web.key is not None


def test_downstream_of_a_noop_upstream_with_the_same_outputs_is_noop() -> None:
    web = plan(_pair(), _pair_state()).by_run()["web"]

    assert (web.action, web.diff) == (Action.NOOP, ())


def test_downstream_sees_a_changed_recorded_output_as_an_input_change() -> None:
    state = _pair_state()
    state = with_record(state, "net", outputs={**NET_OUTPUTS, "id": "net-8"})

    web = plan(_pair(), state).by_run()["web"]

    assert web.action is Action.RERUN and web.reason == "inputs changed"
    assert [(p.name, p.before, p.after) for p in web.diff] == [
        ("label", "vm-net-7-3", "vm-net-8-3"),
        ("net", "net-7", "net-8"),
    ]


def test_interpolation_of_non_string_outputs_renders_json() -> None:
    desired = stack(
        run_doc("net", "wf-net", {"cidr": "x"}),
        run_doc("web", "wf-web", {"all": "p=${runs.net.outputs.ports} ok=${runs.net.outputs.ok}"}),
    )
    state = empty_state()
    state = state.model_copy(
        update={"runs": {"net": completed_record(desired, "net", state, {"ports": [80, 443], "ok": True})}}
    )

    web = plan(desired, state).by_run()["web"]

    assert web.inputs["all"].value == "p=[80, 443] ok=true"


def test_missing_output_of_a_noop_upstream_is_a_manifest_error_with_location() -> None:
    desired = _pair()
    state = _pair_state()
    state = with_record(state, "net", outputs={"count": 3, "ports": []})

    with pytest.raises(ManifestError) as caught:
        plan(desired, state)

    [problem] = caught.value.problems
    assert "run 'net' has no output 'id' (it has: count, ports)" in problem.message
    assert problem.location.file == "manifests/runs.yaml"
    assert problem.location.line > 0 and problem.location.column > 0
    assert str(problem.location) in str(caught.value)


def test_missing_output_of_an_upstream_that_will_rerun_is_not_an_error() -> None:
    state = with_record(_pair_state(), "net", outputs={})

    web = plan(_pair({"cidr": "10.9.0.0/24"}), state).by_run()["web"]

    assert web.action is Action.RERUN and web.key is None


def test_downstream_resolved_inputs_match_what_apply_would_record() -> None:
    state = _pair_state()
    desired = _pair()
    web = plan(desired, state).by_run()["web"]
    assert {n: i.value for n, i in web.inputs.items()} == {
        n: i.value for n, i in resolved_inputs(desired, "web", state).items()
    }


# --- --target and --replace ------------------------------------------------------------------------------


def _chain() -> Any:
    return stack(
        run_doc("a", "wf", {"x": 1}),
        run_doc("b", "wf", {"up": "${runs.a.outputs.id}"}),
        run_doc("c", "wf", {"x": 3}, dependsOn=["b"]),
        run_doc("d", "wf", {"x": 4}),
    )


def _chain_state() -> Any:
    state = applied_state(stack(run_doc("old", "wf-old", {"x": 0})))
    return state


TARGETS = {
    "no-target-plans-everything": ((), ["a", "b", "c", "d", "old"]),
    "leaf-includes-dependencies-transitively": (("c",), ["a", "b", "c"]),
    "reference-is-a-dependency": (("b",), ["a", "b"]),
    "root-alone": (("a",), ["a"]),
    "two-targets": (("a", "d"), ["a", "d"]),
    "delete-only-when-targeted": (("old",), ["old"]),
    "delete-and-run": (("old", "b"), ["a", "b", "old"]),
}


@pytest.mark.parametrize(("targets", "expected"), list(TARGETS.values()), ids=list(TARGETS))
def test_target(targets: tuple[str, ...], expected: list[str]) -> None:
    result = plan(_chain(), _chain_state(), targets=targets)

    assert [c.run for c in result.changes] == expected
    assert result.targets == targets


@pytest.mark.parametrize(
    ("targets", "replace", "message"),
    [
        (("nope",), (), "command line: no run named 'nope'"),
        ((), ("nope",), "command line: no run named 'nope'"),
        (("a", "x", "y"), (), "no run named 'x'"),
        ((), ("old",), "--replace: run 'old' is not declared; it cannot be re-run"),
    ],
    ids=["unknown-target", "unknown-replace", "several-unknown", "replace-of-undeclared"],
)
def test_unknown_names_are_manifest_errors(targets: tuple[str, ...], replace: tuple[str, ...], message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        plan(_chain(), _chain_state(), targets=targets, replace=replace)

    assert message in str(caught.value)


def test_several_unknown_names_are_all_reported() -> None:
    with pytest.raises(ManifestError) as caught:
        plan(_chain(), _chain_state(), targets=("x",), replace=("y",))

    assert len(caught.value.problems) == 2


def test_replace_forces_a_rerun_of_only_that_run_and_makes_dependents_unknown() -> None:
    desired = _chain()
    state = applied_state(desired)

    result = plan(desired, state, replace=["a"])

    actions = {c.run: c.action for c in result.changes}
    assert actions == {"a": Action.RERUN, "b": Action.RERUN, "c": Action.NOOP, "d": Action.NOOP}
    assert result.by_run()["a"].key == state.runs["a"].key  # same inputs: a new execution all the same
    assert result.by_run()["b"].key is None
    assert result.replace == ("a",)


def test_failed_upstream_records_are_reported_not_retried() -> None:
    desired = stack(run_doc("a", "wf", {"x": 1}))
    state = with_record(applied_state(desired), "a", execution={"state": "failed", "error": "boom"})

    result = plan(desired, state)

    assert not result.has_changes
    assert result.summary() == {a.value: int(a is Action.FAILED) for a in Action}
    assert plan_document(result)["warnings"] == ["a: last execution failed (onFailure: stop): boom"]


def test_pending_record_of_a_new_run_is_awaited_not_started_again() -> None:
    desired = stack(run_doc("a", "wf", {"x": 1}))
    state = applied_state(desired)
    pending = PendingStart(key=state.runs["a"].key, requested_at="2026-01-31T10:00:00+00:00")
    state = with_record(state, "a", pending=pending, execution=Execution(id="e-old", state="completed"))

    change = plan(desired, state).by_run()["a"]

    assert change.action is Action.AWAIT


def test_reference_to_a_sensitive_output_says_so() -> None:
    state = with_record(_pair_state(), "net", outputs={"count": 3, "ports": []}, sensitive_outputs=["id"])

    with pytest.raises(ManifestError, match="output 'id' of run 'net' is sensitive: it is not kept in the state"):
        plan(_pair(), state)


def test_a_shorthand_whole_reference_takes_the_recorded_output_type() -> None:
    desired = stack(
        run_doc("net", "wf-net", {"cidr": "x"}), run_doc("web", "wf-web", {"ports": "${runs.net.outputs.ports}"})
    )
    state = empty_state()
    record = completed_record(desired, "net", state, {"ports": [80, 443]})
    state = state.model_copy(
        update={"runs": {"net": record.model_copy(update={"output_types": {"ports": "Array/number"}})}}
    )

    web = plan(desired, state).by_run()["web"]

    assert web.inputs["ports"].value == [80, 443]
    assert web.inputs["ports"].type == "Array/number"
