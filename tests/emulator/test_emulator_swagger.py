"""Every answer of a full scenario validates against the VCD 37.2 Swagger document, with a listed status."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest

from reconciler.emulator import ManualClock

from . import swagger_schema, vendoring
from .emulator_helpers import ACCEPT, DNS, NETWORK, VM, basic, login, openapi, vm_parameters

pytestmark = pytest.mark.anyio

# Answered by any operation, whatever the document lists: the version check and the bearer check.
ALWAYS_ALLOWED = {401, 406}


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    body: Any
    value_format: str


def recording_client(app: Any, log: list[Exchange], fmt: str) -> httpx.AsyncClient:
    async def record(response: httpx.Response) -> None:
        await response.aread()
        body = response.json() if response.content else None
        log.append(Exchange(response.request.method, response.request.url.path, response.status_code, body, fmt))

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator.test", event_hooks={"response": [record]}
    )


async def scenario(client: httpx.AsyncClient, clock: ManualClock) -> None:
    """Every operation, in success and in error."""
    await login(client)
    await client.get("/cloudapi/1.0.0/sessions/current")
    session_id = (await client.get("/cloudapi/1.0.0/sessions")).json()["values"][0]["id"]
    await client.get(f"/cloudapi/1.0.0/sessions/{session_id}")
    await client.get("/cloudapi/1.0.0/sessions", params={"page": 2, "pageSize": 1})
    await client.get(f"/cloudapi/1.0.0/sessions/{session_id}/accessibleLocations", params={"page": 1, "pageSize": 5})
    await client.get(f"/cloudapi/1.0.0/sessions/{session_id}/token")  # 400: no proxies, a documented Error
    base = f"/cloudapi/workflows/{VM}"
    done = (await client.post(f"{base}/executions", json={"parameters": vm_parameters()})).json()["id"]
    failing = (await client.post(f"{base}/executions", json={"parameters": vm_parameters("fail-1")})).json()["id"]
    stuck = (await client.post(f"{base}/executions", json={"parameters": vm_parameters("stuck-1")})).json()["id"]
    network = [openapi("name", "string", "net-a"), openapi("cidr", "string", "10.0.1.0/24")]
    await client.post(f"/cloudapi/workflows/{NETWORK}/executions", json={"parameters": network})
    vro = [{"name": "hostname", "type": "string", "value": {"string": {"value": "h"}}}]
    vro.append({"name": "ip", "type": "string", "value": {"string": {"value": "10.0.0.1"}}})
    vro_id = (await client.post(f"/cloudapi/workflows/{DNS}/executions", json={"parameters": vro})).json()["id"]
    await client.post(f"{base}/executions", json={"parameters": [openapi("x", "string", "y")]})  # 400
    for execution in (done, stuck):
        await client.get(f"{base}/executions/{execution}")
        await client.get(f"{base}/executions/{execution}/state")
    await client.get(f"{base}/executions")
    await client.get(f"{base}/presentation")
    await client.delete(f"{base}/executions/{stuck}")  # 400: in progress
    clock.advance(10)
    for execution in (done, failing, stuck):
        await client.get(f"{base}/executions/{execution}")
    await client.get(f"/cloudapi/workflows/{DNS}/executions/{vro_id}")
    await client.get(f"{base}/executions")
    await client.delete(f"{base}/executions/{stuck}/state")
    await client.delete(f"{base}/executions/{stuck}/state")  # 400: already canceled
    await client.delete(f"{base}/executions/{done}")
    for path in (f"{base}/executions/{done}", f"{base}/executions/{done}/state", "/cloudapi/workflows/x/executions"):
        await client.get(path)  # 403
    await client.get("/cloudapi/workflows/x/presentation")
    await client.get(f"{base}/executions", headers={"Accept": "application/json;version=1.0"})  # 406
    await client.get(f"{base}/executions", headers={"Authorization": "Bearer nope"})  # 401
    await client.post(
        "/cloudapi/1.0.0/sessions", headers={"Authorization": basic("deployer", "acme", "x"), "Accept": ACCEPT}
    )
    await client.delete(f"/cloudapi/1.0.0/sessions/{session_id}")
    await login(client)
    await client.delete("/cloudapi/1.0.0/sessions/current")


def check(exchange: Exchange) -> None:
    operation = swagger_schema.operation(exchange.method, exchange.path)
    assert operation is not None, f"{exchange.method} {exchange.path} is not in the document"
    responses = operation["responses"]
    where = f"{exchange.method} {exchange.path} -> {exchange.status}"
    assert str(exchange.status) in responses or exchange.status in ALWAYS_ALLOWED, where
    if exchange.status >= 400:
        swagger_schema.validate(exchange.body, "Error")
        return
    schema = responses[str(exchange.status)].get("schema")
    if schema is None:
        assert exchange.body is None, where
        return
    definition = schema["$ref"].removeprefix("#/definitions/")
    try:
        swagger_schema.validate(exchange.body, definition, exchange.value_format)
    except jsonschema.ValidationError as exc:
        raise AssertionError(f"{where}: {exc.message} at {list(exc.absolute_path)}") from exc


@pytest.mark.parametrize(("missing_status", "output_format"), [(403, "openapi"), (404, "openapi"), (403, "vro")])
async def test_every_answer_follows_the_document(
    make_app: Callable[..., Any], clock: ManualClock, missing_status: int, output_format: str
) -> None:
    """In the ``vro`` format, values are checked against the vRO wire keys instead of ``Parameter``
    (the definitions do not model that format: see docs/emulator-catalog.md)."""
    log: list[Exchange] = []
    app = make_app(missing_status=missing_status, output_format=output_format)
    async with recording_client(app, log, output_format) as client:
        await scenario(client, clock)
    statuses = {e.status for e in log}
    assert {200, 201, 204, 400, 401, missing_status, 406} <= statuses
    if output_format == "vro":
        assert any(b'"string":{"value"' in json.dumps(e.body, separators=(",", ":")).encode() for e in log)
    for exchange in log:
        check(exchange)


async def test_properties_and_sdk_objects_follow_the_document() -> None:
    from reconciler.emulator.wire import encode

    value = encode("Properties", {"a": "x", "n": 2, "flags": [True], "inner": {"k": "v"}}, "openapi")
    swagger_schema.validate(value, "Parameter")
    swagger_schema.validate(encode("VC:VirtualMachine", {"id": "vm-1"}, "openapi"), "Parameter")
    swagger_schema.validate(encode("Date", "2026-01-31T10:00:00.000Z", "openapi"), "Parameter")
    with pytest.raises(jsonschema.ValidationError):
        swagger_schema.validate({"inputType": "number", "value": "two"}, "Parameter")


@pytest.mark.parametrize(
    "body",
    [
        {"state": "bogus"},
        {"startDate": "yesterday"},
        {"inputParameters": [{"name": "a", "value": {"value": "no inputType"}}]},
        {"outputParameters": [{"name": "a", "scope": "global"}]},
    ],
)
def test_the_schema_catches_bad_executions(body: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        swagger_schema.validate(body, "WsWorkflowExecution")


def test_the_vendored_document_is_vmwares_with_only_the_listed_fixes() -> None:
    vendored = vendoring.VENDORED.read_text(encoding="utf-8")
    assert vendoring.sha256(vendoring.unvendor(vendored)) == vendoring.ORIGINAL_SHA256
    assert vendoring.vendor(vendoring.unvendor(vendored)) == vendored


def test_the_vendored_document_loads_in_swagger_tools() -> None:
    """The four defects that stop tools from loading VMware's text are gone."""
    document = swagger_schema.load_document()
    for template, operations in document["paths"].items():
        assert ":" not in template, template
        declared_in_template = set(re.findall(r"\{(\w+)\}", template))
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            in_path = {p["name"] for p in parameters if p["in"] == "path"}
            assert in_path == declared_in_template, f"{method} {template}"
            for parameter in parameters:
                assert parameter["in"] != "path" or parameter["required"] is True, f"{method} {template}"
                assert parameter["in"] == "body" or "type" in parameter, f"{method} {template} {parameter['name']}"
