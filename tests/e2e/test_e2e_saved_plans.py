"""Saved plans: apply exactly them, once; refuse them when the state or the manifests moved on."""

from __future__ import annotations

import json

from tests.support.e2e import ECHO, Emulator, Stack, run_doc


def test_saved_plan_applies_once_and_shows(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"}), run_doc("two", ECHO, {"name": "two"})])
    planned = stack.cli(["plan", "--out", "p.plan"])
    assert planned.code == 0, planned
    assert "reconciler apply p.plan" in planned.out
    assert emulator.starts() == []

    shown = stack.cli(["show", "p.plan"])
    assert shown.code == 0, shown
    assert "one" in shown.out and "two" in shown.out
    shown_json = stack.cli(["show", "p.plan", "--json"]).json()
    assert {c["run"] for c in shown_json["changes"]} == {"one", "two"}

    applied = stack.cli(["apply", "p.plan"])  # no approval asked for a saved plan
    assert applied.code == 0, applied
    assert len(emulator.starts()) == 2

    again = stack.cli(["apply", "p.plan"])
    assert again.code == 1, again
    assert "stale" in again.err.lower() or "serial" in again.err.lower(), again
    assert "reconciler plan" in again.err, again  # what to do about it
    assert len(emulator.starts()) == 2


def test_saved_plan_refused_after_another_apply(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    stack.write_runs([run_doc("one", ECHO, {"name": "one"}), run_doc("two", ECHO, {"name": "two"})])
    assert stack.cli(["plan", "--out", "p.plan"]).code == 0
    assert stack.cli(["apply", "--auto-approve", "--target", "two"]).code == 0  # the state moves on
    starts = emulator.starts()

    refused = stack.cli(["apply", "p.plan"])
    assert refused.code == 1, refused
    assert "stale" in refused.err.lower() or "serial" in refused.err.lower(), refused
    assert emulator.starts() == starts


def test_saved_plan_refused_after_manifests_changed(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"})])
    assert stack.cli(["plan", "--out", "p.plan"]).code == 0
    state_before = stack.state_path.exists()
    stack.write_runs([run_doc("one", ECHO, {"name": "one", "note": "edited"})])

    refused = stack.cli(["apply", "p.plan"])
    assert refused.code == 1, refused
    assert "manifest" in refused.err.lower(), refused
    assert emulator.starts() == []
    assert stack.state_path.exists() == state_before


def test_saved_plan_file_is_not_a_plan(stack: Stack) -> None:
    (stack.root / "junk.plan").write_text(json.dumps({"hello": "world"}))
    result = stack.cli(["apply", "junk.plan"])
    assert result.code == 1, result
    assert "junk.plan" in result.err
    missing = stack.cli(["show", "missing.plan"])
    assert missing.code == 1, missing
    assert "missing.plan" in missing.err
