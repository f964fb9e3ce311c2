"""The client's cookie jar (`client._Cookies`): an answer's cookies are kept and sent back, as httpx
does; an answer that sets none is not parsed for them."""

from __future__ import annotations

import httpx
import pytest

from reconciler.remote.client import _Cookies, _http_client
from reconciler.remote.settings import ApiSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_cookies_set_by_an_answer_are_sent_back() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/login":
            return httpx.Response(200, headers={"Set-Cookie": "affinity=node-2; Path=/"})
        return httpx.Response(200, json={"state": "running"})

    async with httpx.AsyncClient(base_url="http://vcd.test", transport=httpx.MockTransport(answer)) as client:
        client._cookies = _Cookies()
        await client.get("/state")
        await client.post("/login")
        await client.get("/state")
        await client.get("/state")
    assert seen == [None, None, "affinity=node-2", "affinity=node-2"]


async def test_an_answer_without_cookies_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    monkeypatch.setattr(httpx.Cookies, "extract_cookies", lambda self, response: parsed.append(response.url.path))
    async with httpx.AsyncClient(
        base_url="http://vcd.test", transport=httpx.MockTransport(lambda _: httpx.Response(204))
    ) as client:
        client._cookies = _Cookies()
        await client.get("/a")
    assert parsed == []


def test_the_workflow_client_keeps_its_cookies_this_way() -> None:
    settings = ApiSettings(url="http://vcd.test", api_version="37.2", org="System", username="u", password="p")
    assert type(_http_client(settings, None, 2).cookies) is _Cookies
