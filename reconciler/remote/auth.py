"""Logging in to VCD (SPEC 5.1) and sharing one bearer token among concurrent callers.

Two flows give a bearer token:

- session login: ``POST /cloudapi/1.0.0/sessions`` (``/sessions/provider`` for org ``System``) with
  ``Basic user@org:password``; the token is the ``X-VMWARE-VCLOUD-ACCESS-TOKEN`` response header;
- API token: ``POST /oauth/tenant/<org>/token`` (``/oauth/provider/token``) with the form
  ``grant_type=refresh_token&refresh_token=...``; the token is ``access_token``. The identity then comes
  from ``GET /cloudapi/1.0.0/sessions/current``.

Why a `TokenKeeper`: with ``parallelism`` requests in flight, the first ones must not each log in, and
a burst of 401s after the server dropped a session must cause *one* re-login, not one per request. The
keeper logs in under a lock and remembers which token a caller saw fail, so only the first caller to
report a stale token logs in again; the others pick up the fresh one.

API version: ``apiVersion: auto`` reads ``/api/versions`` before logging in and uses the highest tested,
non-deprecated version the server offers (`reconciler.remote.versions`); a 406 on login (a version the
server does not speak) reads it too, so that the error names what the server offers.

The identity (``user@org`` as the server spells it) is what ``startedBy`` shows on executions this
client starts; exactly-once lookups compare against it. Secrets never reach a log line or a message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import AuthError, CodecError, PermanentRemoteError, RemoteError, VersionNotSupportedError
from reconciler.remote.settings import ApiSettings
from reconciler.remote.versions import (
    AUTO,
    TESTED_API_VERSIONS,
    VERSIONS_PATH,
    OfferedVersion,
    choose,
    describe,
    read_versions,
)

log = logging.getLogger("reconciler.notice")

TOKEN_HEADER = "X-VMWARE-VCLOUD-ACCESS-TOKEN"
SESSIONS = "/cloudapi/1.0.0/sessions"
CURRENT_SESSION = "/cloudapi/1.0.0/sessions/current"

Send = Callable[[httpx.Request, str], Awaitable[httpx.Response]]
Build = Callable[..., httpx.Request]


@dataclass(frozen=True)
class Login:
    """A bearer token and who it belongs to (None when the server did not say)."""

    token: str
    identity: str | None
    api_version: str = ""  # the version every request uses from now on
    offered: tuple[OfferedVersion, ...] = ()  # what /api/versions listed, when it was read
    expires_at: datetime | None = None  # when the token ends, when the server says (None: not said)

    def __repr__(self) -> str:
        return f"Login(identity={self.identity!r}, token=<hidden>)"


def login_path(settings: ApiSettings) -> str:
    if settings.uses_api_token:
        if settings.is_provider:
            return "/oauth/provider/token"
        return f"/oauth/tenant/{quote(settings.org, safe='')}/token"
    return f"{SESSIONS}/provider" if settings.is_provider else SESSIONS


def login_operation(settings: ApiSettings) -> str:
    if settings.uses_api_token:
        return f"log in to org {settings.org} with an API token"
    return f"log in as {settings.login_name}"


def basic_authorization(settings: ApiSettings) -> str:
    raw = f"{settings.login_name}:{settings.password or ''}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def identity_of_session(body: Any) -> str | None:
    """``user@org`` from a ``Session`` document (``{"user": {"name"}, "org": {"name"}}``)."""
    if not isinstance(body, Mapping):
        return None
    user, org = _name(body.get("user")), _name(body.get("org"))
    if user and org and "@" not in user:
        return f"{user}@{org}"
    return user


def accept(version: str) -> str:
    return f"application/json;version={version}"


async def log_in(settings: ApiSettings, build: Build, send: Send, offered: tuple[OfferedVersion, ...] = ()) -> Login:
    """Log in with the configured flow; 401/403/400 on the way become `AuthError`; with ``apiVersion:
    auto`` the version is chosen first, from ``offered`` when the caller read it already; a 406 names
    the versions the server offers."""
    operation = login_operation(settings)
    version = settings.api_version
    if version == AUTO:
        offered = offered or await read_offered(build, send)
        version = _chosen(offered)
    try:
        if settings.uses_api_token:
            login = await _token_login(settings, build, send, operation, version)
        else:
            login = await _session_login(settings, build, send, operation, version)
    except VersionNotSupportedError as exc:
        raise await _unsupported(exc, version, build, send) from exc
    except (PermanentRemoteError, AuthError) as exc:
        raise _as_auth_error(exc) from exc
    return Login(login.token, login.identity, version, offered, login.expires_at or _jwt_expiry(login.token))


async def read_offered(build: Build, send: Send) -> tuple[OfferedVersion, ...]:
    """The versions the server offers (``GET /api/versions``, no login needed)."""
    operation = "read the API versions the server offers"
    response = await send(
        build("GET", VERSIONS_PATH, headers={"Accept": "application/*+xml, application/json"}), operation
    )
    try:
        return tuple(read_versions(response.content, response.headers.get("Content-Type", "")))
    except CodecError as exc:
        raise PermanentRemoteError(f"{operation}: {exc}", status=response.status_code, operation=operation) from exc


def _chosen(offered: tuple[OfferedVersion, ...]) -> str:
    version = choose(offered)
    if version is None:
        raise VersionNotSupportedError(
            f"apiVersion: auto found no version this tool is tested with ({', '.join(TESTED_API_VERSIONS)}) "
            f"among those the server offers ({describe(offered)}); set spec.endpoint.apiVersion to one of "
            "the server's versions"
        )
    log.info("using API version %s (apiVersion: auto; the server offers %s)", version, describe(offered))
    return version


async def _unsupported(
    exc: VersionNotSupportedError, version: str, build: Build, send: Send
) -> VersionNotSupportedError:
    try:
        offered = await read_offered(build, send)
    except RemoteError:
        return exc  # the 406 message alone (it may list the versions itself)
    return VersionNotSupportedError(
        f"{exc.operation or 'log in'}: 406 Not Acceptable: this server does not support API version {version}; "
        f"it offers {describe(offered)}. Set spec.endpoint.apiVersion (or RECONCILER_API_VERSION) to one of "
        "them, or to auto",
        status=exc.status,
        operation=exc.operation,
        server_message=exc.server_message,
    )


async def _session_login(settings: ApiSettings, build: Build, send: Send, operation: str, version: str) -> Login:
    headers = {"Authorization": basic_authorization(settings), "Accept": accept(version)}
    response = await send(build("POST", login_path(settings), headers=headers), operation)
    token = response.headers.get(TOKEN_HEADER)
    if not token:
        raise AuthError(f"{operation}: the server sent no {TOKEN_HEADER} header", operation=operation)
    identity = identity_of_session(_json(response)) or settings.login_name
    return Login(token, identity)


async def _token_login(settings: ApiSettings, build: Build, send: Send, operation: str, version: str) -> Login:
    form = {"grant_type": "refresh_token", "refresh_token": settings.api_token or ""}
    response = await send(
        build("POST", login_path(settings), data=form, headers={"Accept": accept(version)}), operation
    )
    body = _json(response)
    token = body.get("access_token") if isinstance(body, Mapping) else None
    if not isinstance(token, str) or not token:
        raise AuthError(f"{operation}: the answer holds no access_token", operation=operation)
    lifetime = body.get("expires_in") if isinstance(body, Mapping) else None
    expires = datetime.now(UTC) + timedelta(seconds=lifetime) if isinstance(lifetime, int | float) else None
    return Login(token, await _current_identity(token, build, send, version), expires_at=expires)


async def _current_identity(token: str, build: Build, send: Send, version: str) -> str | None:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept(version)}
    request = build("GET", CURRENT_SESSION, headers=headers)
    try:
        response = await send(request, "read the current session")
    except PermanentRemoteError:
        return None  # an older server without sessions/current: exact-once lookups then match any user
    return identity_of_session(_json(response))


def _jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT bearer token (VCD 10.x issues them), read without verifying it: it
    only says how long the login lasts. None for a token that is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return datetime.fromtimestamp(exp, tz=UTC) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _as_auth_error(exc: PermanentRemoteError | AuthError) -> AuthError:
    return AuthError(
        str(exc),
        status=exc.status,
        minor_code=exc.minor_code,
        server_message=exc.server_message,
        operation=exc.operation,
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _name(ref: Any) -> str | None:
    if isinstance(ref, Mapping) and ref.get("name"):
        return str(ref["name"])
    return None


class TokenKeeper:
    """Holds the current login; logs in lazily, once, and again only for a token seen to fail."""

    def __init__(self, log_in: Callable[[], Awaitable[Login]]) -> None:
        self._log_in = log_in
        self._login: Login | None = None
        self._lock = asyncio.Lock()

    @property
    def identity(self) -> str | None:
        return self._login.identity if self._login else None

    async def token(self) -> str:
        """The current token, logging in first if nobody has yet."""
        if self._login is None:
            async with self._lock:
                if self._login is None:
                    self._login = await self._log_in()
        return self._login.token

    async def renew(self, stale: str) -> str:
        """A fresh token after ``stale`` was refused; only the first reporter of ``stale`` logs in."""
        async with self._lock:
            if self._login is None or self._login.token == stale:
                self._login = None
                self._login = await self._log_in()
            return self._login.token

    async def force(self) -> Login:
        """Log in now (the explicit ``login()`` call)."""
        async with self._lock:
            self._login = await self._log_in()
            return self._login
