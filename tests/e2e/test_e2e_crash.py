"""Exactly once through crashes: SIGKILL mid-apply, a faulty network, Ctrl-C. The emulator's admin view
(every start it accepted) is the judge: exactly one start per run, none missing."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable

import pytest

from tests.support.e2e import (
    ECHO,
    LONG,
    SLOW,
    Emulator,
    Stack,
    finish,
    no_traceback,
    run_doc,
    stop,
    wait_while_running,
)

pytestmark = pytest.mark.slow


def _many(count: int) -> list[dict[str, object]]:
    return [run_doc(f"r-{i:03d}", ECHO, {"name": f"r-{i:03d}"}) for i in range(count)]


def _assert_all_completed(stack: Stack, names: list[str]) -> None:
    runs = stack.state()["runs"]
    assert sorted(runs) == sorted(names)
    assert {n: r["execution"]["state"] for n, r in runs.items()} == dict.fromkeys(names, "completed")
    assert all(r["pending"] is None for r in runs.values())


def test_sigkill_mid_apply_then_apply_again_starts_each_run_once(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator = make_emulator("--latency", "0.1")  # 40 starts/s: a starved test still kills it midway
    stack = make_stack(emulator, parallelism=4)
    stack.write_stack(4, request_timeout=5)
    names = [f"r-{i:03d}" for i in range(100)]
    stack.write_runs(_many(100))

    apply = stack.popen(["apply", "--auto-approve", "--parallelism", "4"])
    try:
        wait_while_running(lambda: len(emulator.starts()) >= 20, apply)
        apply.send_signal(signal.SIGKILL)
        apply.wait(timeout=10)
    finally:
        stop(apply)
    assert apply.returncode == -signal.SIGKILL
    assert 20 <= len(emulator.starts()) < 100

    again = stack.cli(["apply", "--auto-approve", "--parallelism", "4"], timeout=120)
    assert again.code == 0, again
    assert emulator.starts_per_name() == Counter(names)
    _assert_all_completed(stack, names)
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0


def test_faulty_network_still_starts_each_run_once(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator = make_emulator("--fault-rate", "0.2", "--fault-kinds", "lost,drop,503,429", "--seed", "7")
    stack = make_stack(emulator, parallelism=4)
    names = [f"r-{i:03d}" for i in range(40)]
    stack.write_runs(_many(40))

    results = []
    for _ in range(8):
        result = stack.cli(["apply", "--auto-approve"], timeout=120)
        results.append(result)
        if result.code == 0:
            break
    assert results[-1].code == 0, "\n\n".join(str(r) for r in results)
    assert emulator.admin("faults")["injected"], "no fault was injected: the test proves nothing"
    assert emulator.starts_per_name() == Counter(names)
    _assert_all_completed(stack, names)


def test_ctrl_c_records_what_started_and_the_next_apply_awaits_it(stack: Stack, emulator: Emulator) -> None:
    names = ["l-1", "l-2", "l-3"]
    stack.write_runs([run_doc(n, LONG, {"name": n}) for n in names])
    apply = stack.popen(["apply", "--auto-approve"])
    wait_while_running(lambda: len(emulator.starts()) == 3, apply)
    time.sleep(0.2)  # let the answers be recorded too
    apply.send_signal(signal.SIGINT)
    interrupted = no_traceback(finish(apply, ["apply"], 30))
    assert interrupted.code != 0, interrupted
    assert "nterrupted" in interrupted.out + interrupted.err, interrupted

    runs = stack.state()["runs"]
    assert sorted(runs) == names
    assert {r["execution"]["state"] for r in runs.values()} <= {"initializing", "running", "completed"}
    ids = {n: r["execution"]["id"] for n, r in runs.items()}

    # --no-refresh: what the interrupted apply recorded, however long this plan takes on a loaded machine
    planned = stack.cli(["plan", "--json", "--no-refresh"]).json()
    assert {c["action"] for c in planned["changes"]} == {"await"}
    again = stack.cli(["apply", "--auto-approve"])
    assert again.code == 0, again
    assert len(emulator.starts()) == 3
    runs = stack.state()["runs"]
    assert {n: r["execution"]["id"] for n, r in runs.items()} == ids
    _assert_all_completed(stack, names)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_mid_start_starts_nothing_new(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack], sig: signal.Signals
) -> None:
    """Runs queued for a request slot when the signal comes are not started (their intents are dropped):
    after it, only the starts already in their slots (4) reach the server. Counted from the starts the
    server had once the signal was sent, not from a fixed number: a starved test process sees the
    twelfth start late, and sends the signal later still."""
    emulator = make_emulator("--latency", "0.2")
    stack = make_stack(emulator, parallelism=4)
    names = [f"r-{i:03d}" for i in range(60)]
    stack.write_runs(_many(60))
    apply = stack.popen(["apply", "--auto-approve"])
    wait_while_running(lambda: len(emulator.starts()) >= 12, apply)
    apply.send_signal(sig)
    at_signal = len(emulator.starts())
    stopped = no_traceback(finish(apply, ["apply"], 30))
    assert stopped.code != 0, stopped
    started = emulator.starts_per_name()
    # the 4 in their slots, and up to 4 more begun before the signal was handled (20 starts/s)
    assert len(started) <= at_signal + 8, f"apply went on starting after the signal ({at_signal} when sent)"

    runs = stack.state()["runs"]
    assert sorted(runs) == sorted(started)  # what started is recorded, nothing else
    assert all(r["pending"] is None for r in runs.values())

    again = stack.cli(["apply", "--auto-approve"], timeout=60)
    assert again.code == 0, again
    assert emulator.starts_per_name() == Counter(names)
    _assert_all_completed(stack, names)


def test_runs_removed_after_a_crash_are_cancelled_even_when_their_start_was_interrupted(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    """SIGKILL while starting hanging runs, then remove them all: every execution that started is
    cancelled, including those whose start answer never got recorded (adopted, then cancelled)."""
    emulator = make_emulator("--latency", "0.1")
    stack = make_stack(emulator, parallelism=4)
    stack.write_stack(4, request_timeout=5)
    stack.write_runs([run_doc(f"s-{i:02d}", SLOW, {"name": f"stuck-{i:02d}"}) for i in range(30)])
    apply = stack.popen(["apply", "--auto-approve"])
    try:
        wait_while_running(lambda: len(emulator.starts()) >= 8, apply)
        apply.send_signal(signal.SIGKILL)
        apply.wait(timeout=10)
    finally:
        stop(apply)
    time.sleep(0.3)  # starts in flight when the client died still reach the server
    started = {s["executionId"] for s in emulator.starts()}

    stack.write_runs([run_doc("other", ECHO, {"name": "other"})])
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    assert sorted(stack.state()["runs"]) == ["other"]
    states = emulator.executions()
    assert {states[e]["state"] for e in started} == {"canceled"}, {e: states[e]["state"] for e in started}
