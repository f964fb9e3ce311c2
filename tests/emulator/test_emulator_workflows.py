"""The workflow calls end to end in-process: states follow the clock, failures, cancel, delete, 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator import ManualClock, emulator_of

from .emulator_helpers import DNS, NETWORK, VM, client_for, login, openapi, param_value, vm_parameters

pytestmark = pytest.mark.anyio

EXECUTIONS = f"/cloudapi/workflows/{VM}/executions"


async def start(client: httpx.AsyncClient, parameters: list[dict[str, Any]], workflow: str = VM) -> dict[str, Any]:
    response = await client.post(f"/cloudapi/workflows/{workflow}/executions", json={"parameters": parameters})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_states_follow_the_clock_to_completed(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    started = await start(admin, vm_parameters())
    assert started["state"] == "initializing"
    assert started["name"] == "Provision VM"
    assert started["startedBy"] == "admin@System"
    assert started["outputParameters"] == []
    unset = {"endDate", "contentException", "businessState", "currentItemDisplayName"}  # left out, not null
    assert not unset & set(started)
    assert {"id", "name", "state", "startDate", "startedBy", "inputParameters", "outputParameters", "relations"} <= set(
        started
    )
    url = f"{EXECUTIONS}/{started['id']}"
    clock.advance(0.5)
    running = (await admin.get(url)).json()
    assert (running["state"], running["currentItemDisplayName"]) == ("running", "Clone VM")
    assert (await admin.get(f"{url}/state")).json() == "running"
    clock.advance(2)
    done = (await admin.get(url)).json()
    assert done["state"] == "completed"
    assert done["endDate"].endswith("+00:00")
    outputs = {p["name"]: p["value"] for p in done["outputParameters"]}
    assert set(outputs) == {"vmId", "ipAddress", "initialToken"}
    assert outputs["vmId"]["inputType"] == "string"
    assert outputs["vmId"]["value"].startswith("vm-")
    assert outputs["initialToken"] == {
        "inputType": "secureString",
        "value": outputs["initialToken"]["value"],
        "isPlainText": True,
    }


async def test_same_inputs_give_same_outputs(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    first = await start(admin, vm_parameters())
    second = await start(admin, vm_parameters())
    other = await start(admin, vm_parameters("web-02"))
    clock.advance(5)
    outputs = [(await admin.get(f"{EXECUTIONS}/{e['id']}")).json()["outputParameters"] for e in (first, second, other)]
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]
    assert first["id"] != second["id"]


async def test_input_echo_masks_secrets_and_adds_token_parameters(admin: httpx.AsyncClient) -> None:
    started = await start(admin, vm_parameters())
    inputs = started["inputParameters"]
    assert param_value(inputs, "adminPassword") == {
        "inputType": "secureString",
        "value": "********",
        "isPlainText": False,
    }
    assert param_value(inputs, "tags")["value"] == [
        {"inputType": "string", "value": "prod"},
        {"inputType": "string", "value": "web"},
    ]
    assert param_value(inputs, "owner") == {"inputType": "string", "value": "platform-team"}  # the default
    token = {p["name"]: p for p in inputs if p["scope"] == "token"}
    assert {"_vcd_orgName", "_vcd_orgId", "_vcd_userName", "_vcd_isAdmin", "_vcd_apiEndpoint"} <= set(token)
    assert token["_vcd_orgName"]["value"] == {"inputType": "string", "value": "System"}
    assert token["_vcd_isAdmin"]["value"]["value"] == "true"
    assert token["_vcd_sessionToken"]["value"]["value"] == "********"


@pytest.mark.parametrize("output_format", ["openapi", "vro"])
async def test_vro_starts_are_answered_in_the_servers_format(
    make_app: Callable[..., Any], clock: ManualClock, output_format: str
) -> None:
    parameters = [
        {"name": "hostname", "type": "string", "scope": "local", "value": {"string": {"value": "Web-01"}}},
        {"name": "ip", "type": "string", "scope": "local", "value": {"string": {"value": "10.0.0.5"}}},
    ]

    def wire(text: str) -> dict[str, Any]:
        return {"inputType": "string", "value": text} if output_format == "openapi" else {"string": {"value": text}}

    async with client_for(make_app(output_format=output_format)) as client:
        await login(client)
        started = await start(client, parameters, DNS)
        assert param_value(started["inputParameters"], "hostname") == wire("Web-01")
        clock.advance(1.2)
        waiting = (await client.get(f"/cloudapi/workflows/{DNS}/executions/{started['id']}")).json()
        assert waiting["state"] == "waiting-signal"
        clock.advance(1)
        done = (await client.get(f"/cloudapi/workflows/{DNS}/executions/{started['id']}")).json()
        assert param_value(done["outputParameters"], "fqdn") == wire("web-01.demo.internal")


async def test_output_format_can_be_forced(make_app: Callable[..., Any]) -> None:
    async with client_for(make_app(output_format="vro")) as client:
        await login(client)
        started = await start(client, vm_parameters())
        assert param_value(started["inputParameters"], "vmName") == {"string": {"value": "web-01"}}
        assert param_value(started["inputParameters"], "adminPassword") == {"secure-string": {"value": "********"}}


async def test_schema_names_are_accepted_as_input_type(admin: httpx.AsyncClient) -> None:
    parameters = [
        {"name": "name", "type": "string", "value": {"inputType": "StringParam", "value": "net-a"}},
        {"name": "cidr", "type": "string", "value": {"inputType": "StringParam", "value": "10.0.1.0/24"}},
    ]
    started = await start(admin, parameters, NETWORK)
    assert started["state"] == "initializing"


async def test_failure_rule_ends_failed_with_message(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    started = await start(admin, vm_parameters("fail-01"))
    clock.advance(3)
    failed = (await admin.get(f"{EXECUTIONS}/{started['id']}")).json()
    assert failed["state"] == "failed"
    assert failed["contentException"] == "Clone of fail-01 failed: datastore full"
    assert failed["outputParameters"] == []
    assert "endDate" in failed


async def test_hang_until_canceled_then_cancel_again_is_400(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    started = await start(admin, vm_parameters("stuck-01"))
    url = f"{EXECUTIONS}/{started['id']}"
    for _ in range(4):  # an hour, looked at every 15 minutes (the session's idle timeout is 30)
        clock.advance(900)
        assert (await admin.get(f"{url}/state")).json() == "running"
    assert (await admin.delete(url)).status_code == 400  # still running: cannot delete
    assert (await admin.delete(f"{url}/state")).status_code == 204
    assert (await admin.get(f"{url}/state")).json() == "canceled"
    again = await admin.delete(f"{url}/state")
    assert again.status_code == 400
    assert again.json()["minorErrorCode"] == "BAD_REQUEST"
    canceled = (await admin.get(url)).json()
    assert canceled["state"] == "canceled" and "endDate" in canceled
    assert (await admin.delete(url)).status_code == 204
    assert (await admin.get(url)).status_code == 403


async def test_state_object_format(make_app: Callable[..., Any]) -> None:
    async with client_for(make_app(state_format="object")) as client:
        await login(client)
        started = await start(client, vm_parameters())
        state = await client.get(f"{EXECUTIONS}/{started['id']}/state")
        assert state.json() == {"value": "initializing"}


async def test_unknown_workflow_and_execution_are_403_or_404(make_app: Callable[..., Any]) -> None:
    for status, minor in ((403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN"), (404, "RESOURCE_NOT_FOUND")):
        async with client_for(make_app(missing_status=status)) as client:
            await login(client)
            for path in ("/cloudapi/workflows/nope/executions", f"{EXECUTIONS}/nope", f"{EXECUTIONS}/nope/state"):
                response = await client.get(path)
                assert response.status_code == status
                assert response.json()["minorErrorCode"] == minor
                assert set(response.json()) == {"minorErrorCode", "message", "stackTrace"}


async def test_service_item_urn_names_the_same_workflow(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"/cloudapi/workflows/urn:vcloud:serviceItem:{VM}/presentation")
    assert response.status_code == 200
    assert response.json()["name"] == "Provision VM"


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ([*vm_parameters(), openapi("color", "string", "red")], "color"),
        ([p for p in vm_parameters() if p["name"] != "cpuCount"], "cpuCount"),
        (vm_parameters(cpuCount="two"), "cpuCount"),
        ([{**p, "type": "string"} if p["name"] == "cpuCount" else p for p in vm_parameters()], "cpuCount"),
        ([*vm_parameters(), openapi("vmName", "string", "again")], "vmName"),
        ([{**p, "value": {"weird": 1}} if p["name"] == "tags" else p for p in vm_parameters()], "tags"),
        (vm_parameters(tags=["a", 3]), "tags"),
    ],
    ids=["unknown", "missing", "mistyped-value", "wrong-type", "duplicate", "unknown-encoding", "bad-element"],
)
async def test_invalid_parameters_are_400_naming_the_parameter(
    admin: httpx.AsyncClient, parameters: list[dict[str, Any]], named: str
) -> None:
    response = await admin.post(EXECUTIONS, json={"parameters": parameters})
    assert response.status_code == 400
    body = response.json()
    assert body["minorErrorCode"] == "BAD_REQUEST"
    assert f"'{named}'" in body["message"]


async def test_malformed_body_is_400(admin: httpx.AsyncClient) -> None:
    response = await admin.post(EXECUTIONS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert (await admin.post(EXECUTIONS, json=[1, 2])).status_code == 400


async def test_tenants_see_only_their_org(make_app: Callable[..., Any], clock: ManualClock) -> None:
    app = make_app()
    async with client_for(app) as deployer, client_for(app) as viewer, client_for(app) as admin:
        await login(deployer, "deployer", "acme")
        await login(viewer, "viewer", "globex")
        await login(admin)
        mine = await start(deployer, vm_parameters())
        assert mine["startedBy"] == "deployer@acme"
        await start(viewer, vm_parameters("other"))
        listed = (await deployer.get(EXECUTIONS)).json()
        assert [e["id"] for e in listed["executions"]] == [mine["id"]]
        assert (await viewer.get(f"{EXECUTIONS}/{mine['id']}")).status_code == 403
        assert (await admin.get(EXECUTIONS)).json()["total"] == 2
        viewer_token = param_value(mine["inputParameters"], "_vcd_isAdmin")
        assert viewer_token["value"] == "true"


async def test_list_shape_and_end_dates(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    first = await start(admin, vm_parameters())
    clock.advance(10)
    second = await start(admin, vm_parameters("web-02"))
    body = (await admin.get(EXECUTIONS)).json()
    assert (body["total"], body["start"]) == (2, 0)
    summaries = {e["id"]: e for e in body["executions"]}
    assert summaries[first["id"]]["state"] == "completed" and "endDate" in summaries[first["id"]]
    assert summaries[second["id"]]["state"] == "initializing" and "endDate" not in summaries[second["id"]]
    assert set(summaries[first["id"]]) == {"id", "name", "state", "startDate", "endDate", "startedBy"}


async def test_thousand_executions_in_flight(admin: httpx.AsyncClient, make_app: Callable[..., Any]) -> None:
    app = make_app()
    emulator = emulator_of(app)
    async with client_for(app) as client:
        await login(client)
        ids = [(await start(client, vm_parameters(f"vm-{i}")))["id"] for i in range(1000)]
        assert len(emulator.executions) == 1000
        listed = (await client.get(EXECUTIONS)).json()
        assert listed["total"] == 1000
        assert (await client.get(f"{EXECUTIONS}/{ids[500]}")).json()["id"] == ids[500]


async def test_presentation_lists_parameters_with_defaults(admin: httpx.AsyncClient) -> None:
    body = (await admin.get(f"/cloudapi/workflows/{VM}/presentation")).json()
    inputs = {p["name"]: p for p in body["inputParameters"]}
    assert inputs["owner"]["value"] == {"inputType": "string", "value": "platform-team"}
    assert "value" not in inputs["vmName"]
    assert [p["name"] for p in body["outputParameters"]] == ["vmId", "ipAddress", "initialToken"]


async def test_admin_view_lists_every_start_with_masked_secrets(make_app: Callable[..., Any]) -> None:
    async with client_for(make_app()) as client:
        await login(client)
        started = await start(client, vm_parameters())
        await client.delete(f"{EXECUTIONS}/{started['id']}/state")
        await client.delete(f"{EXECUTIONS}/{started['id']}")
        bare = httpx.Headers()
        starts = (await client.get("/_emulator/starts", headers=bare)).json()
        assert len(starts) == 1
        record = starts[0]
        assert record["workflowId"] == VM and record["executionId"] == started["id"]
        assert record["user"] == "admin@System"
        assert record["inputs"]["adminPassword"] == "********"
        assert record["inputs"]["tags"] == ["prod", "web"]
        assert (await client.get("/_emulator/executions")).json() == []
        assert (await client.get("/_emulator/health")).status_code == 200
