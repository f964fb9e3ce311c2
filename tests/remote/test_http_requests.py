"""What the client asks httpx for, per request: its cookie jar (`client._Cookies`: an answer's cookies
are kept and sent back, as httpx does; an answer that sets none is not parsed for them) and each
call's URL, joined to the endpoint's by the client."""

from __future__ import annotations

import httpx
import pytest

from reconciler.remote import WorkflowClient
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


@pytest.mark.parametrize(
    ("url", "prefix"), [("http://vcd.test", ""), ("http://vcd.test/", ""), ("http://vcd.test/tenant/", "/tenant")]
)
async def test_calls_go_under_the_endpoint_url(url: str, prefix: str) -> None:
    """The client joins each call's path to the endpoint URL itself (one parse per request): the same
    URL httpx would have joined, a path prefix of the endpoint kept."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        if request.url.path.endswith("/sessions/provider"):
            return httpx.Response(200, headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": "t"}, json={})
        return httpx.Response(200, json="running")

    settings = ApiSettings(url=url, api_version="37.2", org="System", username="u", password="p")
    async with WorkflowClient(settings, transport=httpx.MockTransport(answer)) as client:
        await client.get_state("wf 1", "e/1")
    assert seen[0] == f"{prefix}/cloudapi/1.0.0/sessions/provider"
    assert seen[-1] == f"{prefix}/cloudapi/workflows/wf%201/executions/e%2F1/state"
