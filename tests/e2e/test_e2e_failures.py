"""Failures: a failing workflow, retries, removed runs (cancelled when running), bad input, HTTP errors."""

from __future__ import annotations

import re

from tests.support.e2e import ECHO, FAILS, READS, SLOW, Emulator, Stack, run_doc


def test_failed_run_is_reported_dependents_skipped_independents_recorded(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(
        [
            run_doc("broken", FAILS, {"name": "bad-1"}),
            run_doc("after", READS, {"upstream": "${runs.broken.outputs.ok}"}),
            run_doc("other", ECHO, {"name": "other"}),
        ]
    )
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 1, applied
    text = applied.out + applied.err
    assert "refused bad-1: quota exceeded" in text
    assert "after" in text and "skipped" in text
    assert [s["inputs"].get("name") for s in emulator.starts()].count("other") == 1
    assert not [s for s in emulator.starts() if s["workflowId"] == READS]

    runs = stack.state()["runs"]
    assert runs["other"]["execution"]["state"] == "completed"
    assert runs["other"]["outputs"] == {"id": stack.cli(["output", "other.id", "--raw"]).out.strip(), "shout": "OTHER"}
    assert runs["broken"]["execution"]["state"] == "failed"
    assert "quota exceeded" in runs["broken"]["execution"]["error"]
    assert "after" not in runs

    # onFailure: stop (the default): not retried; the plan warns and shows no change for it
    planned = stack.cli(["plan", "--json"]).json()
    actions = {c["run"]: c["action"] for c in planned["changes"]}
    assert actions["broken"] == "failed"
    assert actions["other"] == "noop"


def test_retry_until_max_attempts_then_a_warning(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("flaky", FAILS, {"name": "bad-2"}, onFailure="retry", maxAttempts=2)])
    first = stack.cli(["apply", "--auto-approve"])
    assert first.code == 1, first
    assert len(emulator.starts()) == 1

    planned = stack.cli(["plan", "--json", "--detailed-exitcode"])
    assert planned.code == 2, planned
    assert [c["action"] for c in planned.json()["changes"]] == ["retry"]

    second = stack.cli(["apply", "--auto-approve"])
    assert second.code == 1, second
    assert len(emulator.starts()) == 2
    record = stack.state()["runs"]["flaky"]
    assert record["attempts"] == 2
    assert len(record["history"]) == 1

    final = stack.cli(["plan", "--detailed-exitcode"])
    assert final.code == 0, final  # a failure that will not be retried is a warning, not a change
    assert "flaky" in final.out + final.err
    assert [c["action"] for c in stack.cli(["plan", "--json"]).json()["changes"]] == ["failed"]
    third = stack.cli(["apply", "--auto-approve"])
    assert len(emulator.starts()) == 2, third


def test_removed_run_is_deleted_and_cancelled_when_running(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(
        [
            run_doc("keep", ECHO, {"name": "keep"}),
            run_doc("gone", ECHO, {"name": "gone"}),
            run_doc("hung", SLOW, {"name": "stuck-1"}, timeout="1s"),
        ]
    )
    first = stack.cli(["apply", "--auto-approve"])
    assert first.code == 1, first  # `hung` timed out
    assert "timed out" in first.out
    runs = stack.state()["runs"]
    assert runs["hung"]["execution"]["state"] == "running"
    hung_id = runs["hung"]["execution"]["id"]

    stack.write_runs([run_doc("keep", ECHO, {"name": "keep"})])
    planned = stack.cli(["plan", "--json"]).json()
    assert {c["run"]: c["action"] for c in planned["changes"]} == {"keep": "noop", "gone": "delete", "hung": "delete"}
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    assert set(stack.state()["runs"]) == {"keep"}
    assert emulator.executions()[hung_id]["state"] == "canceled"
    assert len(emulator.starts()) == 3
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0


def _unchanged(stack: Stack, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in stack.root.glob("reconciler.state.json*") if not p.name.endswith("lock")}
    assert after == before


def test_manifest_errors_name_the_place_and_change_nothing(stack: Stack) -> None:
    stack.write_runs([run_doc("ok", ECHO, {"name": "ok"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    before = {p.name: p.read_bytes() for p in stack.root.glob("reconciler.state.json*") if not p.name.endswith("lock")}

    (stack.root / "manifests" / "runs.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata:\n  name: ok\nspec:\n  workflow: [unclosed\n"
    )
    for args in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = stack.cli(args)
        assert result.code == 1, result
        assert re.search(r"manifests/runs\.yaml:[67]:\d+: YAML", result.err), result
        _unchanged(stack, before)

    stack.write_runs([run_doc("ok", ECHO, {"name": "ok"}, colour="blue")])
    for args in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = stack.cli(args)
        assert result.code == 1, result
        assert "colour" in result.err
        assert re.search(r"manifests/runs\.yaml:\d+:\d+", result.err), result
        _unchanged(stack, before)


def test_http_error_names_run_operation_status_and_message(stack: Stack, emulator: Emulator) -> None:
    # A start the server refuses although the definitions allow it: a body over the emulator's limit
    # (413; an unknown workflow no longer gets this far, the definition check refuses it first).
    huge = "x" * (1_100_000)
    stack.write_runs([run_doc("nowhere", ECHO, {"name": huge}), run_doc("fine", ECHO, {"name": "fine"})])
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 1, applied
    problem = [line for line in applied.out.splitlines() if line.strip().startswith("nowhere")][-1]
    assert "start" in problem.lower(), problem
    assert ECHO in problem, problem  # the operation names the workflow
    assert "413" in problem and "REQUEST_ENTITY_TOO_LARGE" not in problem, problem  # status, then message
    assert stack.state()["runs"]["fine"]["execution"]["state"] == "completed"

    again = stack.cli(["apply", "--auto-approve"])  # the refused start left no execution behind
    assert again.code == 1, again
    assert "413" in again.out, again
    assert len(emulator.starts()) == 1
