"""WorkflowClient against a scripted server: error mapping, re-login, retries, lost starts, logging."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import httpx
import pytest

from reconciler.errors import (
    AuthError,
    NotFoundError,
    OutcomeUnknownError,
    PermanentRemoteError,
    TemporaryRemoteError,
    VersionNotSupportedError,
)
from reconciler.remote import ApiSettings, LookupPolicy, RetryPolicy, WorkflowClient
from tests.support.fakes import FakeSleep

from .scripted_vcd import EXECUTIONS, WF, ScriptedVcd, error, execution_body, sent_json

pytestmark = pytest.mark.anyio
SETTINGS = ApiSettings(url="https://vcd.test", api_version="37.1", org="acme", username="deployer", password="pw")
ONE = f"{EXECUTIONS}/e-1"
SINCE = datetime(2026, 1, 31, 9, 59, tzinfo=UTC)


def client(vcd: ScriptedVcd, sleep: FakeSleep, settings: ApiSettings = SETTINGS) -> WorkflowClient:
    return WorkflowClient(settings, transport=vcd.transport(), sleep=sleep)


async def test_every_call_sends_the_versioned_accept_header_and_a_bearer(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE + "/state", httpx.Response(200, json="running"))
    async with client(vcd, fake_sleep) as c:
        assert await c.get_state(WF, "e-1") == "running"
        assert c.identity == "deployer@acme"
    login, call = vcd.requests
    assert login.url.path == "/cloudapi/1.0.0/sessions"
    assert login.headers["Authorization"] == "Basic ZGVwbG95ZXJAYWNtZTpwdw=="  # deployer@acme:pw
    assert call.headers["Accept"] == "application/json;version=37.1"
    assert call.headers["Authorization"] == "Bearer token-1"


async def test_concurrent_first_calls_share_one_login(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", ONE + "/state", httpx.Response(200, json={"value": "completed"}))
    async with client(vcd, fake_sleep) as c:
        states = await asyncio.gather(*(c.get_state(WF, "e-1") for _ in range(10)))
    assert states == ["completed"] * 10
    assert vcd.logins == 1


async def test_a_401_logs_in_again_once_and_repeats_the_call(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", ONE, httpx.Response(200, json=execution_body()))
    async with client(vcd, fake_sleep) as c:
        await c.get_execution(WF, "e-1")
        vcd.expire_tokens()
        execution = await c.get_execution(WF, "e-1")
    assert execution.id == "e-1"
    assert vcd.logins == 2


async def test_a_second_401_is_an_auth_error(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, error(401, "nope", "UNAUTHORIZED"), error(401, "still nope", "UNAUTHORIZED"))
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(AuthError, match=r"read execution e-1 of workflow .*: 401 Unauthorized: still nope"):
            await c.get_execution(WF, "e-1")
    assert vcd.logins == 2


async def test_bad_credentials_are_an_auth_error_naming_the_login() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return error(401, "Invalid credentials", "UNAUTHORIZED")

    async with WorkflowClient(SETTINGS, transport=httpx.MockTransport(refuse)) as c:
        with pytest.raises(AuthError, match="log in as deployer@acme: 401 Unauthorized: Invalid credentials"):
            await c.login()


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [
        (400, PermanentRemoteError, "400 Bad Request: Invalid input parameter 'cpuCount'"),
        (403, NotFoundError, "403 Forbidden: Invalid input parameter 'cpuCount'"),
        (404, NotFoundError, "404 Not Found: Invalid input parameter 'cpuCount'"),
        (409, PermanentRemoteError, "409 Conflict"),
    ],
)
async def test_error_statuses_map_to_the_error_tree(
    fake_sleep: FakeSleep, status: int, kind: type[Exception], text: str
) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, error(status, "Invalid input parameter 'cpuCount'"))
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(kind) as info:
            await c.start_execution(WF, {"cpuCount": ("number", 2)})
    assert str(info.value).startswith(f"start execution of workflow {WF}: {text}")
    assert info.value.status == status  # type: ignore[attr-defined,unused-ignore]
    assert info.value.server_message == "Invalid input parameter 'cpuCount'"  # type: ignore[attr-defined]
    assert vcd.calls("POST", EXECUTIONS) == 1


async def test_406_names_the_version_and_the_supported_ones(fake_sleep: FakeSleep) -> None:
    message = (
        "The request has invalid accept header: Invalid API version requested. "
        "Supported API versions are: [38.0, 37.2, 37.1, 36.3 [D]] ([D] indicates deprecated versions)"
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        return error(406, message, "NOT_ACCEPTABLE")

    settings = ApiSettings(url="https://vcd.test", api_version="99.0", org="acme", username="u", password="p")
    async with WorkflowClient(settings, transport=httpx.MockTransport(refuse), sleep=fake_sleep) as c:
        with pytest.raises(VersionNotSupportedError) as info:
            await c.list_executions(WF)
    assert "this server does not support API version 99.0 (it supports 38.0, 37.2, 37.1, 36.3)" in str(info.value)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_reads_retry_temporary_statuses_with_backoff(fake_sleep: FakeSleep, status: int) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", EXECUTIONS, error(status, "busy"), error(status, "busy"))
    vcd.default("GET", EXECUTIONS, httpx.Response(200, json={"total": 0, "start": 0, "executions": []}))
    async with client(vcd, fake_sleep) as c:
        assert await c.list_executions(WF) == []
    assert vcd.calls("GET", EXECUTIONS) == 3
    assert len(fake_sleep.delays) == 2
    assert fake_sleep.delays[1] > fake_sleep.delays[0] * 1.1  # exponential, jitter is +-25%


async def test_retry_after_is_honoured(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, error(429, "slow down", "TOO_MANY_REQUESTS", **{"Retry-After": "7"}))
    vcd.default("GET", ONE, httpx.Response(200, json=execution_body()))
    async with client(vcd, fake_sleep) as c:
        await c.get_execution(WF, "e-1")
    assert fake_sleep.delays == [7.0]


async def test_reads_give_up_after_bounded_attempts(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", ONE, error(503, "down for maintenance"))
    retry = RetryPolicy(attempts=4)
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep, retry=retry) as c:
        with pytest.raises(TemporaryRemoteError, match="503 Service Unavailable: down for maintenance"):
            await c.get_execution(WF, "e-1")
    assert vcd.calls("GET", ONE) == 4
    assert len(fake_sleep.delays) == 3


async def test_reads_give_up_when_retry_after_exceeds_the_total_budget(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", ONE, error(429, "later", **{"Retry-After": "3600"}))
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(TemporaryRemoteError) as info:
            await c.get_execution(WF, "e-1")
    assert info.value.retry_after == 3600.0
    assert fake_sleep.delays == []


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")],
)
async def test_reads_retry_transport_errors(fake_sleep: FakeSleep, exc: Exception) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, exc)
    vcd.default("GET", ONE, httpx.Response(200, json=execution_body()))
    async with client(vcd, fake_sleep) as c:
        assert (await c.get_execution(WF, "e-1")).id == "e-1"
    assert vcd.calls("GET", ONE) == 2


@pytest.mark.parametrize(
    "answer", [error(429, "busy"), error(503, "busy"), httpx.ConnectError("refused"), httpx.ConnectTimeout("t")]
)
async def test_a_start_is_retried_only_when_it_provably_was_not_processed(
    fake_sleep: FakeSleep, answer: httpx.Response | Exception
) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, answer, httpx.Response(201, json=execution_body()))
    async with client(vcd, fake_sleep) as c:
        execution = await c.start_execution(WF, {"vmName": ("string", "web-01")})
    assert execution.id == "e-1"
    assert vcd.calls("POST", EXECUTIONS) == 2


@pytest.mark.parametrize(
    "answer",
    [
        error(500, "boom"),
        error(502, "bad gateway"),
        error(504, "gateway timeout"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("reset"),
    ],
)
async def test_a_start_whose_answer_is_lost_is_never_repeated(
    fake_sleep: FakeSleep, answer: httpx.Response | Exception
) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, answer)
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(OutcomeUnknownError, match=f"start execution of workflow {WF}"):
            await c.start_execution(WF, {"vmName": ("string", "web-01")})
    assert vcd.calls("POST", EXECUTIONS) == 1


async def test_start_sends_ws_parameters_in_the_configured_format(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, httpx.Response(201, json=execution_body()))
    settings = ApiSettings(
        url="https://vcd.test", api_version="37.1", org="acme", username="u", password="p", value_format="vro"
    )
    async with client(vcd, fake_sleep, settings) as c:
        await c.start_execution(WF, {"tags": ("Array/string", ["a"])})
    body = sent_json(vcd.requests[-1])
    assert body == {
        "parameters": [
            {
                "name": "tags",
                "type": "Array/string",
                "scope": "local",
                "value": {"array": {"elements": [{"string": {"value": "a"}}]}},
                "encryptValue": False,
            }
        ]
    }


async def test_execution_documents_are_decoded(fake_sleep: FakeSleep) -> None:
    body = execution_body(
        state="completed",
        endDate=1769853661537,
        inputParameters=[
            {"name": "vmName", "type": "string", "scope": "local", "value": {"string": {"value": "web-01"}}},
            {"name": "_vcd_orgName", "type": "string", "scope": "token", "value": {"string": {"value": "acme"}}},
        ],
        outputParameters=[{"name": "vmId", "type": "string", "value": {"inputType": "string", "value": "vm-1"}}],
    )
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, httpx.Response(200, json=body))
    async with client(vcd, fake_sleep) as c:
        e = await c.get_execution(WF, "e-1")
    assert e.inputs == {"vmName": ("string", "web-01")}
    assert e.token_inputs == {"_vcd_orgName": ("string", "acme")}
    assert e.outputs == {"vmId": ("string", "vm-1")}
    assert e.start_date == datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    assert e.end_date == datetime(2026, 1, 31, 10, 1, 1, 537000, tzinfo=UTC)
    assert e.is_terminal


async def test_an_unreadable_answer_is_a_permanent_error_naming_the_operation(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, httpx.Response(200, text="<html>proxy login</html>"))
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(PermanentRemoteError, match=r"read execution e-1 .*: 200 OK: unreadable answer"):
            await c.get_execution(WF, "e-1")


async def test_api_token_login_reads_the_identity_from_the_current_session(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    session = {"user": {"name": "robot"}, "org": {"name": "acme"}}
    vcd.default("GET", "/cloudapi/1.0.0/sessions/current", httpx.Response(200, json=session))
    settings = ApiSettings(url="https://vcd.test", api_version="37.1", org="acme", api_token="refresh-me")
    async with client(vcd, fake_sleep, settings) as c:
        assert await c.login() == "robot@acme"
    login = vcd.requests[0]
    assert login.url.path == "/oauth/tenant/acme/token"
    assert login.content == b"grant_type=refresh_token&refresh_token=refresh-me"
    assert login.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("org", "token", "path"),
    [
        ("acme", None, "/cloudapi/1.0.0/sessions"),
        ("System", None, "/cloudapi/1.0.0/sessions/provider"),
        ("acme", "t", "/oauth/tenant/acme/token"),
        ("System", "t", "/oauth/provider/token"),
    ],
)
async def test_login_paths(fake_sleep: FakeSleep, org: str, token: str | None, path: str) -> None:
    vcd = ScriptedVcd()
    vcd.default("GET", "/cloudapi/1.0.0/sessions/current", httpx.Response(200, json={}))
    user, password = (None, None) if token else ("admin", "pw")
    settings = ApiSettings(
        url="https://vcd.test", api_version="37.1", org=org, username=user, password=password, api_token=token
    )
    async with client(vcd, fake_sleep, settings) as c:
        await c.login()
    assert vcd.requests[0].url.path == path


async def test_logs_show_method_path_status_but_no_secret(
    fake_sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    vcd = ScriptedVcd()
    vcd.queue("GET", ONE, error(401, "expired", "UNAUTHORIZED"), httpx.Response(200, json=execution_body()))
    caplog.set_level(logging.DEBUG, logger="reconciler.remote")
    async with client(vcd, fake_sleep) as c:
        await c.get_execution(WF, "e-1")
    text = caplog.text
    assert f"GET {ONE} -> 200" in text
    assert "token-" not in text and "Basic" not in text and "Bearer" not in text


async def test_lost_start_with_a_failing_list_is_never_restarted(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, httpx.ReadTimeout("slow"))
    vcd.default("GET", EXECUTIONS, error(500, "list broken"))
    lookup = LookupPolicy(list_attempts=2)
    async with WorkflowClient(SETTINGS, transport=vcd.transport(), sleep=fake_sleep, lookup=lookup) as c:
        with pytest.raises(OutcomeUnknownError, match="the lookup failed too"):
            await c.start_exactly_once(WF, {"vmName": ("string", "web-01")}, SINCE)
    assert vcd.calls("POST", EXECUTIONS) == 1


async def test_lost_start_found_on_recheck_is_adopted(fake_sleep: FakeSleep) -> None:
    row = {"id": "e-9", "state": "running", "startDate": "2026-01-31T10:00:00Z", "startedBy": "DEPLOYER@acme"}
    listing_empty = httpx.Response(200, json={"total": 0, "start": 0, "executions": []})
    listing_one = httpx.Response(200, json={"total": 1, "start": 0, "executions": [row]})
    detail = execution_body(
        "e-9",
        inputParameters=[{"name": "vmName", "type": "string", "value": {"inputType": "string", "value": "web-01"}}],
    )
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, httpx.RemoteProtocolError("dropped"))
    vcd.queue("GET", EXECUTIONS, listing_empty, listing_one)
    vcd.default("GET", f"{EXECUTIONS}/e-9", httpx.Response(200, json=detail))
    async with client(vcd, fake_sleep) as c:
        execution = await c.start_exactly_once(WF, {"vmName": ("string", "web-01")}, SINCE)
    assert execution.id == "e-9"
    assert vcd.calls("POST", EXECUTIONS) == 1
    assert fake_sleep.delays == [LookupPolicy().settle_delay]


async def test_lost_start_proven_absent_is_started_again_once(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.queue("POST", EXECUTIONS, error(502, "bad gateway"), httpx.Response(201, json=execution_body("e-2")))
    vcd.default("GET", EXECUTIONS, httpx.Response(200, json={"total": 0, "start": 0, "executions": []}))
    async with client(vcd, fake_sleep) as c:
        execution = await c.start_exactly_once(WF, {"vmName": ("string", "web-01")}, SINCE)
    assert execution.id == "e-2"
    assert vcd.calls("POST", EXECUTIONS) == 2
    assert vcd.calls("GET", EXECUTIONS) == 1 + LookupPolicy().settle_checks


async def test_restarts_are_bounded(fake_sleep: FakeSleep) -> None:
    vcd = ScriptedVcd()
    vcd.default("POST", EXECUTIONS, error(504, "gateway timeout"))
    vcd.default("GET", EXECUTIONS, httpx.Response(200, json={"total": 0, "start": 0, "executions": []}))
    async with client(vcd, fake_sleep) as c:
        with pytest.raises(OutcomeUnknownError, match="not starting it again"):
            await c.start_exactly_once(WF, {"vmName": ("string", "web-01")}, SINCE)
    assert vcd.calls("POST", EXECUTIONS) == 1 + LookupPolicy().max_restarts
