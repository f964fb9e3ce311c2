"""Logging in and out (SPEC 5.1): CloudAPI sessions, OAuth API-token exchange, ``/api/versions``.

The OAuth endpoints answer OAuth-style errors (``{"error": "invalid_grant", ...}``, 400) rather than
CloudAPI bodies, as an OAuth token endpoint does; a version in their Accept header is checked when
present but not required.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.answers import check_version, empty_response, json_response
from reconciler.emulator.auth import TOKEN_LIFETIME_SECONDS, Principal
from reconciler.emulator.context import Emulator, emulator_of

ACCESS_TOKEN_HEADER = "X-VMWARE-VCLOUD-ACCESS-TOKEN"
_SESSIONS = "/cloudapi/1.0.0/sessions"


async def login(request: Request) -> Response:
    return _login(request, provider=False)


async def provider_login(request: Request) -> Response:
    return _login(request, provider=True)


def _login(request: Request, *, provider: bool) -> Response:
    emulator = emulator_of(request)
    version = check_version(request, emulator.catalog.api_versions)
    token, principal = emulator.sessions.login(request.headers.get("authorization"), provider=provider)
    headers = {ACCESS_TOKEN_HEADER: token, "X-VMWARE-VCLOUD-TOKEN-TYPE": "Bearer"}
    return json_response(principal.session_body(), 200, headers, f"application/json;version={version}")


def _current(request: Request) -> tuple[Emulator, str, Principal]:
    emulator = emulator_of(request)
    check_version(request, emulator.catalog.api_versions)
    token, principal = emulator.sessions.authenticate(request.headers)
    return emulator, token, principal


async def get_current_session(request: Request) -> Response:
    _, _, principal = _current(request)
    return json_response(principal.session_body())


async def logout_current_session(request: Request) -> Response:
    emulator, token, _ = _current(request)
    emulator.sessions.close(token)
    return empty_response(204)


async def list_sessions(request: Request) -> Response:
    emulator, _, principal = _current(request)
    values = [p.session_body() for p in emulator.sessions.of(principal)]
    body = {"resultTotal": len(values), "pageCount": 1, "page": 1, "pageSize": 128, "values": values}
    return json_response(body)


async def get_session(request: Request) -> Response:
    emulator, _, principal = _current(request)
    wanted = request.path_params["id"].removeprefix("urn:vcloud:session:")
    found = next((p for p in emulator.sessions.of(principal) if p.session_id == wanted), None)
    if found is None:
        raise emulator.missing(f"Session {request.path_params['id']} not found")
    return json_response(found.session_body())


async def logout_session(request: Request) -> Response:
    emulator, _, principal = _current(request)
    wanted = request.path_params["id"].removeprefix("urn:vcloud:session:")
    if not emulator.sessions.close_session(principal, wanted):
        raise emulator.missing(f"Session {request.path_params['id']} not found")
    return empty_response(204)


async def tenant_token(request: Request) -> Response:
    return await _token(request, request.path_params["org"])


async def provider_token(request: Request) -> Response:
    return await _token(request, None)


async def _token(request: Request, org: str | None) -> Response:
    emulator = emulator_of(request)
    check_version(request, emulator.catalog.api_versions, required=False)
    form = parse_qs((await request.body()).decode(errors="replace"))
    grant_type = form.get("grant_type", [""])[0]
    if grant_type != "refresh_token":
        return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported here")
    refresh_token = form.get("refresh_token", [""])[0]
    opened = emulator.sessions.exchange(refresh_token, org) if refresh_token else None
    if opened is None:
        return _oauth_error("invalid_grant", "The API token is invalid, revoked, or not for this organization")
    access_token, _ = opened
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "refresh_token": None,
    }
    return json_response(body)


def _oauth_error(code: str, description: str) -> Response:
    return json_response({"error": code, "error_description": description}, 400)


async def api_versions(request: Request) -> Response:
    emulator = emulator_of(request)
    base = str(request.base_url).rstrip("/")
    infos = [
        {
            "version": version,
            "deprecated": False,
            "loginUrl": f"{base}{_SESSIONS}",
            "providerLoginUrl": f"{base}{_SESSIONS}/provider",
        }
        for version in emulator.catalog.api_versions
    ]
    return json_response({"versionInfo": infos})


ROUTES = [
    Route(_SESSIONS, login, methods=["POST"]),
    Route(_SESSIONS, list_sessions, methods=["GET"]),
    Route(f"{_SESSIONS}/provider", provider_login, methods=["POST"]),
    Route(f"{_SESSIONS}/current", get_current_session, methods=["GET"]),
    Route(f"{_SESSIONS}/current", logout_current_session, methods=["DELETE"]),
    Route(f"{_SESSIONS}/{{id}}", get_session, methods=["GET"]),
    Route(f"{_SESSIONS}/{{id}}", logout_session, methods=["DELETE"]),
    Route("/oauth/tenant/{org}/token", tenant_token, methods=["POST"]),
    Route("/oauth/provider/token", provider_token, methods=["POST"]),
    Route("/api/versions", api_versions, methods=["GET"]),
]
