"""Logging in and out (SPEC 5.1): CloudAPI sessions, OAuth API-token exchange, ``/api/versions``.

The OAuth endpoints answer OAuth-style errors (``{"error": "invalid_grant", ...}``, 400) rather than
CloudAPI bodies, as an OAuth token endpoint does; a version in their Accept header is checked when
present but not required.

Session reads answer ``application/json;version=X`` like every CloudAPI call. ``GET /sessions`` and
``.../accessibleLocations`` page as the definitions say: ``page`` >= 1 (default 1), ``pageSize``
0-128 (default 25), anything else a 400 naming the parameter; a page past the end has no values.
``/sessions/{id}`` never matches ``provider`` or ``current`` (VCD's ``{id:((?!provider|current).)+}``),
so ``GET /sessions/provider`` is a 405, not a session look-up.

``GET /sessions/{id}/accessibleLocations`` answers the one location of this emulator (the caller's
org at site ``emulator``). ``GET /sessions/{id}/token`` answers as a VCD with no proxies configured:
400 with the definitions' "Invalid configuration" (a session token is never handed out a second
time). A session of another user, or none, is hidden like any other resource (403, or 404 with
``missing_status=404``).
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qs

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.answers import (
    CloudApiError,
    bad_request,
    check_version,
    empty_response,
    json_response,
    versioned_media,
)
from reconciler.emulator.auth import TOKEN_LIFETIME_SECONDS, Principal, stable_id
from reconciler.emulator.context import Emulator, emulator_of

ACCESS_TOKEN_HEADER = "X-VMWARE-VCLOUD-ACCESS-TOKEN"
_SESSIONS = "/cloudapi/1.0.0/sessions"
_INTEGER = re.compile(r"^[+-]?[0-9]{1,4000}$")  # any integer Python reads without a fuss
MAX_PAGE_SIZE = 128


class SessionIdConvertor(Convertor[str]):
    """A session id segment that is neither ``provider`` nor ``current`` (VCD's path regex)."""

    regex = r"(?:(?!provider|current)[^/])+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sessionid", SessionIdConvertor())


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
    return json_response(principal.session_body(), media_type=versioned_media(request))


async def logout_current_session(request: Request) -> Response:
    emulator, token, _ = _current(request)
    emulator.sessions.close(token)
    return empty_response(204)


def _query_integer(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _INTEGER.match(raw.strip()) or int(raw) < low or (high is not None and int(raw) > high):
        limits = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise bad_request(f"Query parameter '{name}' must be an integer {limits}, got {raw!r}")
    return int(raw)


def paged(request: Request, values: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``Page`` of ``values`` as the request's ``page`` and ``pageSize`` ask; 400 when out of range."""
    page = _query_integer(request, "page", 1, 1, None)
    page_size = _query_integer(request, "pageSize", 25, 0, MAX_PAGE_SIZE)
    first = (page - 1) * page_size
    return {
        "resultTotal": len(values),
        "pageCount": math.ceil(len(values) / page_size) if page_size else 0,
        "page": page,
        "pageSize": page_size,
        "values": values[first : first + page_size],
    }


async def list_sessions(request: Request) -> Response:
    emulator, _, principal = _current(request)
    values = [p.session_body() for p in emulator.sessions.of(principal)]
    return json_response(paged(request, values), media_type=versioned_media(request))


def _session(request: Request) -> tuple[Emulator, Principal]:
    """The path's session, if it is one of the caller's own; 403/404 otherwise."""
    emulator, _, principal = _current(request)
    wanted = request.path_params["id"].removeprefix("urn:vcloud:session:")
    found = next((p for p in emulator.sessions.of(principal) if p.session_id == wanted), None)
    if found is None:
        raise emulator.missing(f"Session {request.path_params['id']} not found")
    return emulator, found


async def get_session(request: Request) -> Response:
    _, found = _session(request)
    return json_response(found.session_body(), media_type=versioned_media(request))


async def accessible_locations(request: Request) -> Response:
    _, found = _session(request)
    base = str(request.base_url).rstrip("/")
    portal = "provider" if found.is_provider else f"tenant/{found.org}"
    location = {
        "locationId": f"{found.org}@emulator",
        "site": {"name": "emulator", "id": f"urn:vcloud:site:{stable_id('site', 'emulator')}"},
        "org": {"name": found.org, "id": f"urn:vcloud:org:{stable_id('org', found.org)}"},
        "restApiEndpoint": base,
        "uiEndpoint": f"{base}/{portal}",
        "apiVersion": check_version(request, emulator_of(request).catalog.api_versions),
    }
    return json_response(paged(request, [location]), media_type=versioned_media(request))


async def session_token(request: Request) -> Response:
    _session(request)
    raise CloudApiError(
        400, "BAD_REQUEST", "Invalid configuration: no proxy is configured, so this session has no proxy token"
    )


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
    Route(f"{_SESSIONS}/{{id:sessionid}}", get_session, methods=["GET"]),
    Route(f"{_SESSIONS}/{{id:sessionid}}", logout_session, methods=["DELETE"]),
    Route(f"{_SESSIONS}/{{id:sessionid}}/accessibleLocations", accessible_locations, methods=["GET"]),
    Route(f"{_SESSIONS}/{{id:sessionid}}/token", session_token, methods=["GET"]),
    Route("/oauth/tenant/{org}/token", tenant_token, methods=["POST"]),
    Route("/oauth/provider/token", provider_token, methods=["POST"]),
    Route("/api/versions", api_versions, methods=["GET"]),
]
