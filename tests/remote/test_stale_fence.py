"""A start goes out only while the lock check made just before it is fresh (half the request timeout).

A process frozen after its check (SIGSTOP, a paused VM) wakes up with the request unsent: it must
check the lock again before sending, or it would start a run that the apply which took the lock over
has already started. Here the freeze is a slow login between the check and the send (the emulator's
latency): the first try is held back before any byte is written, the fence is awaited again, and
exactly one start reaches the server. Over a real socket, through the client's own transport."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.emulator.clock import ManualClock
from reconciler.emulator.serving import running_server
from reconciler.errors import LockLostError
from reconciler.remote import RetryPolicy, WorkflowClient
from reconciler.remote.transport import ConnectionSlots, StaleCheckError, sent_by

from .emulated import PROVISION_VM, make_app, starts_of, tenant, vm_inputs

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]
FAST = RetryPolicy(base_delay=0.01, max_delay=0.02)


@pytest.fixture
def served() -> Iterator[tuple[Starlette, str]]:
    app = make_app(ManualClock(), latency=0.3)
    with running_server(app, timeout=10) as url:
        yield app, url


async def _no_sleep(_: float) -> None:
    return None


async def test_a_start_whose_check_went_stale_checks_again_and_is_sent_once(served: tuple[Starlette, str]) -> None:
    app, url = served
    checks: list[str] = []

    async def fence() -> float:
        checks.append("checked")
        return time.monotonic()

    # request timeout 0.5 s: a check is fresh for 0.25 s, and the login in between takes 0.3 s
    async with WorkflowClient(tenant(url, request_timeout=0.5), retry=FAST, sleep=_no_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs(), fence=fence)
    assert checks == ["checked", "checked"]  # the held-back first try made the client check again
    assert [s.execution_id for s in starts_of(app, PROVISION_VM)] == [started.id]


async def test_a_lost_lock_found_at_that_check_sends_nothing(served: tuple[Starlette, str]) -> None:
    app, url = served

    async def fence() -> float:
        raise LockLostError("another apply holds the lock now")

    async with WorkflowClient(tenant(url, request_timeout=0.5), retry=FAST, sleep=_no_sleep) as c:
        with pytest.raises(LockLostError):
            await c.start_execution(PROVISION_VM, vm_inputs(), fence=fence)
    assert starts_of(app, PROVISION_VM) == []


async def test_the_transport_writes_nothing_past_the_deadline(served: tuple[Starlette, str]) -> None:
    app, url = served
    async with httpx.AsyncClient(transport=ConnectionSlots(2)) as http:
        with sent_by(0.0), pytest.raises(httpx.ConnectError) as caught:  # long past
            await http.post(f"{url}/cloudapi/workflows/{PROVISION_VM}/executions", json={})
        assert isinstance(caught.value.__cause__, StaleCheckError)
        answered = await http.get(f"{url}/api/versions")  # the connection is still usable
    assert answered.status_code == 200
    assert starts_of(app, PROVISION_VM) == []
