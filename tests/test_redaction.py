"""Redaction of known secrets from server text: the pure `Redactor`, and the client applying it to every
error answer and execution it reads (the emulator echoes a secret input in a failure message)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import yaml

from reconciler.emulator import create_app, parse_catalog
from reconciler.errors import PermanentRemoteError, RemoteError
from reconciler.redaction import Redactor
from reconciler.remote import ApiSettings, WorkflowClient

SECRET = "hunter2-XYZ"
ECHOES = "00000000-0000-4000-8000-0000000c0001"  # name, password -> fails echoing the password ("bad...")
CATALOG = parse_catalog(
    yaml.safe_dump(
        {
            "apiVersions": ["37.1"],
            "workflows": [
                {
                    "id": ECHOES,
                    "name": "Echoes",
                    "inputs": [{"name": "name", "type": "string"}, {"name": "password", "type": "SecureString"}],
                    "outputs": [{"name": "id", "type": "string", "template": "x-${inputs.name}"}],
                    "duration": 0,
                    "initializing": 0,
                    "failWhen": [
                        {"input": "name", "matches": "^bad", "message": "password ${inputs.password} refused"}
                    ],
                }
            ],
            "users": [{"name": "admin", "org": "System", "password": "admin"}],
        }
    )
)
SETTINGS = ApiSettings(url="http://emulator", api_version="37.1", org="System", username="admin", password="admin")


def test_every_known_secret_becomes_sensitive() -> None:
    redact = Redactor.of(["pw-1", ["pw-2", {"k": "pw-3"}], 42, None, ""])
    assert redact("a pw-1 b pw-2 c pw-3 d 42") == "a (sensitive) b (sensitive) c (sensitive) d 42"
    assert redact.optional(None) is None
    assert Redactor()("pw-1") == "pw-1"


def test_a_secret_inside_another_leaves_nothing_behind() -> None:
    redact = Redactor.of(["abc", "xxabcxx"])
    assert redact("[xxabcxx] [abc]") == "[(sensitive)] [(sensitive)]"


def test_regular_expression_characters_are_taken_literally() -> None:
    assert Redactor.of(["a.b*(c"])("a.b*(c axbbb(c") == "(sensitive) axbbb(c"


def test_a_short_secret_is_redacted_as_a_word_not_inside_words() -> None:
    redact = Redactor.of(["p", "abc"])
    assert redact("Supported: password 'p' and abc, not abcd or xabc") == (
        "Supported: password '(sensitive)' and (sensitive), not abcd or xabc"
    )


def test_with_values_adds_to_what_is_known() -> None:
    redact = Redactor.of(["one"]).with_values(["two", None])
    assert redact("one two") == "(sensitive) (sensitive)"


def _answer(status: int, body: Any) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sessions/provider"):
            return httpx.Response(200, headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": "t"}, json={})
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    "body",
    [
        {"minorErrorCode": "BAD_REQUEST", "message": f"invalid value {SECRET!r} for password"},
        f"<html>bad password {SECRET}</html>",
        "x" * 290 + SECRET,  # cut at 300 characters: no start of the secret may be left
    ],
    ids=["json-message", "text-body", "cut-body"],
)
def test_an_error_answer_echoing_a_secret_is_redacted(body: Any) -> None:
    async def call() -> RemoteError:
        async with WorkflowClient(SETTINGS, transport=_answer(400, body), redactor=Redactor.of([SECRET])) as client:
            with pytest.raises(PermanentRemoteError) as caught:
                await client.get_execution(ECHOES, "e-1")
            return caught.value

    error = asyncio.run(call())
    assert SECRET[:4] not in str(error) and SECRET[:4] not in (error.server_message or "")
    assert "(sensitiv" in str(error)  # the cut may fall inside the mark, never inside the secret


def test_the_endpoint_password_is_never_repeated() -> None:
    async def call() -> RemoteError:
        body = {"message": f"wrong password {SETTINGS.password}! for admin"}
        async with WorkflowClient(SETTINGS, transport=_answer(404, body)) as client:
            with pytest.raises(RemoteError) as caught:
                await client.get_execution(ECHOES, "e-1")
            return caught.value

    assert "wrong password (sensitive)!" in str(asyncio.run(call()))


def test_a_failed_execution_echoing_a_secret_is_read_redacted() -> None:
    app = create_app(CATALOG)

    async def run() -> str | None:
        transport = httpx.ASGITransport(app=app)
        async with WorkflowClient(SETTINGS, transport=transport, redactor=Redactor.of([SECRET])) as client:
            started = await client.start_execution(
                ECHOES, {"name": ("string", "bad"), "password": ("SecureString", SECRET)}
            )
            read = await client.get_execution(ECHOES, started.id)
            return read.content_exception

    assert asyncio.run(run()) == "password (sensitive) refused"


def test_an_unreadable_answer_quoting_a_secret_is_redacted() -> None:
    async def call() -> RemoteError:
        body = {"id": "e-1", "state": [SECRET]}
        async with WorkflowClient(SETTINGS, transport=_answer(200, body), redactor=Redactor.of([SECRET])) as client:
            with pytest.raises(RemoteError) as caught:
                await client.get_execution(ECHOES, "e-1")
            return caught.value

    error = asyncio.run(call())
    assert "unreadable" in str(error) and SECRET not in str(error) and "(sensitive)" in str(error)
