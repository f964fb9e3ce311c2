"""The engine against the emulator in-process: starts, waits, dependencies, failures, stop, recovery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.applying.reports import Outcome
from reconciler.desired.runs import DesiredStack
from reconciler.emulator import ManualClock
from reconciler.planning.changes import Action
from reconciler.planning.planner import planned_inputs, planned_key, recorded_inputs
from reconciler.state.models import Execution, PendingStart, RunRecord

from .harness import ECHO, FAILS, HANGS, READS, WIDE, World, desired_of, empty_state, run_doc

pytestmark = pytest.mark.anyio


async def test_every_run_completes_once_and_is_recorded_with_outputs(world: World) -> None:
    desired = desired_of(*(run_doc(f"echo-{i}", ECHO, {"name": f"n{i}"}) for i in range(5)))

    applied = await world.apply(desired)

    assert applied.report.ok
    assert {r.outcome for r in applied.report.results.values()} == {Outcome.COMPLETED}
    assert len(world.emulator.starts) == 5
    for i in range(5):
        (start,) = world.starts(ECHO, name=f"n{i}")
        record = applied.state.runs[f"echo-{i}"]
        assert record.execution is not None
        assert record.execution.id == start.execution_id
        assert record.execution.state == "completed"
        assert record.pending is None
        assert record.outputs["shout"] == f"N{i}"
        assert record.outputs["id"].startswith("id-")
        assert applied.report.results[f"echo-{i}"].execution == start.execution_id
    kinds = [e.kind for e in applied.events if e.run == "echo-0"]
    assert kinds == ["started", "waiting", "completed"]

    again = await world.apply(desired)  # nothing left to do
    assert {c.action for c in again.plan.changes} == {Action.NOOP}
    assert len(world.emulator.starts) == 5


async def test_parallelism_bounds_requests_not_executions(tmp_path: Path) -> None:
    parallelism, count = 3, 12
    clock = ManualClock()  # executions only end when the clock moves: after all of them started
    async with World(tmp_path / "state.json", latency=0.01, clock=clock) as world:
        desired = desired_of(*(run_doc(f"wide-{i:02d}", WIDE, {"name": f"w{i}"}) for i in range(count)))

        async def end_all_once_started() -> int:
            while len(world.emulator.starts) < count:
                await asyncio.sleep(0.005)
            running = [e for e in world.emulator.executions.all() if not e.snapshot(clock()).terminal]
            clock.advance(1.0)  # WIDE lasts 0.5 s
            return len(running)

        ender = asyncio.create_task(end_all_once_started())
        world.transport.reset()
        applied = await world.apply(desired, parallelism=parallelism)
        at_once = await ender

        assert applied.report.ok and applied.report.count(Outcome.COMPLETED) == count
        assert at_once == count  # every execution was running at the same time
        assert world.transport.max_in_flight <= parallelism
        assert world.transport.max_in_flight == parallelism  # and the slots are used


async def test_a_dependent_starts_after_its_upstream_with_its_output(world: World) -> None:
    desired = desired_of(
        run_doc("net", ECHO, {"name": "net"}),
        run_doc("vm", READS, {"upstream": "${runs.net.outputs.id}"}),
    )

    applied = await world.apply(desired)

    assert applied.report.ok
    net, vm = applied.state.runs["net"], applied.state.runs["vm"]
    assert net.execution is not None and vm.execution is not None
    (net_start,) = world.starts(ECHO, name="net")
    (vm_start,) = world.starts(READS)
    assert vm_start.received_at >= net_start.received_at + 0.1  # ECHO lasts 0.1 s
    assert vm_start.inputs["upstream"] == net.outputs["id"]
    assert vm.outputs["seen"] == f"seen-{net.outputs['id']}"
    assert vm.depends_on == ["net"]
    order = [(e.kind, e.run) for e in applied.events if e.kind in ("started", "completed")]
    assert order.index(("completed", "net")) < order.index(("started", "vm"))


async def test_a_failed_upstream_skips_its_dependents_only(world: World) -> None:
    desired = desired_of(
        run_doc("bad", FAILS, {"name": "bad-1"}),
        run_doc("after-bad", READS, {"upstream": "${runs.bad.outputs.ok}"}),
        run_doc("alone", ECHO, {"name": "alone"}),
    )

    applied = await world.apply(desired)

    results = applied.report.results
    assert results["bad"].outcome is Outcome.FAILED
    assert "refused bad-1: quota" in results["bad"].message
    assert results["after-bad"].outcome is Outcome.SKIPPED
    assert "bad" in results["after-bad"].message
    assert results["alone"].outcome is Outcome.COMPLETED
    assert not applied.report.ok
    assert {r.run for r in applied.report.problems()} == {"bad", "after-bad"}
    assert world.starts(READS) == []
    bad = applied.state.runs["bad"]
    assert bad.execution is not None and bad.execution.state == "failed"
    assert bad.execution.error == "refused bad-1: quota"
    assert "after-bad" not in applied.state.runs
    assert applied.state.runs["alone"].outputs["shout"] == "ALONE"


async def test_an_earlier_failure_is_a_warning_not_a_failure_of_this_apply(world: World) -> None:
    def desired(bad: str, net: str) -> DesiredStack:
        return desired_of(
            run_doc("bad", FAILS, {"name": bad}),
            run_doc("tail", ECHO, {"name": "tail"}, dependsOn=["bad"]),  # reads nothing of bad: stays noop
            run_doc("net", ECHO, {"name": net}),
        )

    assert (await world.apply(desired("ok-1", "net-1"))).report.ok
    failing = await world.apply(desired("bad-1", "net-1"))
    assert {r.run for r in failing.report.problems()} == {"bad"}  # tail had no change to make: a warning
    assert [(r.run, r.outcome) for r in failing.report.warnings()] == [("tail", Outcome.SKIPPED)]

    applied = await world.apply(desired("bad-1", "net-2"))  # changes net only; bad is plan action `failed`
    results = applied.report.results
    assert results["net"].outcome is Outcome.COMPLETED
    assert results["bad"].outcome is Outcome.NOT_RETRIED and not results["bad"].this_apply
    assert applied.report.ok and applied.report.problems() == []
    assert {(r.run, r.outcome) for r in applied.report.warnings()} == {
        ("bad", Outcome.NOT_RETRIED),
        ("tail", Outcome.SKIPPED),
    }
    assert [e.kind for e in applied.events if e.run == "bad"] == ["not_retried"]
    assert len(world.starts(FAILS)) == 2


async def test_a_conditional_rerun_with_an_unchanged_key_is_not_started(world: World) -> None:
    def desired(note: str) -> DesiredStack:
        return desired_of(
            run_doc("up", ECHO, {"name": "same", "note": note}),
            run_doc("down", READS, {"upstream": "${runs.up.outputs.id}"}),  # id depends on the name only
        )

    first = await world.apply(desired("one"))
    assert first.report.ok

    second = await world.apply(desired("two"))

    actions = {c.run: c.action for c in second.plan.changes}
    assert actions == {"up": Action.RERUN, "down": Action.RERUN}
    assert second.plan.by_run()["down"].key is None  # known after apply
    assert second.report.results["up"].outcome is Outcome.COMPLETED
    assert second.report.results["down"].outcome is Outcome.UNCHANGED
    assert second.report.ok
    assert len(world.starts(ECHO, name="same")) == 2
    assert len(world.starts(READS)) == 1
    assert second.state.runs["down"] == first.state.runs["down"]


async def test_stop_before_run_starts_nothing(world: World) -> None:
    desired = desired_of(run_doc("a", ECHO, {"name": "a"}), run_doc("b", READS, {"upstream": "${runs.a.outputs.id}"}))
    stop = asyncio.Event()
    stop.set()

    applied = await world.apply(desired, stop=stop)

    assert world.emulator.starts == []
    assert applied.report.interrupted and not applied.report.ok
    assert applied.report.results["a"].outcome is Outcome.INTERRUPTED
    assert applied.report.results["b"].outcome in (Outcome.INTERRUPTED, Outcome.SKIPPED)
    assert applied.state.runs == {}


async def test_deleting_a_running_execution_cancels_it(world: World) -> None:
    stuck = await world.client.start_execution(HANGS, {"name": ("string", "stuck-1")})
    assert stuck.state in ("initializing", "running")
    record = RunRecord(workflow=HANGS, key="k-stuck", execution=Execution(id=stuck.id, state=stuck.state))
    world.write(empty_state().model_copy(update={"runs": {"gone": record}}))
    desired = desired_of(run_doc("kept", ECHO, {"name": "kept"}))

    applied = await world.apply(desired)

    assert {c.run: c.action for c in applied.plan.changes}["gone"] is Action.DELETE
    assert applied.report.results["gone"].outcome is Outcome.DELETED
    assert applied.report.results["kept"].outcome is Outcome.COMPLETED
    assert await world.client.get_state(HANGS, stuck.id) == "canceled"
    assert "gone" not in applied.state.runs
    assert ("canceled", "gone") in [(e.kind, e.run) for e in applied.events]


def intent(desired: DesiredStack, name: str, user: str | None) -> RunRecord:
    """The durable intent apply writes before sending the start of ``name`` (taken 1 s ago)."""
    run = desired.runs[name]
    inputs = planned_inputs(run, lambda _: None)
    key = planned_key(run, inputs, empty_state().salt)
    assert key is not None
    pending = PendingStart(
        key=key,
        requested_at=(datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        user=user,
        inputs=recorded_inputs(inputs, empty_state().salt),
    )
    return RunRecord(workflow=run.workflow, key=key, pending=pending)


async def interrupted_starts(world: World, names: list[str], *, sent: bool = True) -> DesiredStack:
    """Runs whose start was interrupted: the state holds only their intents; with ``sent`` the
    start reached the server (an execution exists), else it never left."""
    desired = desired_of(*(run_doc(n, ECHO, {"name": n}) for n in names))
    await world.client.login()
    intents = {n: intent(desired, n, world.client.identity) for n in names}
    if sent:
        for name in names:
            await world.client.start_execution(ECHO, {"name": ("string", name)})
    world.write(empty_state().model_copy(update={"runs": intents}))
    return desired


def execution_ids(world: World) -> dict[str, str]:
    return {s.inputs["name"]: s.execution_id for s in world.emulator.starts}


async def test_an_interrupted_start_is_adopted_not_started_again(world: World) -> None:
    desired = await interrupted_starts(world, ["lost"])
    started = execution_ids(world)

    applied = await world.apply(desired)

    assert applied.plan.by_run()["lost"].action is Action.AWAIT
    assert applied.report.results["lost"].outcome is Outcome.COMPLETED
    assert execution_ids(world) == started  # not started again
    record = applied.state.runs["lost"]
    assert record.pending is None
    assert record.execution is not None and record.execution.id == started["lost"]
    assert record.execution.state == "completed"
    assert record.outputs["shout"] == "LOST"
    assert ("adopted", "lost") in [(e.kind, e.run) for e in applied.events]


async def test_an_interrupted_start_that_never_reached_the_server_is_started(world: World) -> None:
    desired = await interrupted_starts(world, ["never"], sent=False)

    applied = await world.apply(desired)

    assert applied.report.results["never"].outcome is Outcome.COMPLETED
    assert len(world.starts(ECHO, name="never")) == 1
    record = applied.state.runs["never"]
    assert record.pending is None and record.execution is not None
    assert record.execution.id == execution_ids(world)["never"]


async def test_recovery_lists_once_per_workflow_and_reads_each_candidate_once(world: World) -> None:
    names = [f"lost-{i}" for i in range(4)]
    desired = await interrupted_starts(world, names)
    ids = execution_ids(world)
    world.transport.reset()

    applied = await world.apply(desired)

    assert applied.report.ok
    assert execution_ids(world) == ids  # none started again
    recorded = {n: r.execution.id for n, r in applied.state.runs.items() if r.execution is not None}
    assert recorded == ids
    calls = [(m, p) for m, p in world.transport.requests if "/executions" in p]
    listing = f"/cloudapi/workflows/{ECHO}/executions"
    assert calls[0] == ("GET", listing)
    assert sorted(calls[1:5]) == sorted(("GET", f"{listing}/{i}") for i in ids.values())


async def test_recovery_stays_within_parallelism(tmp_path: Path) -> None:
    async with World(tmp_path / "state.json", latency=0.01) as world:
        desired = await interrupted_starts(world, [f"lost-{i}" for i in range(4)])
        world.transport.reset()

        applied = await world.apply(desired, parallelism=1)

        assert applied.report.ok
        assert world.transport.max_in_flight <= 1


async def test_stopping_while_waiting_records_the_started_execution(world: World) -> None:
    desired = desired_of(run_doc("stuck", HANGS, {"name": "stuck-stop"}))
    stop = asyncio.Event()

    async def stop_once_started() -> None:
        while not world.starts(HANGS):
            await asyncio.sleep(0.005)
        stop.set()

    stopper = asyncio.create_task(stop_once_started())
    applied = await world.apply(desired, stop=stop)
    await stopper

    (start,) = world.starts(HANGS)
    result = applied.report.results["stuck"]
    assert result.outcome is Outcome.INTERRUPTED and applied.report.interrupted
    assert result.execution == start.execution_id
    record = applied.state.runs["stuck"]
    assert record.pending is None
    assert record.execution is not None and record.execution.id == start.execution_id
    assert record.execution.state in ("initializing", "running")

    again = await world.apply(desired, stop=stop)  # stop still set: the next apply would await it
    assert again.plan.by_run()["stuck"].action is Action.AWAIT
    assert len(world.starts(HANGS)) == 1


async def test_a_run_past_its_timeout_is_reported_and_left_running(world: World) -> None:
    desired = desired_of(
        run_doc("slow", HANGS, {"name": "stuck-timeout"}, timeout="1s"),
        run_doc("after", READS, {"upstream": "${runs.slow.outputs.done}"}),
    )

    applied = await world.apply(desired)

    (start,) = world.starts(HANGS)
    assert applied.report.results["slow"].outcome is Outcome.TIMED_OUT
    assert "timed out after 1s" in applied.report.results["slow"].message
    assert applied.report.results["after"].outcome is Outcome.SKIPPED
    assert await world.client.get_state(HANGS, start.execution_id) == "running"  # not canceled
    record = applied.state.runs["slow"]
    assert record.execution is not None and record.execution.state == "running"
