"""A run is never recorded `completed` without the outputs the server returned for it: executions that
ended before their start answer was recorded, adoption after a crash, a record left unread by a crash,
a failed state write at completion. The emulator's `INSTANT` workflow ends the moment it starts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.applying.engine import Engine
from reconciler.applying.recorder import Recorder
from reconciler.applying.refreshing import refresh_records
from reconciler.applying.reports import ApplyEvent, ApplyReport, Outcome
from reconciler.backends.local import LocalBackend
from reconciler.desired.runs import DesiredStack
from reconciler.emulator import EmulatorOptions, create_app, parse_catalog
from reconciler.emulator.faults import ConnectionDropped
from reconciler.errors import StateError
from reconciler.planning.changes import Action
from reconciler.planning.planner import make_plan, planned_inputs, planned_key, recorded_inputs
from reconciler.remote import WorkflowClient
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import Execution, PendingStart, RunRecord

from .harness import SETTINGS, CountingTransport, World, desired_of, empty_state, run_doc

pytestmark = pytest.mark.anyio

INSTANT = "00000000-0000-4000-8000-0000000b0001"  # name -> id, shout; ends as it starts
CATALOG = parse_catalog(
    yaml.safe_dump(
        {
            "apiVersions": ["37.1"],
            "workflows": [
                {
                    "id": INSTANT,
                    "name": "Instant",
                    "inputs": [{"name": "name", "type": "string"}],
                    "outputs": [
                        {"name": "id", "type": "string", "template": "id-${inputs.name|hash:8}"},
                        {"name": "shout", "type": "string", "template": "${inputs.name|upper}"},
                    ],
                    "duration": 0,
                    "initializing": 0,
                }
            ],
            "users": [{"name": "admin", "org": "System", "password": "admin"}],
        }
    )
)


class DroppingTransport(CountingTransport):
    """In-process, a dropped connection is `ConnectionDropped`; over a socket httpx sees a disconnect."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from exc


@dataclass
class InstantWorld(World):
    def __post_init__(self) -> None:
        self.app = create_app(CATALOG, EmulatorOptions(seed=11))
        self.transport = DroppingTransport(self.app)
        self.client = WorkflowClient(SETTINGS, transport=self.transport)


@pytest.fixture
async def instant(tmp_path: Path, anyio_backend: str) -> Any:
    async with InstantWorld(tmp_path / "reconciler.state.json") as built:
        yield built


def _runs(*names: str) -> DesiredStack:
    return desired_of(*(run_doc(n, INSTANT, {"name": n}) for n in names))


def intent(desired: DesiredStack, name: str, user: str | None) -> RunRecord:
    """The durable intent apply writes before sending the start of ``name`` (taken 1 s ago)."""
    run = desired.runs[name]
    inputs = planned_inputs(run, lambda _: None)
    key = planned_key(run, inputs, empty_state().salt)
    assert key is not None
    requested = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    pending = PendingStart(
        key=key, requested_at=requested, user=user, inputs=recorded_inputs(inputs, empty_state().salt)
    )
    return RunRecord(workflow=run.workflow, key=key, pending=pending)


@dataclass
class WatchedBackend:
    """A LocalBackend that keeps every event appended, and fails the appends ``fail`` picks."""

    inner: LocalBackend
    fail: Any = None  # called with a group of events; True: raise a disk-full StateError
    appended: list[PutRun | RemoveRun] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:  # everything else as the LocalBackend does it
        return getattr(self.inner, name)

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        if self.fail is not None and self.fail(events):
            raise StateError(f"cannot append to {self.inner.journal_path}: No space left on device")
        self.inner.append(events, serial)
        self.appended.extend(events)


async def _apply(world: World, desired: DesiredStack, backend: Any) -> tuple[ApplyReport, list[ApplyEvent]]:
    """What ``reconciler apply --no-refresh`` does, on ``backend``; a failed final write is swallowed."""
    state = backend.read() or empty_state()
    recorder = Recorder(backend, state)
    recorder.start()
    events: list[ApplyEvent] = []
    engine = Engine(
        make_plan(desired, recorder.snapshot(), exists=True), desired, recorder, world.client, 10, events.append
    )
    try:
        report = await asyncio.wait_for(engine.run(), timeout=10)
    finally:
        try:
            await recorder.close()
        except StateError:
            pass
    return report, events


async def _read_outputs(world: World, name: str) -> dict[str, Any]:
    (start,) = world.starts(INSTANT, name=name)
    remote = await world.client.get_execution(INSTANT, start.execution_id)
    return {n: v for n, (_, v) in remote.outputs.items()}


def _completed_without_outputs(record: RunRecord) -> bool:
    """What the crash reproduction found: completed in the state, yet taken as read with no outputs."""
    done = record.execution is not None and record.execution.state == "completed"
    return done and not record.outputs_unread() and not record.outputs


async def test_a_start_whose_answer_is_lost_and_whose_execution_already_ended_records_its_outputs(
    instant: InstantWorld,
) -> None:
    instant.emulator.faults.enqueue("lost", method="POST", path_contains="/executions")

    applied = await instant.apply(_runs("one"))

    assert applied.report.results["one"].outcome is Outcome.COMPLETED
    assert len(instant.starts(INSTANT, name="one")) == 1
    record = applied.state.runs["one"]
    assert record.outputs == await _read_outputs(instant, "one") and record.outputs["shout"] == "ONE"
    assert record.outputs_read is True
    completed = [e for e in applied.events if e.kind == "completed"]
    assert [(e.run, e.outputs) for e in completed] == [("one", record.outputs)]


@pytest.mark.parametrize("flag", [False, None], ids=["outputs-not-read", "written-before-the-flag"])
async def test_a_completed_record_without_its_outputs_is_read_and_not_started_again(
    instant: InstantWorld, flag: bool | None
) -> None:
    started = await instant.client.start_execution(INSTANT, {"name": ("string", "one")})
    desired = _runs("one")
    base = intent(desired, "one", instant.client.identity)
    crashed = base.model_copy(
        update={"pending": None, "execution": Execution(id=started.id, state="completed"), "outputs_read": flag}
    )
    instant.write(empty_state().model_copy(update={"runs": {"one": crashed}}))
    instant.transport.reset()

    applied = await instant.apply(desired)

    change = applied.plan.by_run()["one"]
    assert (change.action, change.reason) == (Action.AWAIT, f"execution {started.id} completed; outputs not read yet")
    assert applied.report.results["one"].outcome is Outcome.COMPLETED
    assert len(instant.emulator.starts) == 1  # read, never started again
    reads = [p for m, p in instant.transport.requests if m == "GET" and p.endswith(started.id)]
    assert len(reads) == 1
    assert applied.state.runs["one"].outputs == await _read_outputs(instant, "one")
    assert applied.state.runs["one"].outputs_read is True
    assert "waiting" not in [e.kind for e in applied.events]

    again = await instant.apply(desired)
    assert again.plan.by_run()["one"].action is Action.NOOP


async def test_adopting_an_execution_that_already_ended_records_its_outputs_with_it(instant: InstantWorld) -> None:
    names = ["a", "b"]
    desired = _runs(*names)
    await instant.client.login()
    intents = {n: intent(desired, n, instant.client.identity) for n in names}
    for name in names:
        await instant.client.start_execution(INSTANT, {"name": ("string", name)})
    instant.write(empty_state().model_copy(update={"runs": intents}))
    backend = WatchedBackend(instant.backend())
    instant.transport.reset()

    report, events = await _apply(instant, desired, backend)

    assert report.ok and len(instant.emulator.starts) == 2
    execution_reads = [p for m, p in instant.transport.requests if m == "GET" and "/executions/" in p]
    assert len(execution_reads) == 2  # each adopted execution read once (by the lookup), not twice
    for name in names:
        puts = [e.record for e in backend.appended if isinstance(e, PutRun) and e.run == name]
        assert puts, name
        assert puts[0].execution is not None and puts[0].execution.state == "completed"  # the adoption itself
        assert all(p.outputs == puts[0].outputs for p in puts) and puts[0].outputs_read is True
        assert puts[0].outputs == await _read_outputs(instant, name)
    assert {e.run for e in events if e.kind == "completed"} == set(names)


async def test_a_completion_whose_state_write_fails_is_not_reported_completed(world: World) -> None:
    desired = desired_of(run_doc("one", "00000000-0000-4000-8000-0000000a0001", {"name": "one"}))
    world.write(empty_state())

    def completion(events: Sequence[PutRun | RemoveRun]) -> bool:
        return any(isinstance(e, PutRun) and e.record.outputs_read for e in events)

    backend = WatchedBackend(world.backend(), fail=completion)
    report, events = await _apply(world, desired, backend)

    result = report.results["one"]
    assert result.outcome is Outcome.FAILED
    assert "could not be recorded" in result.message and "No space left on device" in result.message
    assert "completed" not in [e.kind for e in events if e.run == "one"]
    stored = world.stored().runs["one"]
    assert not _completed_without_outputs(stored)
    assert stored.pending is not None or stored.outputs_read is False

    again = await world.apply(desired)  # a healthy disk again: read, not started again
    assert again.report.results["one"].outcome is Outcome.COMPLETED
    assert len(world.emulator.starts) == 1
    assert again.state.runs["one"].outputs["shout"] == "ONE"


async def test_an_instant_execution_whose_completion_write_fails_stays_unread_in_the_state(
    instant: InstantWorld,
) -> None:
    instant.write(empty_state())

    def completion(events: Sequence[PutRun | RemoveRun]) -> bool:
        return any(isinstance(e, PutRun) and e.record.outputs_read for e in events)

    report, _ = await _apply(instant, _runs("one"), WatchedBackend(instant.backend(), fail=completion))

    assert report.results["one"].outcome is Outcome.FAILED
    stored = instant.stored().runs["one"]
    assert not _completed_without_outputs(stored)
    planned = make_plan(_runs("one"), instant.stored(), exists=True).by_run()["one"]
    assert planned.action is Action.AWAIT


async def test_refresh_reads_a_completed_record_whose_outputs_were_not_read(instant: InstantWorld) -> None:
    started = await instant.client.start_execution(INSTANT, {"name": ("string", "one")})
    unread = RunRecord(workflow=INSTANT, key="k", execution=Execution(id=started.id, state="completed"))
    settled = unread.model_copy(update={"outputs": {"x": 1}, "output_types": {"x": "number"}, "outputs_read": True})
    runs = {"unread": unread.model_copy(update={"outputs_read": False}), "legacy": unread, "settled": settled}

    changed = await refresh_records(instant.client, runs, parallelism=4)

    assert set(changed) == {"unread", "legacy"}
    for record in changed.values():
        assert record.outputs == await _read_outputs(instant, "one")
        assert record.outputs_read is True and record.output_types == {"id": "string", "shout": "string"}


@pytest.mark.parametrize(
    ("flag", "state"), [(False, "canceled"), (None, "completed")], ids=["outputs-lost", "written-before-the-flag"]
)
async def test_an_unread_record_whose_execution_vanished(instant: InstantWorld, flag: bool | None, state: str) -> None:
    await instant.client.login()
    gone = "11111111-2222-4333-8444-555555555555"
    record = RunRecord(workflow=INSTANT, key="k", execution=Execution(id=gone, state="completed"), outputs_read=flag)

    changed = await refresh_records(instant.client, {"one": record}, parallelism=4)

    updated = changed["one"]
    assert updated.execution is not None and updated.execution.state == state
    assert not updated.outputs_unread()
    if state == "canceled":
        assert "its outputs could not be read" in (updated.execution.error or "")


async def test_a_removal_that_cannot_be_recorded_is_not_reported_deleted(instant: InstantWorld) -> None:
    record = RunRecord(
        workflow=INSTANT, key="k", execution=Execution(id="e-gone", state="completed"), outputs_read=True
    )
    instant.write(empty_state().model_copy(update={"runs": {"gone": record}}))

    def removal(events: Sequence[PutRun | RemoveRun]) -> bool:
        return any(isinstance(e, RemoveRun) for e in events)

    report, events = await _apply(instant, _runs(), WatchedBackend(instant.backend(), fail=removal))

    assert report.results["gone"].outcome is Outcome.FAILED
    assert "its removal from the state could not be recorded" in report.results["gone"].message
    assert "deleted" not in [e.kind for e in events]
    assert "gone" in instant.stored().runs
