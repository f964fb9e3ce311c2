"""HTTP fidelity (issue 12, defects 2-10): what the emulator does with requests it cannot take, and the
HTTP details a client generated from VMware's definitions relies on."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator import ManualClock, emulator_of, running_server
from reconciler.emulator.answers import json_response
from reconciler.remote import ApiSettings, WorkflowClient
from tests.support.fakes import FakeSleep

from . import swagger_schema
from .emulator_helpers import ACCEPT, VM, basic, client_for, login, vm_parameters

pytestmark = pytest.mark.anyio

SESSIONS = "/cloudapi/1.0.0/sessions"
EXECUTIONS = f"/cloudapi/workflows/{VM}/executions"
REQUEST_ID = "X-VMWARE-VCLOUD-REQUEST-ID"


def _start_body(cpu_count_json: str) -> bytes:
    """A start whose ``cpuCount`` value is the given raw JSON text."""
    parameters = vm_parameters()
    text = json.dumps({"parameters": parameters})
    marker = json.dumps({"inputType": "number", "value": 2})
    assert marker in text
    return text.replace(marker, '{"inputType":"number","value":' + cpu_count_json + "}", 1).encode()


def _assert_cloudapi_error(response: Any, status: int, body: bytes) -> None:
    assert response.status == status, body[:300]
    assert response.getheader(REQUEST_ID)
    error = json.loads(body)
    swagger_schema.validate(error, "Error")
    assert error["message"]


class OneConnection:
    """Requests over one kept-alive HTTP/1.1 connection; fails if the server closed it in between."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        self.connection.connect()
        self.socket = self.connection.sock
        self.headers: dict[str, str] = {"Accept": ACCEPT}

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[Any, bytes]:
        assert self.connection.sock is self.socket, "the server closed the previous connection"
        self.connection.request(method, path, body=body, headers={**self.headers, **headers})
        response = self.connection.getresponse()
        content = response.read()
        assert (response.getheader("connection") or "").lower() != "close", (response.status, content[:200])
        return response, content

    def login(self) -> None:
        response, _ = self.request("POST", f"{SESSIONS}/provider", Authorization=basic("admin", "System", "admin"))
        assert response.status == 200
        self.headers["Authorization"] = f"Bearer {response.getheader('X-VMWARE-VCLOUD-ACCESS-TOKEN')}"


@contextmanager
def one_connection(app: Any) -> Iterator[OneConnection]:
    with running_server(app) as url:
        connection = OneConnection(url)
        try:
            connection.login()
            yield connection
        finally:
            connection.connection.close()


# Defect 2: pathological JSON is a 400 with a CloudAPI body, and the connection stays usable.
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"parameters":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        _start_body("1" * 5_000),
        b'{"parameters": [}',
        b"\xff\xfe not utf-8",
    ],
    ids=["deep-array", "deep-in-parameters", "5000-digit-int", "broken", "not-utf8"],
)
def test_pathological_json_is_a_400_and_the_connection_stays_usable(make_app: Callable[..., Any], body: bytes) -> None:
    with one_connection(make_app()) as connection:
        response, content = connection.request("POST", EXECUTIONS, body, **{"Content-Type": "application/json"})
        _assert_cloudapi_error(response, 400, content)
        response, content = connection.request("GET", EXECUTIONS)
        assert response.status == 200, content


# Defect 3: NaN, Infinity and numbers beyond a double are refused; nothing non-standard is emitted.
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
async def test_non_finite_numbers_are_refused(admin: httpx.AsyncClient, number: str) -> None:
    response = await admin.post(EXECUTIONS, content=_start_body(number), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["minorErrorCode"] == "BAD_REQUEST"
    assert "number" in response.json()["message"].lower()


async def test_a_finite_number_in_the_same_place_is_accepted(admin: httpx.AsyncClient) -> None:
    response = await admin.post(EXECUTIONS, content=_start_body("1e2"), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("number", [float("nan"), float("inf")])
async def test_our_client_never_sends_non_finite_numbers(make_app: Callable[..., Any], number: float) -> None:
    """The other side of defect 3: reconciler.remote encodes with httpx (``allow_nan=False``)."""
    app = make_app()
    transport = Recording(app)
    settings = ApiSettings(
        url="https://vcd.test", api_version="37.2", org="acme", username="deployer", password="deployer"
    )
    inputs = {"vmName": ("string", "a"), "cpuCount": ("number", number), "memoryGb": ("number", 1)}
    inputs |= {"network": ("string", "n"), "adminPassword": ("SecureString", "p")}
    async with WorkflowClient(settings, transport=transport, sleep=FakeSleep()) as client:
        with pytest.raises(ValueError, match="JSON compliant"):
            await client.start_execution(VM, inputs)
    assert transport.sent and not any(line.startswith("POST /cloudapi/workflows") for line in transport.sent)
    assert emulator_of(app).starts == []


class Recording(httpx.AsyncBaseTransport):
    """The in-process transport, noting every request that reaches it."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


def test_non_standard_json_is_never_emitted() -> None:
    with pytest.raises(ValueError):
        json_response({"value": float("nan")})


# Defect 4: 415 for anything but JSON on an operation that consumes JSON.
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_non_json_bodies_are_415(admin: httpx.AsyncClient, content_type: str | None) -> None:
    body = json.dumps({"parameters": vm_parameters()}).encode()
    request = admin.build_request("POST", EXECUTIONS, content=body)
    if content_type is None:
        assert "Content-Type" not in request.headers
    else:
        request.headers["Content-Type"] = content_type
    response = await admin.send(request)
    assert response.status_code == 415, response.text
    assert response.json()["minorErrorCode"] == "UNSUPPORTED_MEDIA_TYPE"
    assert response.headers[REQUEST_ID]
    assert emulator_of_client(admin).starts == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.vmware+json"])
async def test_json_media_types_are_taken(admin: httpx.AsyncClient, content_type: str) -> None:
    body = json.dumps({"parameters": vm_parameters()}).encode()
    response = await admin.post(EXECUTIONS, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


def emulator_of_client(client: httpx.AsyncClient) -> Any:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    return emulator_of(transport.app)  # type: ignore[arg-type]


# Defect 5: 405 answers say what is allowed.
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", EXECUTIONS, {"GET", "HEAD", "POST"}),
        ("POST", f"{EXECUTIONS}/some-id", {"GET", "HEAD", "DELETE"}),
        ("PUT", f"{EXECUTIONS}/some-id/state", {"GET", "HEAD", "DELETE"}),
        ("DELETE", f"/cloudapi/workflows/{VM}/presentation", {"GET", "HEAD"}),
        ("PATCH", SESSIONS, {"GET", "HEAD", "POST"}),
        ("GET", f"{SESSIONS}/provider", {"POST"}),
        ("PUT", f"{SESSIONS}/current", {"GET", "HEAD", "DELETE"}),
        ("GET", "/oauth/provider/token", {"POST"}),
        ("POST", "/_emulator/health", {"GET", "HEAD"}),
    ],
)
async def test_405_carries_allow(admin: httpx.AsyncClient, method: str, path: str, allowed: set[str]) -> None:
    response = await admin.request(method, path)
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    assert response.json()["minorErrorCode"] == "METHOD_NOT_ALLOWED"


# Defect 6: session reads carry the version in their media type, like every other answer.
async def test_session_reads_carry_the_version(admin: httpx.AsyncClient) -> None:
    current = await admin.get(f"{SESSIONS}/current")
    listed = await admin.get(SESSIONS)
    one = await admin.get(f"{SESSIONS}/{current.json()['id']}")
    for response in (current, listed, one):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json;version=37.2"


async def test_error_answers_carry_the_requested_version(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/cloudapi/workflows/nope/executions")
    assert response.status_code in (403, 404)
    assert response.headers["content-type"] == "application/json;version=37.2"


# Defect 7: sessions expire after the idle timeout; paging follows the definitions.
async def test_sessions_expire_when_idle(make_app: Callable[..., Any], clock: ManualClock) -> None:
    async with client_for(make_app(session_idle_timeout=90)) as client:
        await login(client)
        current = await client.get(f"{SESSIONS}/current")
        assert current.json()["sessionIdleTimeoutMinutes"] == 2  # 90 s, rounded up to whole minutes
        for _ in range(3):
            clock.advance(80)  # each use restarts the idle time
            assert (await client.get(EXECUTIONS)).status_code == 200
        clock.advance(91)
        expired = await client.get(EXECUTIONS)
        assert expired.status_code == 401
        assert expired.json()["minorErrorCode"] == "UNAUTHORIZED"


async def test_default_idle_timeout_is_the_advertised_30_minutes(admin: httpx.AsyncClient, clock: ManualClock) -> None:
    assert (await admin.get(f"{SESSIONS}/current")).json()["sessionIdleTimeoutMinutes"] == 30
    clock.advance(29 * 60)
    assert (await admin.get(EXECUTIONS)).status_code == 200
    clock.advance(30 * 60 + 1)
    assert (await admin.get(EXECUTIONS)).status_code == 401


async def _three_sessions(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await login(client)


async def test_session_list_pages(admin: httpx.AsyncClient) -> None:
    await _three_sessions(admin)  # four in all
    first = (await admin.get(SESSIONS, params={"page": 1, "pageSize": 3})).json()
    second = (await admin.get(SESSIONS, params={"page": 2, "pageSize": 3})).json()
    beyond = (await admin.get(SESSIONS, params={"page": 3, "pageSize": 3})).json()
    assert (first["resultTotal"], first["pageCount"], first["page"], first["pageSize"]) == (4, 2, 1, 3)
    assert len(first["values"]) == 3 and len(second["values"]) == 1 and beyond["values"] == []
    assert {v["id"] for v in first["values"] + second["values"]} == {
        v["id"] for v in (await admin.get(SESSIONS)).json()["values"]
    }
    default = (await admin.get(SESSIONS)).json()
    assert (default["page"], default["pageSize"], len(default["values"])) == (1, 25, 4)
    empty = (await admin.get(SESSIONS, params={"pageSize": 0})).json()
    assert (empty["resultTotal"], empty["values"]) == (4, [])
    for body in (first, second, beyond, default, empty):
        swagger_schema.validate(body, "Sessions")


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page": -1}, {"pageSize": 129}, {"pageSize": -1}, {"page": "x"}, {"pageSize": "1.5"}],
)
async def test_out_of_range_paging_is_a_400(admin: httpx.AsyncClient, params: dict[str, Any]) -> None:
    for path in (SESSIONS, f"{SESSIONS}/{(await admin.get(f'{SESSIONS}/current')).json()['id']}/accessibleLocations"):
        response = await admin.get(path, params=params)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["minorErrorCode"] == "BAD_REQUEST"
        assert next(iter(params)) in response.json()["message"]


# Defect 8: accessibleLocations is served; token is answered as by a VCD without proxies.
async def test_accessible_locations(admin: httpx.AsyncClient) -> None:
    session_id = (await admin.get(f"{SESSIONS}/current")).json()["id"]
    response = await admin.get(f"{SESSIONS}/{session_id}/accessibleLocations")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json;version=37.2"
    body = response.json()
    swagger_schema.validate(body, "AccessibleLocations")
    assert body["resultTotal"] == 1
    (location,) = body["values"]
    assert location["org"]["name"] == "System"
    assert location["apiVersion"] == "37.2"
    assert location["restApiEndpoint"] == "http://emulator.test"


async def test_session_token_is_a_400_without_proxies(admin: httpx.AsyncClient) -> None:
    session_id = (await admin.get(f"{SESSIONS}/current")).json()["id"]
    response = await admin.get(f"{SESSIONS}/{session_id}/token")
    assert response.status_code == 400, response.text
    swagger_schema.validate(response.json(), "Error")
    assert "proxy" in response.json()["message"].lower()


@pytest.mark.parametrize("missing_status", [403, 404])
@pytest.mark.parametrize("suffix", ["accessibleLocations", "token"])
async def test_an_unknown_session_is_hidden(make_app: Callable[..., Any], suffix: str, missing_status: int) -> None:
    async with client_for(make_app(missing_status=missing_status)) as client:
        await login(client)
        response = await client.get(f"{SESSIONS}/urn:vcloud:session:nope/{suffix}")
        assert response.status_code == missing_status, response.text


# Defect 9: a trailing slash is answered like the path without it (JAX-RS matching), never redirected.
async def test_a_trailing_slash_gets_the_same_answer(admin: httpx.AsyncClient) -> None:
    started = await admin.post(f"{EXECUTIONS}/", json={"parameters": vm_parameters()})
    assert started.status_code == 201, started.text
    execution_id = started.json()["id"]
    assert started.headers["Location"].endswith(f"/executions/{execution_id}")
    for path in (f"{EXECUTIONS}/", f"{EXECUTIONS}/{execution_id}/", f"{EXECUTIONS}/{execution_id}/state/"):
        with_slash, without = await admin.get(path), await admin.get(path.rstrip("/"))
        assert with_slash.status_code == 200, (path, with_slash.status_code)
        assert with_slash.json() == without.json()
    assert (await admin.get(f"{SESSIONS}/current/")).status_code == 200
    assert (await admin.get("/cloudapi/no/such/thing/")).status_code == 404


# Defect 10: bodies over the limit are a 413; the limit is a knob.
def test_a_10_mb_start_is_a_413_and_the_connection_stays_usable(make_app: Callable[..., Any]) -> None:
    body = json.dumps({"parameters": vm_parameters("x" * 10_000_000)}).encode()
    with one_connection(make_app()) as connection:
        response, content = connection.request("POST", EXECUTIONS, body, **{"Content-Type": "application/json"})
        _assert_cloudapi_error(response, 413, content)
        assert "1048576" in json.loads(content)["message"]
        response, content = connection.request("GET", EXECUTIONS)
        assert response.status == 200, content


async def test_the_body_limit_is_a_knob(make_app: Callable[..., Any]) -> None:
    body = json.dumps({"parameters": vm_parameters("x" * 2_000)}).encode()
    async with client_for(make_app(max_body_bytes=1_000)) as small, client_for(make_app()) as default:
        await login(small)
        await login(default)
        headers = {"Content-Type": "application/json"}
        assert (await small.post(EXECUTIONS, content=body, headers=headers)).status_code == 413
        assert (await default.post(EXECUTIONS, content=body, headers=headers)).status_code == 201


async def test_a_chunked_body_over_the_limit_is_a_413(make_app: Callable[..., Any]) -> None:
    async def chunks() -> Any:
        for _ in range(5):
            yield b" " * 400

    async with client_for(make_app(max_body_bytes=1_000)) as client:
        await login(client)
        response = await client.post(EXECUTIONS, content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text


async def test_an_unexpected_server_error_is_a_cloudapi_500(make_app: Callable[..., Any]) -> None:
    app = make_app()

    async def broken(request: Any) -> Any:
        raise RuntimeError("boom")

    app.add_route("/cloudapi/broken", broken, methods=["GET"])
    async with client_for(app) as client:
        await login(client)
        response = await client.get("/cloudapi/broken")
        assert response.status_code == 500
        assert response.json()["minorErrorCode"] == "INTERNAL_SERVER_ERROR"
        assert "boom" not in response.text  # no internals leak
        assert response.headers[REQUEST_ID]
