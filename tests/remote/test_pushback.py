"""A busy server's 429/503: told to the client's pushback listeners with their workflow, and, when they
say when to come back (Retry-After), retried within the waiting budget without using up attempts."""

from __future__ import annotations

import httpx
import pytest

from reconciler.errors import TemporaryRemoteError
from reconciler.remote import ApiSettings, RetryPolicy, WorkflowClient
from tests.support.fakes import FakeSleep

from .scripted_vcd import EXECUTIONS, WF, ScriptedVcd, error, execution_body

pytestmark = pytest.mark.anyio
SETTINGS = ApiSettings(url="https://vcd.test", api_version="37.1", org="acme", username="deployer", password="pw")
ONE = f"{EXECUTIONS}/e-1"


async def test_pushbacks_with_retry_after_do_not_use_up_attempts(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    busy = [error(429, "busy", **{"Retry-After": "2"}), error(503, "busy", **{"Retry-After": "1"})] * 4
    vcd.queue("POST", EXECUTIONS, *busy, httpx.Response(201, json=execution_body("e-1")))
    heard: list[tuple[str, int, float | None]] = []
    retry = RetryPolicy(attempts=3, max_total=120)
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep, retry=retry) as c:
        c.pushback.subscribe(lambda *told: heard.append(told))
        started = await c.start_execution(WF, {"vmName": ("string", "web-01")})
    assert started.id == "e-1"
    assert vcd.calls("POST", EXECUTIONS) == 9  # eight pushbacks, each honoured, then the start
    assert heard == [(WF, 429, 2.0), (WF, 503, 1.0)] * 4
    assert all(delay >= 1.0 for delay in fake_sleep.delays)


async def test_failures_without_retry_after_still_use_up_attempts(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", ONE, error(503, "down"))
    heard: list[tuple[str, int, float | None]] = []
    async with WorkflowClient(
        SETTINGS, transport=vcd.transport(), sleep=fake_sleep, retry=RetryPolicy(attempts=3)
    ) as c:
        c.pushback.subscribe(lambda *told: heard.append(told))
        with pytest.raises(TemporaryRemoteError):
            await c.get_execution(WF, "e-1")
    assert vcd.calls("GET", ONE) == 3
    assert heard == [(WF, 503, None)] * 3


async def test_other_answers_are_not_pushbacks(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, error(502, "bad gateway"), httpx.Response(200, json=execution_body()))
    heard: list[tuple[str, int, float | None]] = []
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep) as c:
        c.pushback.subscribe(lambda *told: heard.append(told))
        await c.get_execution(WF, "e-1")
    assert heard == []
