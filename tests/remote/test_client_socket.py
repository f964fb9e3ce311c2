"""A few runs over a real socket: the emulator under uvicorn on 127.0.0.1, a free port, bounded time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from reconciler.emulator.clock import ManualClock
from reconciler.emulator.serving import running_server
from reconciler.errors import OutcomeUnknownError, TemporaryRemoteError
from reconciler.remote import RetryPolicy, WorkflowClient

from .emulated import PROVISION_VM, emulator, make_app, now_of, starts_of, tenant, vm_inputs

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def served(clock: ManualClock) -> Iterator[tuple[Starlette, str]]:
    app = make_app(clock)
    with running_server(app, timeout=10) as url:
        assert url.startswith("http://127.0.0.1:")
        yield app, url


async def test_a_run_over_a_socket(served: tuple[Starlette, str], clock: ManualClock) -> None:
    _, url = served
    async with WorkflowClient(tenant(url), retry=FAST) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        clock.advance(10)
        done = await c.get_execution(PROVISION_VM, started.id)
        states = await asyncio.gather(*(c.get_state(PROVISION_VM, started.id) for _ in range(20)))
    assert done.state == "completed" and "vmId" in done.outputs
    assert set(states) == {"completed"}


@pytest.mark.parametrize("kind", ["lost", "drop", "504"])
async def test_start_exactly_once_over_a_socket(served: tuple[Starlette, str], clock: ManualClock, kind: str) -> None:
    app, url = served
    since = now_of(clock)
    emulator(app).faults.enqueue(kind, method="POST", path_contains="/executions")
    async with WorkflowClient(tenant(url), retry=FAST, sleep=_tiny_sleep) as c:
        execution = await c.start_exactly_once(PROVISION_VM, vm_inputs(), since)
    assert [s.execution_id for s in starts_of(app, PROVISION_VM)] == [execution.id]


async def test_a_closed_connection_on_a_start_is_outcome_unknown(served: tuple[Starlette, str]) -> None:
    app, url = served
    emulator(app).faults.enqueue("lost", method="POST", path_contains="/executions")
    async with WorkflowClient(tenant(url), retry=FAST) as c:
        with pytest.raises(OutcomeUnknownError, match="may have been processed"):
            await c.start_execution(PROVISION_VM, vm_inputs())
    assert len(starts_of(app, PROVISION_VM)) == 1


async def test_connection_refused_is_retried_then_temporary() -> None:
    async with WorkflowClient(tenant("http://127.0.0.1:9"), retry=RetryPolicy(attempts=2), sleep=_tiny_sleep) as c:
        with pytest.raises(TemporaryRemoteError, match="cannot connect"):
            await c.list_executions(PROVISION_VM)


async def _tiny_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


async def test_answers_are_freed_without_the_garbage_collector(
    served: tuple[Starlette, str], clock: ManualClock
) -> None:
    """apply runs with few collections (`cli.app.enable_collector`): nothing of a request may be left
    in a reference cycle (httpx's response and its stream wrapper were, ~17 objects per request)."""
    _, url = served
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        async with WorkflowClient(tenant(url), retry=FAST) as c:
            started = await c.start_execution(PROVISION_VM, vm_inputs())
            await asyncio.gather(*(c.get_execution(PROVISION_VM, started.id) for _ in range(20)))
        gc.collect()
        cyclic = [type(o).__name__ for o in gc.garbage if type(o).__module__.startswith(("httpx", "reconciler"))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []
