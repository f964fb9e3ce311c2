"""Unset fields (issue 12 item 1): left out by default, as docs/emulator-catalog.md says and the
definitions type them (plain strings); sent as JSON null with ``nulls=True`` (``--nulls``), as real VCD
answers are known to do in places. Our client reads both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import ManualClock
from reconciler.remote import ApiSettings, WorkflowClient
from tests.support.fakes import FakeSleep

from . import swagger_schema
from .emulator_helpers import DNS, VM, client_for, login, vm_parameters

pytestmark = pytest.mark.anyio

UNSET = {"businessState", "endDate", "currentItemDisplayName", "contentException"}


def _null_paths(value: Any, path: str = "") -> Iterator[str]:
    if value is None:
        yield path or "<body>"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _null_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _null_paths(item, f"{path}[{index}]")


async def _answers(client: httpx.AsyncClient, clock: ManualClock) -> dict[str, Any]:
    base = f"/cloudapi/workflows/{VM}/executions"
    started = (await client.post(base, json={"parameters": vm_parameters()})).json()
    running = (await client.get(f"{base}/{started['id']}")).json()
    failing = (await client.post(base, json={"parameters": vm_parameters("fail-1")})).json()
    listed_running = (await client.get(base)).json()
    clock.advance(10)
    return {
        "start": started,
        "running": running,
        "failed": (await client.get(f"{base}/{failing['id']}")).json(),
        "completed": (await client.get(f"{base}/{started['id']}")).json(),
        "list while running": listed_running,
        "presentation": (await client.get(f"/cloudapi/workflows/{DNS}/presentation")).json(),
    }


async def test_by_default_unset_fields_are_left_out(make_app: Callable[..., Any], clock: ManualClock) -> None:
    async with client_for(make_app()) as client:
        await login(client)
        answers = await _answers(client, clock)
    for name, body in answers.items():
        assert list(_null_paths(body)) == [], name
    assert not UNSET & set(answers["running"])
    assert answers["failed"]["contentException"] and answers["failed"]["endDate"]
    assert "currentItemDisplayName" not in answers["completed"]
    assert "endDate" not in answers["list while running"]["executions"][0]
    for name in ("start", "running", "failed", "completed"):
        swagger_schema.validate(answers[name], "WsWorkflowExecution", strict_nulls=True)


async def test_with_nulls_unset_fields_are_null(make_app: Callable[..., Any], clock: ManualClock) -> None:
    async with client_for(make_app(nulls=True)) as client:
        await login(client)
        answers = await _answers(client, clock)
    running = answers["running"]
    assert {key: running[key] for key in UNSET - {"currentItemDisplayName"}} == {
        "businessState": None,
        "endDate": None,
        "contentException": None,
    }
    assert answers["completed"]["currentItemDisplayName"] is None
    assert answers["list while running"]["executions"][0]["endDate"] is None
    with pytest.raises(Exception, match="None is not of type"):
        swagger_schema.validate(running, "WsWorkflowExecution", strict_nulls=True)


@pytest.mark.parametrize("nulls", [False, True])
async def test_our_client_reads_both(make_app: Callable[..., Any], clock: ManualClock, nulls: bool) -> None:
    settings = ApiSettings(
        url="https://vcd.emulated", api_version="37.2", org="acme", username="deployer", password="deployer"
    )
    transport = httpx.ASGITransport(app=make_app(nulls=nulls))
    inputs = {
        "vmName": ("string", "web-01"),
        "cpuCount": ("number", 2),
        "memoryGb": ("number", 8),
        "network": ("string", "net-1"),
        "adminPassword": ("SecureString", "s3cret!"),
    }
    async with WorkflowClient(settings, transport=transport, sleep=FakeSleep()) as client:
        started = await client.start_execution(VM, inputs)
        assert started.end_date is None and started.content_exception is None and started.business_state is None
        failing = await client.start_execution(VM, {**inputs, "vmName": ("string", "fail-1")})
        rows = await client.list_executions(VM)
        assert {row.id for row in rows} == {started.id, failing.id}
        clock.advance(10)
        done = await client.get_execution(VM, started.id)
        failed = await client.get_execution(VM, failing.id)
    assert done.state == "completed" and done.end_date is not None and done.current_item is None
    assert done.outputs["vmId"][1].startswith("vm-")
    assert failed.state == "failed" and failed.content_exception == "Clone of fail-1 failed: datastore full"
