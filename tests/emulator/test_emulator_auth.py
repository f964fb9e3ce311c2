"""Logins, API tokens, bearer checks and the Accept-header version check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .emulator_helpers import ACCEPT, VM, basic, client_for, login

pytestmark = pytest.mark.anyio

SESSIONS = "/cloudapi/1.0.0/sessions"


@pytest.fixture
def client(make_app: Callable[..., Any]) -> httpx.AsyncClient:
    return client_for(make_app())


async def test_provider_login_returns_session_and_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{SESSIONS}/provider", headers={"Authorization": basic("admin", "System", "admin"), "Accept": ACCEPT}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "admin" and body["org"]["name"] == "System"
    assert body["id"].startswith("urn:vcloud:session:")
    assert body["roles"] == ["System Administrator"]
    token = response.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
    current = await client.get(f"{SESSIONS}/current", headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT})
    assert current.json()["id"] == body["id"]


async def test_tenant_login_org_is_case_insensitive(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": basic("deployer", "ACME", "deployer"), "Accept": ACCEPT}
    response = await client.post(SESSIONS, headers=headers)
    assert response.status_code == 200
    assert response.json()["org"]["name"] == "acme"


@pytest.mark.parametrize(
    ("path", "authorization"),
    [
        (SESSIONS, basic("deployer", "acme", "wrong")),
        (SESSIONS, basic("nobody", "acme", "x")),
        (SESSIONS, basic("admin", "System", "admin")),  # provider users use /sessions/provider
        (f"{SESSIONS}/provider", basic("deployer", "acme", "deployer")),
        (SESSIONS, "Basic !!!"),
        (SESSIONS, "Bearer abc"),
        (SESSIONS, None),
    ],
)
async def test_bad_logins_are_401(client: httpx.AsyncClient, path: str, authorization: str | None) -> None:
    headers = {"Accept": ACCEPT, **({"Authorization": authorization} if authorization else {})}
    response = await client.post(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["minorErrorCode"] == "UNAUTHORIZED"


async def test_logout_invalidates_the_token(client: httpx.AsyncClient) -> None:
    await login(client)
    assert (await client.get(f"/cloudapi/workflows/{VM}/executions")).status_code == 200
    assert (await client.delete(f"{SESSIONS}/current")).status_code == 204
    response = await client.get(f"/cloudapi/workflows/{VM}/executions")
    assert response.status_code == 401
    assert set(response.json()) == {"minorErrorCode", "message", "stackTrace"}


async def test_session_list_get_and_delete_by_id(client: httpx.AsyncClient) -> None:
    await login(client)
    listed = (await client.get(SESSIONS)).json()
    assert listed["resultTotal"] == 1
    session_id = listed["values"][0]["id"]
    assert (await client.get(f"{SESSIONS}/{session_id}")).json()["id"] == session_id
    assert (await client.delete(f"{SESSIONS}/{session_id}")).status_code == 204
    assert (await client.get(f"{SESSIONS}/current")).status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer unknown-token", "Basic YWRtaW4="])
async def test_missing_or_invalid_bearer_is_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Accept": ACCEPT, **({"Authorization": header} if header else {})}
    response = await client.get(f"/cloudapi/workflows/{VM}/executions", headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(("path", "org"), [("/oauth/provider/token", "System"), ("/oauth/tenant/acme/token", "acme")])
async def test_api_token_exchange(client: httpx.AsyncClient, path: str, org: str) -> None:
    token = "demo-token" if org == "System" else "acme-token"
    response = await client.post(path, data={"grant_type": "refresh_token", "refresh_token": token})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": ACCEPT}
    current = await client.get(f"{SESSIONS}/current", headers=headers)
    assert current.json()["org"]["name"] == org


@pytest.mark.parametrize(
    ("path", "form", "error"),
    [
        ("/oauth/provider/token", {"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ("/oauth/tenant/acme/token", {"grant_type": "refresh_token", "refresh_token": "demo-token"}, "invalid_grant"),
        ("/oauth/tenant/globex/token", {"grant_type": "refresh_token", "refresh_token": "acme-token"}, "invalid_grant"),
        ("/oauth/provider/token", {"grant_type": "password", "refresh_token": "demo-token"}, "unsupported_grant_type"),
        ("/oauth/provider/token", {"grant_type": "refresh_token"}, "invalid_grant"),
    ],
)
async def test_bad_api_token_exchanges_are_400(
    client: httpx.AsyncClient, path: str, form: dict[str, str], error: str
) -> None:
    response = await client.post(path, data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    "accept",
    [
        "application/json;version=37.2",
        "application/*;version=37.2",
        "*/*;version=37.2",
        "application/json; version=36.3",
    ],
)
async def test_accepted_version_headers(client: httpx.AsyncClient, accept: str) -> None:
    await login(client)
    response = await client.get(f"/cloudapi/workflows/{VM}/executions", headers={"Accept": accept})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "accept", ["application/json;version=99.0", "application/json", "application/xml;version=37.2", None]
)
async def test_unsupported_version_is_406(client: httpx.AsyncClient, accept: str | None) -> None:
    await login(client)
    headers = httpx.Headers({"Authorization": client.headers["Authorization"]})
    if accept:
        headers["Accept"] = accept
    client.headers.pop("Accept")
    response = await client.get(f"/cloudapi/workflows/{VM}/executions", headers=headers)
    assert response.status_code == 406
    body = response.json()
    assert body["minorErrorCode"] == "NOT_ACCEPTABLE"
    assert body["message"] == (
        "The request has invalid accept header: Invalid API version requested. "
        "Supported API versions are: [38.0, 37.2, 37.1, 37.0, 36.3]"
    )


async def test_version_is_checked_before_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"/cloudapi/workflows/{VM}/executions", headers={"Accept": "application/json;version=1.0"}
    )
    assert response.status_code == 406
    login_response = await client.post(SESSIONS, headers={"Accept": "application/json;version=1.0"})
    assert login_response.status_code == 406


async def test_api_versions_lists_the_catalog_versions(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/versions")).json()
    assert [v["version"] for v in body["versionInfo"]] == ["36.3", "37.0", "37.1", "37.2", "38.0"]


async def test_unknown_path_and_method_answer_cloudapi_errors(client: httpx.AsyncClient) -> None:
    await login(client)
    assert (await client.get("/cloudapi/nothing")).json()["minorErrorCode"] == "RESOURCE_NOT_FOUND"
    assert (await client.put(f"/cloudapi/workflows/{VM}/executions")).status_code == 405
