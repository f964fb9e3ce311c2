"""refresh_records against the emulator: finished executions recorded, vanished ones marked canceled."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.applying.refreshing import refresh_records
from reconciler.state.models import Execution, RunRecord

from .harness import ECHO, HANGS, World

pytestmark = pytest.mark.anyio


async def test_an_in_progress_record_is_completed_with_outputs(world: World) -> None:
    started = await world.client.start_execution(ECHO, {"name": ("string", "later")})
    assert started.state in ("initializing", "running")
    record = RunRecord(workflow=ECHO, key="k", execution=Execution(id=started.id, state=started.state))
    await asyncio.sleep(0.15)  # ECHO lasts 0.1 s

    changed = await refresh_records(world.client, {"later": record}, parallelism=4)

    updated = changed["later"]
    assert updated.execution is not None
    assert updated.execution.id == started.id
    assert updated.execution.state == "completed"
    assert updated.execution.end_date is not None
    assert updated.outputs == {"id": updated.outputs["id"], "shout": "LATER"}
    assert updated.output_types == {"id": "string", "shout": "string"}
    assert updated.key == "k" and updated.workflow == ECHO


async def test_only_unsettled_records_are_read_and_a_running_one_stays_running(world: World) -> None:
    running = await world.client.start_execution(HANGS, {"name": ("string", "stuck-refresh")})
    await asyncio.sleep(0.05)  # past `initializing`: the server now says running
    runs = {
        "running": RunRecord(workflow=HANGS, key="k1", execution=Execution(id=running.id, state="running")),
        "done": RunRecord(
            workflow=ECHO, key="k2", execution=Execution(id="not-on-server", state="completed"), outputs_read=True
        ),
        "never": RunRecord(workflow=ECHO, key="k3"),
    }
    world.transport.reset()

    changed = await refresh_records(world.client, runs, parallelism=4)

    assert set(changed) <= {"running"}  # at most its start date and user filled in
    still = changed.get("running", runs["running"])
    assert still.execution is not None and still.execution.state == "running"
    assert still.outputs == {}
    assert [path for _, path in world.transport.requests if "executions" in path] == [
        f"/cloudapi/workflows/{HANGS}/executions/{running.id}"
    ]


async def test_a_missing_execution_is_marked_canceled_with_a_message(world: World) -> None:
    await world.client.login()
    unknown = "11111111-2222-4333-8444-555555555555"
    record = RunRecord(workflow=ECHO, key="k", execution=Execution(id=unknown, state="running"))

    changed = await refresh_records(world.client, {"vanished": record}, parallelism=4)

    updated = changed["vanished"]
    assert updated.execution is not None
    assert updated.execution.id == unknown
    assert updated.execution.state == "canceled"
    assert updated.execution.error == "execution no longer exists"
