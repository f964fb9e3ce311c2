"""Fencing torture (PostgreSQL, issue 8 item 2): an applier that lost its lock must start nothing more.

1. ``pg_terminate_backend`` on the holder's sessions while its apply is alive, then a second apply.
2. SIGSTOP the holder, ``force-unlock`` (refused: the holder lives), ``force-unlock --force --yes``,
   a second apply, SIGCONT the holder.

Then apply until convergence; the server must have received exactly one start per run. Only this
test's sessions are terminated: every process gets its own ``application_name``
(``torture-<workspace>-<tag>``) and the queries filter on it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import psycopg
import pytest

from tests.support.e2e import Emulator, Result, finish, no_traceback, run_doc, stop, wait_until
from tests.support.stores import PG_DSN
from tests.support.torture import APPLY, SEED, SLOW, Stack, converge, judge, report, scaled

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

HOLDER = [*APPLY, "--parallelism", "2"]  # most intents wait for a request slot: what a lost lock must stop
LATENCY = "1.0"  # each start is on the wire for a second
REQUEST_TIMEOUT = 5  # bounds the new holder's wait for the old one's starts in flight


def _names() -> list[str]:
    return [f"f-{i:03d}" for i in range(scaled(16))]


def _terminate(application_name: str) -> int:
    """Terminate every session of this one application_name; how many."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
            [application_name],
        ).fetchall()
    return len(rows)


def _lock_id(workspace: str) -> str | None:
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT id FROM reconciler.locks WHERE workspace = %s", [workspace]).fetchone()
    return None if row is None else str(row[0])


def _setup(make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]) -> tuple[Emulator, Stack]:
    emulator = make_emulator("--latency", LATENCY)
    stack = make_stack(emulator, "postgres", parallelism=2, requestTimeout=REQUEST_TIMEOUT)
    stack.write_runs([run_doc(n, SLOW, {"name": n}) for n in _names()])
    return emulator, stack


def _verdict(test: str, stack: Stack, emulator: Emulator, first: Result, **figures: object) -> None:
    """Converge, print the figures, then judge: one start per run, and the old holder failed."""
    duplicates = sum(1 for c in emulator.starts_per_name().values() if c > 1)
    rounds, results = converge(stack)
    verdict = judge(stack, emulator, _names())
    report(
        test,
        seed=SEED,
        runs=len(_names()),
        holder_exit=first.code,
        duplicates_before_converging=duplicates,
        converged_after_applies=rounds,
        **figures,
        **verdict.figures,
    )
    assert rounds > 0, "no convergence:\n" + "\n\n".join(str(r) for r in results[-2:])
    assert verdict.problems() == {}, verdict.problems()
    assert first.code == 1, f"the holder that lost its lock must fail:\n{first}"


def test_terminated_lock_session_stops_the_old_holder_from_starting(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator, stack = _setup(make_emulator, make_stack)
    holder = stack.popen(HOLDER, tag="holder")
    try:
        assert wait_until(lambda: len(emulator.starts()) >= 3, 60, holder), "the holder started nothing"
        assert holder.poll() is None, "the holder ended before its lock could be taken away"
        terminated = _terminate(stack.app("holder"))
        second = stack.cli([*APPLY, "--lock-timeout", "60s"], tag="second", timeout=240)
        first = no_traceback(finish(holder, HOLDER, 240))
    finally:
        stop(holder)
    _verdict(
        "fence[pg_terminate_backend]", stack, emulator, first, sessions_terminated=terminated, second_exit=second.code
    )


def test_force_unlock_of_a_frozen_holder_stops_it_from_starting_when_it_wakes(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator, stack = _setup(make_emulator, make_stack)
    holder = stack.popen(HOLDER, tag="holder")
    try:
        assert wait_until(lambda: len(emulator.starts()) >= 3, 60, holder), "the holder started nothing"
        holder.send_signal(signal.SIGSTOP)
        lock = _lock_id(stack.workspace)
        assert lock is not None, "no lock row for the live holder"
        refused = stack.cli(["force-unlock", lock], tag="unlock", stdin="no\n")
        unlocked = stack.cli(["force-unlock", "--force", "--yes", lock], tag="unlock")
        second = stack.cli([*APPLY, "--lock-timeout", "60s"], tag="second", timeout=240)
        holder.send_signal(signal.SIGCONT)
        first = no_traceback(finish(holder, HOLDER, 240))
    finally:
        stop(holder)
    _verdict(
        "fence[SIGSTOP+force-unlock]",
        stack,
        emulator,
        first,
        unlock_without_force_exit=refused.code,
        unlock_with_force_exit=unlocked.code,
        second_exit=second.code,
    )
    assert refused.code == 1, f"force-unlock without --force must refuse while the holder lives:\n{refused}"
    assert unlocked.code == 0, str(unlocked)
