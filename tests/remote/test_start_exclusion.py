"""A start's ``exclude``: read after a lost answer as it is then (apply passes its live set of known ids)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from reconciler.remote import ApiSettings, WorkflowClient
from tests.support.fakes import FakeSleep

from .scripted_vcd import EXECUTIONS, WF, ScriptedVcd, execution_body

pytestmark = pytest.mark.anyio
SETTINGS = ApiSettings(url="https://vcd.test", api_version="37.1", org="acme", username="deployer", password="pw")
SINCE = datetime(2026, 1, 31, 9, 59, tzinfo=UTC)
INPUTS = {"vmName": ("string", "web-01")}


def _row(execution_id: str, start: str) -> dict[str, str]:
    return {"id": execution_id, "state": "running", "startDate": start, "startedBy": "deployer@acme"}


def _detail(execution_id: str, start: str) -> httpx.Response:
    value = {"inputType": "string", "value": "web-01"}
    body = execution_body(
        execution_id, startDate=start, inputParameters=[{"name": "vmName", "type": "string", "value": value}]
    )
    return httpx.Response(200, json=body)


def _scripted(known: set[str], recorded_meanwhile: str) -> ScriptedVcd:
    """A start whose answer is lost; while it is in flight, another run records ``recorded_meanwhile``
    (an execution with the same inputs, started earlier) in ``known``."""
    vcd = ScriptedVcd()

    def lost(request: httpx.Request) -> httpx.Response:
        known.add(recorded_meanwhile)
        raise httpx.RemoteProtocolError("dropped", request=request)

    listing = {"executions": [_row("e-other", "2026-01-31T10:00:00Z"), _row("e-ours", "2026-01-31T10:00:01Z")]}
    vcd.queue("POST", EXECUTIONS, lost)
    vcd.default("GET", EXECUTIONS, httpx.Response(200, json=listing))
    vcd.default("GET", f"{EXECUTIONS}/e-other", _detail("e-other", "2026-01-31T10:00:00Z"))
    vcd.default("GET", f"{EXECUTIONS}/e-ours", _detail("e-ours", "2026-01-31T10:00:01Z"))
    return vcd


async def test_an_id_recorded_while_the_start_was_in_flight_is_never_adopted(fake_sleep: FakeSleep) -> None:
    known = {"e-older"}
    vcd = _scripted(known, "e-other")
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep) as c:
        execution = await c.start_exactly_once(WF, INPUTS, SINCE, exclude=known)
    assert execution.id == "e-ours"  # the earliest match, e-other, belongs to another run by then
    assert vcd.calls("POST", EXECUTIONS) == 1
    assert vcd.calls("GET", f"{EXECUTIONS}/e-other") == 0  # left out of the list: not even read


async def test_without_exclusions_the_earliest_match_is_adopted(fake_sleep: FakeSleep) -> None:
    vcd = _scripted(set(), "e-other")
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep) as c:
        execution = await c.start_exactly_once(WF, INPUTS, SINCE)
    assert execution.id == "e-other"
