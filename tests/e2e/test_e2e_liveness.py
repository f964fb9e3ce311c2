"""An apply always ends, with a clear message (issue 8.3): a server killed mid-apply, a typo in an
output reference. The CLI and the emulator are real processes on 127.0.0.1."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

import yaml

from tests.support.e2e import ECHO, READS, SLOW, Emulator, Stack, pump, run_doc, stop

APPLY_BOUND = 60.0  # the test's own bound: without a give-up, apply would wait for ever


def _set_give_up(stack: Stack, after: str) -> None:
    path = stack.root / "reconciler.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["spec"]["endpoint"]["giveUpAfter"] = after
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


class _Lines(queue.Queue[str]):
    """The lines of one pipe, put here by a daemon thread (the pump) as they are read."""

    def __init__(self, pipe: Iterable[str]) -> None:
        super().__init__()
        self.pump = threading.Thread(target=pump, args=(pipe, self), daemon=True)
        self.pump.start()

    def drained(self) -> str:
        """Every line left, once the process has exited (its pump ends at end of file)."""
        self.pump.join(APPLY_BOUND)
        seen: list[str] = []
        while not self.empty():
            seen.append(self.get_nowait())
        return "".join(seen)


def _until(lines: _Lines, text: str, seen: list[str]) -> None:
    while True:
        line = lines.get(timeout=APPLY_BOUND)
        seen.append(line)
        if text in line:
            return


def test_apply_gives_up_on_a_killed_server_and_keeps_the_execution_awaited(stack: Stack, emulator: Emulator) -> None:
    """The emulator is SIGKILLed while apply waits for a run that has no `timeout:`. Apply warns once
    that the endpoint is not answering, gives up after `giveUpAfter` (3s), exits 1 naming the endpoint,
    and the execution stays recorded in progress: the next plan awaits it."""
    _set_give_up(stack, "3s")
    stack.write_runs(
        [
            run_doc("stuck", SLOW, {"name": "stuck-1"}),
            run_doc("after", ECHO, {"name": "after"}, dependsOn=["stuck"]),
        ]
    )
    apply = stack.popen(["apply", "--auto-approve"])
    try:
        out: list[str] = []
        assert apply.stdout is not None and apply.stderr is not None
        lines, errors = _Lines(apply.stdout), _Lines(apply.stderr)
        _until(lines, "stuck: started", out)
        stop(emulator.process)  # the server dies mid-apply
        apply.wait(timeout=APPLY_BOUND)
    finally:
        stop(apply)
    # the pumps own both pipes (a second reader would race them for lines): drain what they read
    text = "".join(out) + lines.drained()
    err = errors.drained()
    assert apply.returncode == 1, text + err
    assert "Traceback" not in text + err
    assert err.count(f"Warning: the VCD endpoint {stack.url} is not answering") == 1, err
    assert f"gave up on the VCD endpoint {stack.url}: no answer for 3s" in text
    assert "the next apply waits for it again" in text
    state = yaml.safe_load((stack.root / "reconciler.state.json").read_text(encoding="utf-8"))
    journal = stack.root / "reconciler.state.json.journal"
    if journal.exists():  # the state as the next command reads it
        state = stack.state()
    stuck = state["runs"]["stuck"]
    assert stuck["execution"]["state"] in ("initializing", "running"), stuck
    plan = stack.cli(["plan", "--no-refresh", "--json"])
    assert {c["run"]: c["action"] for c in plan.json()["changes"]}["stuck"] == "await", plan


def test_a_typo_in_an_output_reference_stops_apply_before_anything_starts(stack: Stack, emulator: Emulator) -> None:
    """``${runs.net.outputs.Shout}`` where the output is ``shout``: apply reads the workflows'
    definitions first and refuses, located, with the declared outputs and a did-you-mean, before any
    run starts (the independent one included). No traceback, nothing half-started. (Where no
    definition can be read, the same typo fails that run alone once `net` ran: tests/planning.)"""
    stack.write_runs(
        [
            run_doc("net", ECHO, {"name": "net"}),
            run_doc("vm", READS, {"upstream": "${runs.net.outputs.Shout}"}),
            run_doc("solo", SLOW, {"name": "solo"}),
        ]
    )
    assert stack.cli(["validate"]).code == 0  # offline, with no definition kept yet: it cannot know
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 1, applied
    assert (
        "manifests/runs.yaml:17:15: run 'net' has no output 'Shout': workflow 'Echo' declares id, shout; "
        "did you mean 'shout'?" in applied.err
    ), applied
    assert emulator.starts() == []
    validated = stack.cli(["validate"])  # now the definitions are kept: validate finds it offline
    assert validated.code == 1 and "has no output 'Shout'" in validated.err, validated
