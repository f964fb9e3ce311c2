"""Saved plans (SPEC 4): the file round-trips, and a plan made from another basis is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import PlanStaleError
from reconciler.planning.changes import Action
from reconciler.planning.planner import make_plan
from reconciler.planning.rendering import plan_document
from reconciler.planning.saved import FORMAT, SavedPlan, check_basis, check_same, fingerprint, load, save

from .stacks import LINEAGE, applied_state, empty_state, plan, run_doc, stack, with_record

PATH = "plans/tomorrow.plan"
CREATED = "2026-01-31T10:00:00Z"


def _desired(size: int = 2, **env: str) -> Any:
    return stack(
        run_doc("net", "wf-net", {"cidr": "10.0.0.0/24"}),
        run_doc(
            "web",
            "wf-web",
            {"size": size, "net": "${runs.net.outputs.id}", "pw": {"type": "SecureString", "valueFrom": {"env": "PW"}}},
        ),
        environ=env or None,
    )


def _saved(text: str) -> SavedPlan:
    return load(text, PATH)


def _basis() -> tuple[Any, Any, SavedPlan]:
    state = applied_state(_desired())
    result = plan(_desired(size=3), state, targets=["web"])
    return state, result, _saved(save(result, {"owner": "me"}, [("vars.yaml", "owner: me\n")], CREATED))


def test_round_trip() -> None:
    state, result, saved = _basis()

    assert saved.lineage == LINEAGE == result.lineage
    assert saved.serial == state.serial == result.serial
    assert saved.salt == state.salt
    assert saved.state_exists is True
    assert saved.manifests_digest == result.manifests_digest
    assert saved.fingerprint == fingerprint(result)
    assert saved.variables == {"owner": "me"}
    assert list(saved.var_files) == [("vars.yaml", "owner: me\n")]
    assert saved.targets == ("web",) and saved.replace == ()
    assert saved.document == json.loads(json.dumps(plan_document(result)))


def test_saved_text_is_deterministic_and_names_its_format() -> None:
    _, result, _ = _basis()
    text = save(result, {}, [], CREATED)
    assert text == save(result, {}, [], CREATED)
    body = json.loads(text)
    assert (body["format"], body["formatVersion"], body["createdAt"]) == (FORMAT, 1, CREATED)


def test_plan_of_an_empty_state_round_trips() -> None:
    result = make_plan(_desired(), empty_state(), exists=False)
    saved = _saved(save(result, {}, [], CREATED))
    assert saved.state_exists is False and saved.serial == 0
    check_basis(saved, None, None, result.manifests_digest)  # still no state: fine


# --- check_basis ----------------------------------------------------------------------------------------

BASIS_REFUSED = {
    "other-lineage": (
        {},
        {"lineage": "11111111-2222-3333-4444-555555555555"},
        "it was made for lineage " + LINEAGE + ", the state has 11111111-2222-3333-4444-555555555555",
    ),
    "state-gone": ({}, {"lineage": None, "serial": None}, "the state it was made from no longer exists"),
    "serial-moved-already-applied": (
        {},
        {"serial": +1},
        "the state changed after the plan was created (serial 1 -> 2)",
    ),
    "serial-moved-back": ({}, {"serial": -1}, "(serial 1 -> 0)"),
    "state-created-since-empty-plan": (
        {"state_exists": False},
        {},
        "it was made when no state existed, and one has been written since (serial 1)",
    ),
    "manifests-changed": ({}, {"manifests_digest": "0" * 64}, "the manifests changed after the plan was created"),
}


@pytest.mark.parametrize(("saved_update", "now", "message"), list(BASIS_REFUSED.values()), ids=list(BASIS_REFUSED))
def test_check_basis_refuses(saved_update: dict[str, Any], now: dict[str, Any], message: str) -> None:
    state, result, saved = _basis()
    saved = replace(saved, **saved_update)
    lineage = now.get("lineage", state.lineage)
    serial = now.get("serial", 0)
    serial = None if serial is None and "serial" in now else state.serial + serial

    with pytest.raises(PlanStaleError) as caught:
        check_basis(saved, lineage, serial, now.get("manifests_digest", result.manifests_digest))

    assert message in str(caught.value)


def test_check_basis_accepts_the_matching_basis() -> None:
    state, result, saved = _basis()
    check_basis(saved, state.lineage, state.serial, result.manifests_digest)


def test_applying_twice_is_refused() -> None:
    state, result, saved = _basis()
    check_basis(saved, state.lineage, state.serial, result.manifests_digest)
    applied_serial = state.serial + 1  # the first apply moved the serial
    with pytest.raises(PlanStaleError, match="by applying this plan already"):
        check_basis(saved, state.lineage, applied_serial, result.manifests_digest)


# --- check_same -----------------------------------------------------------------------------------------


def test_check_same_accepts_the_same_plan() -> None:
    state, _, saved = _basis()
    check_same(saved, plan(_desired(size=3), state, targets=["web"]))


@pytest.mark.parametrize(
    ("desired", "state_update", "why"),
    [
        (lambda: _desired(size=4), None, "another key"),
        (lambda: _desired(size=3, PW="rotated"), None, "a rotated secret: another key"),
        (lambda: _desired(size=2), None, "no start any more"),
        (lambda: _desired(size=3), ("net", {"execution": {"state": "running"}}), "key known, now unknown"),
    ],
    ids=["other-key", "secret-rotated", "start-gone", "upstream-running-since"],
)
def test_check_same_refuses_a_replan_that_would_do_something_else(desired: Any, state_update: Any, why: str) -> None:
    state, _, saved = _basis()
    if state_update:
        state = with_record(state, state_update[0], **state_update[1])

    with pytest.raises(PlanStaleError, match="planning again now gives different actions"):
        check_same(saved, plan(desired(), state, targets=["web"]))


def test_check_same_refuses_a_new_start_and_a_new_delete() -> None:
    state = applied_state(_desired())
    saved = _saved(save(plan(_desired(), state), {}, [], CREATED))  # nothing to do
    assert saved.document["has_changes"] is False

    gone = state.model_copy(update={"runs": {"net": state.runs["net"]}})
    with pytest.raises(PlanStaleError):
        check_same(saved, plan(_desired(), gone))  # web must start again
    extra = state.model_copy(update={"runs": {**state.runs, "old": state.runs["net"]}})
    with pytest.raises(PlanStaleError):
        check_same(saved, plan(_desired(), extra))  # old must be deleted


def test_check_same_accepts_an_await_that_finished_meanwhile() -> None:
    desired = _desired()
    state = applied_state(desired)
    running = with_record(state, "web", execution={"state": "running"})
    saved = _saved(save(plan(desired, running), {}, [], CREATED))
    assert saved.document["summary"]["await"] == 1

    replanned = plan(desired, state)

    assert [c.action for c in replanned.changes] == [Action.NOOP, Action.NOOP]
    check_same(saved, replanned)


def test_check_same_accepts_an_awaited_upstream_finishing_with_dependents_known_after_apply() -> None:
    desired = _desired()
    state = applied_state(desired)
    running = with_record(state, "net", execution={"state": "running"})
    new_web = running.model_copy(update={"runs": {"net": running.runs["net"]}})
    saved = _saved(save(plan(desired, new_web), {}, [], CREATED))
    assert [(c["run"], c["action"], "key" in c) for c in saved.document["changes"]] == [
        ("web", "start", False),  # grouped by action: starts before awaits
        ("net", "await", True),
    ]

    finished = state.model_copy(update={"runs": {"net": state.runs["net"]}})
    replanned = plan(desired, finished)

    assert [(c.run, c.action, c.key is not None) for c in replanned.changes] == [
        ("net", Action.NOOP, True),
        ("web", Action.START, True),
    ]
    check_same(saved, replanned)  # the start was approved as "known after apply": its key is now known


def test_check_same_accepts_a_conditional_rerun_that_became_noop() -> None:
    desired = _desired()
    state = applied_state(desired)
    saved = _saved(save(plan(desired, with_record(state, "net", execution={"state": "running"})), {}, [], CREATED))
    assert saved.document["changes"][0]["action"] == "rerun"  # web re-runs only if net's outputs change

    check_same(saved, plan(desired, state))  # net finished with the same outputs: web is unchanged


def test_check_same_refuses_an_awaited_upstream_that_failed_and_will_be_retried() -> None:
    desired = stack(
        run_doc("net", "wf-net", {"cidr": "x"}, onFailure="retry", maxAttempts=3),
        run_doc("web", "wf-web", {"net": "${runs.net.outputs.id}"}),
    )
    state = applied_state(desired)
    saved = _saved(save(plan(desired, with_record(state, "net", execution={"state": "running"})), {}, [], CREATED))

    failed = with_record(state, "net", execution={"state": "failed"})
    replanned = plan(desired, failed)

    assert replanned.by_run()["net"].action is Action.RETRY
    with pytest.raises(PlanStaleError):
        check_same(saved, replanned)


def test_check_same_refuses_a_document_that_disagrees_with_its_fingerprint() -> None:
    desired = _desired()
    state = applied_state(desired)
    saved = _saved(save(plan(desired, with_record(state, "net", execution={"state": "running"})), {}, [], CREATED))
    tampered = replace(saved, document={**saved.document, "changes": []})

    with pytest.raises(PlanStaleError):
        check_same(tampered, plan(desired, state.model_copy(update={"runs": {"net": state.runs["net"]}})))


# --- unreadable files -----------------------------------------------------------------------------------


def _valid_body() -> dict[str, Any]:
    _, result, _ = _basis()
    body: dict[str, Any] = json.loads(save(result, {}, [], CREATED))
    return body


def _without(key: str) -> str:
    body = _valid_body()
    del body[key]
    return json.dumps(body)


def _with(**update: Any) -> str:
    return json.dumps({**_valid_body(), **update})


UNREADABLE = {
    "empty": ("", "is not a readable reconciler plan file"),
    "garbage": ("\x00\x01not json{", "is not a readable reconciler plan file"),
    "truncated": (lambda: save(_basis()[1], {}, [], CREATED)[:200], "is not a readable reconciler plan file"),
    "a-list": ("[1, 2]", "is not a readable reconciler plan file"),
    "a-string": ('"plan"', "is not a readable reconciler plan file"),
    "a-state-file": (
        json.dumps({"version": 1, "serial": 3, "lineage": LINEAGE, "runs": {}}),
        "is not a reconciler plan file",
    ),
    "other-format-version": (lambda: _with(formatVersion=99), "plan format 99 is not supported"),
    "missing-lineage": (lambda: _without("lineage"), "is not a readable reconciler plan file"),
    "missing-fingerprint": (lambda: _without("fingerprint"), "is not a readable reconciler plan file"),
    "serial-not-a-number": (lambda: _with(serial="three"), "is not a readable reconciler plan file"),
    "var-files-malformed": (lambda: _with(varFiles=[["only-path"]]), "is not a readable reconciler plan file"),
}


@pytest.mark.parametrize(("text", "message"), list(UNREADABLE.values()), ids=list(UNREADABLE))
def test_unreadable_plan_file_is_stale_with_its_path(text: Any, message: str) -> None:
    with pytest.raises(PlanStaleError) as caught:
        load(text() if callable(text) else text, PATH)

    assert PATH in str(caught.value)
    assert message in str(caught.value)
