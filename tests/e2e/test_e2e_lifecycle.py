"""Apply from nothing, apply again (nothing), change one parameter (exactly what changed re-runs)."""

from __future__ import annotations

import json

from tests.support.e2e import ECHO, READS, Emulator, Stack, run_doc


def _chain(note: str = "", name: str = "alpha") -> list[dict[str, object]]:
    """up -> down (reads up's id, which depends on name only) and a lone independent run."""
    return [
        run_doc("up", ECHO, {"name": name, "note": note}),
        run_doc("down", READS, {"upstream": "${runs.up.outputs.id}"}),
        run_doc("lone", ECHO, {"name": "lone"}),
    ]


def test_first_apply_starts_everything_then_nothing(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(_chain())
    first = stack.cli(["apply", "--auto-approve"])
    assert first.code == 0, first
    assert "Apply complete!" in first.out

    starts = emulator.starts()
    assert sorted(s["inputs"].get("name", s["inputs"].get("upstream")) for s in starts) == sorted(
        ["alpha", "lone", stack.cli(["output", "up.id", "--raw"]).out.strip()]
    )
    assert len({s["executionId"] for s in starts}) == 3

    outputs = stack.cli(["output", "--json"]).json()
    assert set(outputs) == {"up", "down", "lone"}
    assert outputs["up"]["shout"] == "ALPHA"
    assert outputs["down"]["seen"] == f"seen-{outputs['up']['id']}"

    state = json.loads(stack.state_path.read_text())
    assert state["serial"] >= 1
    assert stack.state_path.stat().st_mode & 0o777 == 0o600
    recorded = stack.state()["runs"]
    assert {n: r["execution"]["state"] for n, r in recorded.items()} == dict.fromkeys(
        ("up", "down", "lone"), "completed"
    )
    assert {r["execution"]["id"] for r in recorded.values()} == {s["executionId"] for s in starts}

    again = stack.cli(["plan", "--detailed-exitcode"])
    assert again.code == 0, again
    assert "No changes" in again.out
    noop = stack.cli(["apply", "--auto-approve"])
    assert noop.code == 0, noop
    assert emulator.starts() == starts


def test_changed_parameter_reruns_only_what_its_outputs_change(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(_chain())
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    before = stack.state()["runs"]
    count = len(emulator.starts())

    stack.write_runs(_chain(note="changed"))  # `note` does not feed `id`, which is what `down` reads
    planned = stack.cli(["plan", "--json", "--detailed-exitcode"])
    assert planned.code == 2, planned
    changes = {c["run"]: c for c in planned.json()["changes"]}
    assert changes["up"]["action"] == "rerun"
    assert "note" in json.dumps(changes["up"]["diff"])
    assert "name" not in json.dumps(changes["up"]["diff"])
    assert changes["lone"]["action"] == "noop"
    assert changes["down"]["action"] == "rerun"  # only if `up`'s outputs change, decided by apply
    assert "known after apply" in changes["down"]["reason"]
    assert changes["down"]["inputs"] == {"upstream": "(known after apply)"}
    human = stack.cli(["plan", "--no-color"])
    assert '~ upstream = "id-' in human.out and "-> (known after apply)" in human.out, human

    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    new_starts = emulator.starts()[count:]
    assert [s["inputs"]["note"] for s in new_starts] == ["changed"]  # only `up` was started again
    after = stack.state()["runs"]
    assert after["down"]["execution"]["id"] == before["down"]["execution"]["id"]
    assert after["lone"]["execution"]["id"] == before["lone"]["execution"]["id"]
    assert after["up"]["execution"]["id"] != before["up"]["execution"]["id"]
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0

    # now an input that changes the output `down` reads: both re-run
    stack.write_runs(_chain(note="changed", name="beta"))
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    rerun = emulator.starts()[count + 1 :]
    assert len(rerun) == 2
    assert (
        stack.cli(["output", "down.seen", "--raw"]).out.strip()
        == f"seen-{stack.cli(['output', 'up.id', '--raw']).out.strip()}"
    )
