"""A completed run whose outputs were never read (a crash between recording its end and reading it) is
awaited, never taken as done: its dependents wait for the outputs instead of failing on them."""

from __future__ import annotations

import json

from reconciler.desired.runs import DesiredStack
from reconciler.planning.changes import Action
from reconciler.state.models import RunRecord, State

from .stacks import SECRET, applied_state, plan, run_doc, stack, with_record


def _pair() -> tuple[DesiredStack, State]:
    desired = stack(run_doc("one", "wf-one", {"size": 1}), run_doc("two", "wf-two", {"id": "${runs.one.outputs.id}"}))
    return desired, applied_state(desired)


def test_a_dependent_of_an_unread_upstream_is_known_after_apply_not_an_error() -> None:
    desired, state = _pair()
    state = with_record(state, "one", outputs={}, output_types={}, outputs_read=False)

    changes = plan(desired, state).by_run()  # today: ManifestError "run 'one' has no output 'id'"

    assert changes["one"].action is Action.AWAIT
    assert changes["two"].action is Action.RERUN
    assert "known after apply" in changes["two"].reason


def test_a_state_written_before_the_flag_loads_and_plans_as_before() -> None:
    desired, state = _pair()
    document = json.loads(state.model_dump_json(by_alias=True))
    for record in document["runs"].values():
        del record["outputsRead"]  # as today's code wrote it
    old = State.model_validate(document)

    assert all(r.outputs_read is None for r in old.runs.values())
    assert {c.run: c.action for c in plan(desired, old).changes} == {"one": Action.NOOP, "two": Action.NOOP}


def test_the_flag_is_camel_case_on_disk_and_read_back() -> None:
    record = RunRecord(workflow="w", key="k", outputs_read=True)
    document = json.loads(record.model_dump_json(by_alias=True))
    assert document["outputsRead"] is True
    assert RunRecord.model_validate(document).outputs_read is True


def test_refresh_has_work_for_a_completed_record_with_outputs_unread() -> None:
    _, state = _pair()
    assert not state.has_work_in_progress()
    assert with_record(state, "one", outputs_read=False).has_work_in_progress()
    assert with_record(state, "one", outputs={}).has_work_in_progress()  # written before the flag, no outputs
    assert not with_record(state, "one", outputs={}, outputs_read=True).has_work_in_progress()


def test_a_secret_an_older_state_recorded_in_an_error_is_not_shown_by_plan() -> None:
    desired = stack(run_doc("web", "wf-web", {"pw": {"type": "SecureString", "valueFrom": {"env": "PW"}}}))
    state = applied_state(desired)
    state = with_record(state, "web", execution={"state": "failed", "error": f"login {SECRET} refused"})

    change = plan(desired, state).by_run()["web"]

    assert change.action is Action.FAILED
    assert change.reason.endswith(": login (sensitive) refused") and SECRET not in change.reason
