"""Adaptive concurrency per workflow (AIMD): cut in half on a pushback, once per window, grown back by
1/limit per answer, never below 1 nor above the maximum; and apply against a pushing-back emulator."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from reconciler.applying.pacing import LimitChange, Pacing
from reconciler.emulator import EmulatorOptions, create_app
from reconciler.remote import WorkflowClient
from reconciler.remote.retrying import RetryPolicy

from .harness import CATALOG, ECHO, SETTINGS, CountingTransport, World, desired_of, run_doc

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _answer(pacing: Pacing, workflow: str = "wf") -> None:
    async with pacing.slot(workflow):
        pass


async def test_a_pushback_halves_the_limit_once_per_window() -> None:
    changes: list[LimitChange] = []
    pacing = Pacing(16, changes.append)
    await _answer(pacing)
    pacing.pushback("wf", 429, None)
    pacing.pushback("wf", 503, None)  # nothing sent since the cut: the same window
    assert pacing.limit("wf") == 8
    await _answer(pacing)
    pacing.pushback("wf", 503, None)
    assert pacing.limit("wf") == 4 and pacing.limit("other") == 16
    assert [(c.limit, c.why) for c in changes] == [(8, "429"), (4, "503")]
    for _ in range(10):
        await _answer(pacing)
        pacing.pushback("wf", 429, None)
    assert pacing.limit("wf") == 1  # never below one


async def test_answers_grow_the_limit_back_to_the_maximum_and_no_further() -> None:
    changes: list[LimitChange] = []
    pacing = Pacing(8, changes.append)
    await _answer(pacing)
    pacing.pushback("wf", 429, None)
    await _answer(pacing)
    pacing.pushback("wf", 429, None)
    assert pacing.limit("wf") == 2
    seen = []
    for _ in range(40):
        await _answer(pacing)
        seen.append(pacing.limit("wf"))
    assert seen == sorted(seen) and seen[-1] == 8  # additive: one step at a time, up to the maximum
    assert seen.index(8) > 8  # +1/limit per answer, not +1
    grown = changes[2:]  # after the two cuts: every whole step back up, then the full limit
    assert [c.limit for c in grown] == list(range(3, 9))
    assert [c.why for c in grown] == ["growing"] * 5 + ["recovered"]
    summary = pacing.summary()["wf"]
    assert (summary.lowest, summary.current, summary.maximum) == (2, 8, 8)


async def test_the_limit_bounds_the_requests_in_flight() -> None:
    pacing = Pacing(8)
    await _answer(pacing)
    pacing.pushback("wf", 429, None)
    await _answer(pacing)
    pacing.pushback("wf", 429, None)  # limit 2
    inside = peak = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal inside, peak
        async with pacing.slot("wf"):
            inside += 1
            peak = max(peak, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.ensure_future(request()) for _ in range(6)]
    await asyncio.sleep(0.05)
    assert inside == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert peak == 2


async def test_retry_after_holds_the_next_request_back() -> None:
    now = [100.0]
    pacing = Pacing(4, clock=lambda: now[0])
    await _answer(pacing)
    pacing.pushback("wf", 503, 30.0)
    waiting = asyncio.ensure_future(_answer(pacing))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # held until the loop's clock passes 130 (this clock never gets there)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(_answer(pacing, "other"), 5)  # other workflows are not held


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


async def test_apply_under_pushback_starts_each_run_once_and_cuts_the_limit(world: World) -> None:
    options = EmulatorOptions(fault_rate=0.3, fault_kinds=("429", "503"), seed=7, retry_after=0)
    world.app = create_app(CATALOG, options)
    world.transport = CountingTransport(world.app)
    await world.client.aclose()
    world.client = WorkflowClient(
        SETTINGS, transport=world.transport, sleep=_no_wait, retry=RetryPolicy(attempts=20, max_total=600)
    )
    names = [f"r{i}" for i in range(12)]
    applied = await world.apply(desired_of(*(run_doc(n, ECHO, {"name": n}) for n in names)), parallelism=8)
    assert applied.report.ok
    assert {n: len(world.starts(ECHO, name=n)) for n in names} == dict.fromkeys(names, 1)
    cuts = [e for e in applied.events if e.kind == "limit_changed" and e.limit is not None and e.limit < 8]
    assert cuts and all(e.workflow == ECHO and not e.run for e in cuts)
    limits = applied.report.limits[ECHO]
    assert limits.lowest < 8 and limits.maximum == 8
