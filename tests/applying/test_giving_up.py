"""An apply always ends: an outage is reported once (and its end once), a dead endpoint is given up on.

The emulator in-process behind a transport that can refuse every connection (the server "dies"), on
virtual time: minutes of outage and backoff take milliseconds, and the emulator's clock is the loop's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reconciler.applying.engine import Engine
from reconciler.applying.recorder import Recorder
from reconciler.applying.reports import ApplyEvent, ApplyReport, Outcome
from reconciler.backends.local import LocalBackend
from reconciler.desired.runs import DesiredStack
from reconciler.emulator import EmulatorOptions, create_app
from reconciler.errors import EndpointUnreachableError, OutcomeUnknownError
from reconciler.planning.changes import Action
from reconciler.planning.planner import make_plan
from reconciler.remote import WorkflowClient
from reconciler.state.models import IN_PROGRESS, State

from .harness import CATALOG, ECHO, HANGS, SETTINGS, WIDE, desired_of, empty_state, run_doc
from .virtual_time import run_virtual


class Dying(httpx.AsyncBaseTransport):
    """The emulator, or (``down``) a server whose port refuses connections; refusals are counted."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.down = False
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await self._inner.handle_async_request(request)


Scenario = Callable[[ApplyEvent, Dying], None]


def apply_virtually(
    path: Path, desired: DesiredStack, on_event: Scenario, give_up_after: float
) -> tuple[ApplyReport, list[ApplyEvent], State, float]:
    """One apply on virtual time; ``on_event`` sees each event (and may take the server down).
    Returns the report, the events, the state as stored afterwards and the virtual seconds it took."""

    async def main() -> tuple[ApplyReport, list[ApplyEvent], State, float]:
        loop = asyncio.get_running_loop()
        transport = Dying(create_app(CATALOG, EmulatorOptions(seed=11), clock=lambda: 1_700_000_000.0 + loop.time()))
        settings = dataclasses.replace(SETTINGS, give_up_after=give_up_after)
        backend = LocalBackend(path)
        backend.write(empty_state(), None)
        state = backend.read()
        assert state is not None
        events: list[ApplyEvent] = []

        def listen(event: ApplyEvent) -> None:
            events.append(event)
            on_event(event, transport)

        async with WorkflowClient(settings, transport=transport) as client:
            recorder = Recorder(backend, state)
            recorder.start()
            plan = make_plan(desired, recorder.snapshot(), exists=True)
            began = loop.time()
            try:
                report = await Engine(plan, desired, recorder, client, 10, listen).run()
            finally:
                await recorder.close()
            took = loop.time() - began
        stored = LocalBackend(path).read()
        assert stored is not None
        return report, events, stored, took

    return run_virtual(main(), limit=6 * 3600.0)


def endpoint_events(events: list[ApplyEvent]) -> list[str]:
    return [e.kind for e in events if not e.run]


def test_a_dead_endpoint_is_given_up_on_and_what_was_started_stays_awaited(tmp_path: Path) -> None:
    """Issue 8.3: the server dies while a run (without `timeout:`) is waited for. Apply reports the
    outage once, gives up after ``giveUpAfter``, ends with the endpoint named, and keeps the execution
    recorded in progress, so that the next plan awaits it (never starts it again)."""
    desired = desired_of(
        run_doc("stuck", HANGS, {"name": "stuck-1"}),
        run_doc("after", ECHO, {"name": "after"}, dependsOn=["stuck"]),
    )

    def die_once_waiting(event: ApplyEvent, server: Dying) -> None:
        if event.kind == "waiting":
            server.down = True

    report, events, stored, took = apply_virtually(tmp_path / "state.json", desired, die_once_waiting, 120.0)

    stuck = report.results["stuck"]
    assert stuck.outcome is Outcome.FAILED and not report.ok
    assert "gave up on the VCD endpoint http://emulator: no answer for 120s" in stuck.message
    assert "stays recorded as initializing (the next apply waits for it again)" in stuck.message
    assert report.results["after"].outcome is Outcome.SKIPPED
    assert endpoint_events(events) == ["endpoint_unreachable"]  # one line for the outage, not one per request
    assert took < 3600  # given up on, well before the run's default timeout (1h)
    record = stored.runs["stuck"]
    assert record.execution is not None and record.execution.state in IN_PROGRESS and record.pending is None
    assert make_plan(desired, stored, exists=True).by_run()["stuck"].action is Action.AWAIT


def test_an_outage_is_reported_once_when_it_begins_and_once_when_it_ends(tmp_path: Path) -> None:
    """A server down for a minute (under the give-up time): one warning, one 'answers again', and
    the run completes; many requests failed in between."""
    desired = desired_of(run_doc("wide", WIDE, {"name": "w"}), run_doc("echo", ECHO, {"name": "e"}))
    refused: list[int] = []

    def down_for_a_minute(event: ApplyEvent, server: Dying) -> None:
        if event.kind == "waiting" and event.run == "wide":
            server.down = True
            asyncio.get_running_loop().call_later(60, lambda: setattr(server, "down", False))
        if event.kind == "endpoint_reachable":
            refused.append(server.refused)

    report, events, _, _ = apply_virtually(tmp_path / "state.json", desired, down_for_a_minute, 300.0)

    assert report.ok, report.problems()
    assert endpoint_events(events) == ["endpoint_unreachable", "endpoint_reachable"]
    assert refused and refused[0] > 3  # several refused requests, reported as one outage
    unreachable = next(e for e in events if e.kind == "endpoint_unreachable")
    assert unreachable.message is not None and "http://emulator is not answering" in unreachable.message
    kinds = [e.kind for e in events if e.run == "wide"]
    assert kinds[-1] == "completed"


def test_a_bug_in_one_run_lets_independent_runs_finish_then_surfaces(tmp_path: Path) -> None:
    """Not one of the project's errors (here: a listener that breaks on one run's event) is a bug: that
    run fails as an internal error, independent runs are still carried out and recorded, and only then
    does the bug surface (as itself, for a traceback) instead of abandoning them mid-start."""
    desired = desired_of(run_doc("buggy", ECHO, {"name": "buggy"}), run_doc("fine", WIDE, {"name": "fine"}))

    def break_on_buggy(event: ApplyEvent, server: Dying) -> None:
        if event.kind == "started" and event.run == "buggy":
            raise RuntimeError("listener broke")

    path = tmp_path / "state.json"
    try:
        apply_virtually(path, desired, break_on_buggy, 300.0)
    except RuntimeError as bug:
        assert str(bug) == "listener broke"
    else:
        raise AssertionError("the bug was swallowed")
    stored = LocalBackend(path).read()
    assert stored is not None
    fine = stored.runs["fine"]
    assert fine.execution is not None and fine.execution.state == "completed" and fine.outputs == {"done": "wide-fine"}
    buggy = stored.runs["buggy"]  # started before the bug: recorded, so the next apply awaits it
    assert buggy.execution is not None and buggy.pending is None


def test_starts_give_up_too_and_a_lost_answer_is_left_to_the_next_apply() -> None:
    """The client's own retries end at the give-up time: a start refused at the door fails as
    `EndpointUnreachableError` (nothing was sent), and a start whose answer was lost before the server
    died is `OutcomeUnknownError` (looked up by the next apply), both naming the endpoint."""

    async def main() -> tuple[BaseException, float, BaseException]:
        loop = asyncio.get_running_loop()
        refusing = Dying(create_app(CATALOG, EmulatorOptions(seed=11), clock=lambda: 1_700_000_000.0 + loop.time()))
        settings = dataclasses.replace(SETTINGS, give_up_after=3.0)  # under the retry policy's ~7.5s
        async with WorkflowClient(settings, transport=refusing) as client:
            await client.login()
            refusing.down = True
            began = loop.time()
            refused = await _error_of(client.start_exactly_once(ECHO, {"name": ("string", "x")}, datetime.now(UTC)))
            took = loop.time() - began
        losing = LosesThenDies(
            create_app(CATALOG, EmulatorOptions(seed=11), clock=lambda: 1_700_000_000.0 + loop.time())
        )
        async with WorkflowClient(settings, transport=losing) as client:
            await client.login()
            lost = await _error_of(client.start_exactly_once(ECHO, {"name": ("string", "y")}, datetime.now(UTC)))
        return refused, took, lost

    refused, took, lost = run_virtual(main(), limit=3600.0)
    assert isinstance(refused, EndpointUnreachableError)
    assert "gave up on the VCD endpoint http://emulator: no answer for 3s" in str(refused)
    assert 3 <= took < 5  # virtual seconds: ended by the give-up time, before the retry policy would
    assert type(lost) is OutcomeUnknownError and "gave up on the VCD endpoint http://emulator" in str(lost)


class LosesThenDies(Dying):
    """Processes the first start, loses its answer, and refuses every connection after it."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/executions") and not self.down:
            await super().handle_async_request(request)
            self.down = True
            raise httpx.ReadError("connection reset", request=request)
        return await super().handle_async_request(request)


async def _error_of(call: Awaitable[object]) -> BaseException:
    try:
        await call
    except Exception as err:
        return err
    raise AssertionError("no error raised")
