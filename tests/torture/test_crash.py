"""Crash torture: SIGKILL apply again and again, at named kill points (intent durable but not sent,
answer received but not recorded, events durable, compaction between backup and replace...) and at
random moments, while the server loses 20 % of its answers (processed, answer never sent), with some
workflows that complete in their own start answer (duration 0). Then apply until it converges.

The judge is the server: exactly one start per run, each run recorded ``completed`` with that
execution, and every run's recorded outputs (``output --json``) equal to the server's outputs for
that execution (outputs embed the execution id). Both backends.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from random import Random
from typing import Any

import pytest

from tests.support.e2e import Emulator, run_doc, stop, wait_until
from tests.support.torture import APPLY, QUICK, SCALE, SEED, USES, ZERO, Stack, converge, judge, report, rng_for, scaled

pytestmark = pytest.mark.slow

LOCAL_POINTS = [
    "intent-durable",
    "start-answered",
    "journal-appended",
    "backup-written",
    "state-replaced",
    "temp-written",
    "random",
    "completed",
]
PG_POINTS = ["intent-durable", "start-answered", "journal-appended", "random"]
COMPACTION = ("backup-written", "state-replaced", "temp-written")
COMPLETED_IN_JOURNAL = re.compile(rb'"state"\s*:\s*"completed"')


def crash_runs(rng: Random, count: int) -> list[dict[str, Any]]:
    """``count`` runs: 40 % complete in their start answer, 40 % take 0.15 s, 20 % read the output
    of an earlier run (so a lost output breaks them for good)."""
    docs: list[dict[str, Any]] = []
    producers: list[str] = []
    for i in range(count):
        name = f"c-{i:04d}"
        draw = rng.random()
        if draw < 0.2 and producers:
            upstream = rng.choice(producers[-20:])
            docs.append(run_doc(name, USES, {"name": name, "upstream": f"${{runs.{upstream}.outputs.result}}"}))
            continue
        docs.append(run_doc(name, ZERO if draw < 0.6 else QUICK, {"name": name}))
        producers.append(name)
    return docs


def kill_once(stack: Stack, rng: Random, point: str, batch: int) -> bool:
    """One apply stopped by SIGKILL at ``point``; whether it was killed (it may finish first)."""
    if point in ("random", "completed"):
        return _kill_from_outside(stack, rng, point)
    nth = 1 if point in COMPACTION else rng.randint(1, max(1, batch if point != "journal-appended" else 2 * batch))
    result = stack.cli([*APPLY, "--lock-timeout", "60s"], tag="killed", env={"RECONCILER_KILL_AT": f"{point}:{nth}"})
    return result.code == -signal.SIGKILL


def _kill_from_outside(stack: Stack, rng: Random, point: str) -> bool:
    apply = stack.popen([*APPLY, "--lock-timeout", "60s"], tag="killed")
    try:
        if point == "completed":  # the reproduction of issue 8.1: as soon as the journal says completed
            wait_until(lambda: _journal_says_completed(stack), 120, apply)
        else:
            wait_until(lambda: False, rng.uniform(0.3, 3.0), apply)
        alive = apply.poll() is None
        if alive:
            apply.send_signal(signal.SIGKILL)
        _, err = apply.communicate(timeout=30)
        no_traceback_in(err)
        return alive
    finally:
        stop(apply)


def _journal_says_completed(stack: Stack) -> bool:
    try:
        return bool(COMPLETED_IN_JOURNAL.search(stack.journal_path.read_bytes()))
    except OSError:
        return False


def no_traceback_in(err: str) -> None:
    assert "Traceback" not in err, err


def campaign(stack: Stack, emulator: Emulator, rng: Random, points: list[str], runs: int, kills: int) -> dict[str, Any]:
    """Grow the stack batch by batch, one killed apply per batch, until ``kills`` SIGKILLs landed, at
    every kill point at least once, and every run is in the manifest; then converge. The figures."""
    kills = max(kills, len(points))
    docs = crash_runs(rng, runs)
    batches = kills + 2
    size = -(-runs // batches)
    killed: Counter[str] = Counter()
    attempts = 0
    order: list[str] = []
    while attempts < 4 * batches and (
        sum(killed.values()) < kills or attempts * size < runs or not set(points) <= set(killed)
    ):
        if not order:
            missed = [p for p in points if p not in killed]  # after a round, the points not hit yet first
            order = rng.sample(missed or points, len(missed or points))
        point = order.pop()
        attempts += 1
        stack.write_runs(docs[: attempts * size])
        if kill_once(stack, rng, point, size):
            killed[point] += 1
    started = time.monotonic()
    rounds, results = converge(stack)
    assert all(r.code != 2 for r in results)
    verdict = judge(stack, emulator, [d["metadata"]["name"] for d in docs])
    figures = {
        "seed": SEED,
        "backend": stack.backend,
        "runs": runs,
        "apply_attempts": attempts,
        "sigkills": sum(killed.values()),
        "kills_by_point": dict(sorted(killed.items())),
        "lost_answers": emulator.lost_answers(),
        "server_starts": len(emulator.starts()),
        "converged_after_applies": rounds,
        "converge_seconds": round(time.monotonic() - started, 1),
        **verdict.figures,
    }
    if stack.backend == "local":
        figures["leftover_temp_files"] = len(list(stack.state_dir.glob("*.tmp")))
    report(f"crash[{stack.backend}]", **figures)
    assert rounds > 0, "no convergence:\n" + "\n\n".join(str(r) for r in results[-2:])
    assert sum(killed.values()) >= kills, f"only {sum(killed.values())} SIGKILLs landed: the test proves too little"
    assert set(killed) == set(points), f"no SIGKILL landed at {sorted(set(points) - set(killed))}"
    assert figures["lost_answers"] > 0, "no answer was lost: the test proves too little"
    assert verdict.problems() == {}, verdict.problems()
    assert figures.get("leftover_temp_files", 0) == 0, sorted(p.name for p in stack.state_dir.glob("*.tmp"))
    return figures


@pytest.mark.timeout(round(600 * SCALE))
@pytest.mark.parametrize("backend", ["local", "postgres"])
def test_sigkills_and_lost_answers_converge_to_one_start_and_the_servers_outputs_per_run(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack], backend: str
) -> None:
    rng = rng_for(f"crash-{backend}")
    emulator = make_emulator(
        "--fault-rate", "0.2", "--fault-kinds", "lost", "--seed", str(rng.randrange(2**31)), "--latency", "0.01"
    )
    stack = make_stack(emulator, backend, parallelism=8)
    campaign(stack, emulator, rng, LOCAL_POINTS if backend == "local" else PG_POINTS, scaled(200), scaled(12))
