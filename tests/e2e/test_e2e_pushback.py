"""Issue 13's pushback run, as a user runs it: `reconciler emulator` answering 30 % of the workflow
calls 429 or 503 (with ``Retry-After: 1``), `apply --json` at parallelism 8. Every run starts exactly
once (the emulator's admin view), the workflow's limit goes down and comes back up (the `limit_changed`
events: every cut and every step back up, in order), and the summary's ``limits`` say how low it went."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from tests.support.e2e import ECHO, Emulator, Stack, run_doc

pytestmark = pytest.mark.slow


def test_a_server_pushing_back_gets_fewer_requests_then_more_and_each_run_starts_once(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator = make_emulator("--latency", "0.02", "--fault-rate", "0.3", "--fault-kinds", "429,503", "--seed", "7")
    stack = make_stack(emulator, parallelism=8)
    names = [f"p-{i:02d}" for i in range(20)]
    stack.write_runs([run_doc(n, ECHO, {"name": n}) for n in names])

    applied = stack.cli(["apply", "--auto-approve", "--json"], timeout=240)

    assert applied.code == 0, applied
    assert emulator.admin("faults")["injected"], "no fault was injected: the test proves nothing"
    assert emulator.starts_per_name() == Counter(names)
    events = [json.loads(line) for line in applied.out.splitlines() if line.startswith("{")]
    limits = [e["limit"] for e in events if e["type"] == "limit_changed"]
    assert limits and min(limits) < 8, "the limit never went down"
    lowest_at = limits.index(min(limits))
    assert max(limits[lowest_at:]) > min(limits), f"the limit never came back up: {limits}"
    summary = events[-1]
    assert summary["type"] == "summary" and summary["results"]["completed"] == len(names)
    workflow_limits = summary["limits"]
    assert len(workflow_limits) == 1
    (seen,) = workflow_limits.values()
    assert seen["lowest"] == min(limits) and seen["max"] == 8
