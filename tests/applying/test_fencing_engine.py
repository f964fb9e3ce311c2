"""The engine's part of fencing: an apply that takes over a lock its previous holder did not release
waits out that holder's request timeout before taking an unanswered intent as never started."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from reconciler.applying.engine import Engine
from reconciler.applying.recorder import Recorder
from reconciler.applying.reports import ApplyEvent, ApplyReport, Outcome
from reconciler.backends.locking import new_lock_info
from reconciler.desired.runs import DesiredStack
from reconciler.planning.planner import make_plan

from .harness import ECHO, World, desired_of, empty_state, run_doc
from .test_engine import intent

pytestmark = pytest.mark.anyio
GRACE = 1.0


async def _intent_of_another_holder(world: World, name: str, *, released: bool) -> DesiredStack:
    desired = desired_of(run_doc(name, ECHO, {"name": name}))
    await world.client.login()
    record = intent(desired, name, world.client.identity)
    assert record.pending is not None
    record = record.model_copy(update={"pending": record.pending.model_copy(update={"lock_id": "old-holder"})})
    world.write(empty_state().model_copy(update={"runs": {name: record}}))
    if not released:  # what a killed (or broken-off) holder leaves behind
        backend = world.backend()
        backend.lock_file.write_info(replace(new_lock_info("apply", str(world.path)), id="old-holder"))
    return desired


async def _apply_holding_the_lock(world: World, desired: DesiredStack) -> tuple[ApplyReport, list[ApplyEvent]]:
    backend = world.backend()
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        recorder = Recorder(backend, state)
        recorder.start()
        plan = make_plan(desired, recorder.snapshot(), exists=True)
        events: list[ApplyEvent] = []
        engine = Engine(plan, desired, recorder, world.client, 10, events.append, None, GRACE)
        try:
            report = await asyncio.wait_for(engine.run(), timeout=10)
        finally:
            await recorder.close()
    return report, events


async def test_a_start_still_in_flight_from_the_previous_holder_is_adopted_not_started_again(world: World) -> None:
    desired = await _intent_of_another_holder(world, "late", released=False)

    async def lands_late() -> None:  # the old holder's request, processed after the first lookup
        await asyncio.sleep(GRACE / 3)
        await world.client.start_execution(ECHO, {"name": ("string", "late")})

    landing = asyncio.create_task(lands_late())
    report, events = await _apply_holding_the_lock(world, desired)
    await landing

    assert len(world.starts(ECHO, name="late")) == 1
    assert report.results["late"].outcome is Outcome.COMPLETED
    waits = [e for e in events if e.kind == "handover_wait"]
    assert [e.run for e in waits] == ["late"]
    assert waits[0].message is not None and "old-holder" in waits[0].message
    assert ("adopted", "late") in [(e.kind, e.run) for e in events]


async def test_an_intent_never_sent_is_started_after_the_wait(world: World) -> None:
    desired = await _intent_of_another_holder(world, "never", released=False)
    report, events = await _apply_holding_the_lock(world, desired)
    assert len(world.starts(ECHO, name="never")) == 1
    assert report.results["never"].outcome is Outcome.COMPLETED
    assert "handover_wait" in [e.kind for e in events]


async def test_no_wait_after_a_holder_that_released_the_lock(world: World) -> None:
    desired = await _intent_of_another_holder(world, "never", released=True)
    report, events = await _apply_holding_the_lock(world, desired)
    assert len(world.starts(ECHO, name="never")) == 1
    assert report.results["never"].outcome is Outcome.COMPLETED
    assert "handover_wait" not in [e.kind for e in events]
