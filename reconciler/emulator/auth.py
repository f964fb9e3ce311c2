"""Who is calling: Basic logins, API-token exchanges, and bearer tokens, as VCD does them.

A login (``POST /cloudapi/1.0.0/sessions[/provider]`` with Basic ``user@org:password``) or a token
exchange (``POST /oauth/.../token`` with an API refresh token) creates a session and an opaque access
token; every other call presents it as ``Authorization: Bearer``. Provider users (org ``System``) must
log in at ``/sessions/provider`` and tenant users at ``/sessions``, as in VCD 10.4+.

A session ends when it is logged out or when it has gone unused for the idle timeout
(``EmulatorOptions.session_idle_timeout``, 30 minutes as VCD's default): every authenticated call
restarts its idle time, and a call with an expired token gets 401 like any unknown token. Sessions
advertise the timeout in whole minutes (``sessionIdleTimeoutMinutes``, rounded up), the only unit the
Session definition has.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.answers import CloudApiError, unauthorized
from reconciler.emulator.catalog import Catalog, User
from reconciler.emulator.clock import Clock

TOKEN_LIFETIME_SECONDS = 2_592_000
_URN_NAMESPACE = uuid.UUID("5d1b2f6c-1c6e-4a5b-9a57-7b1f0c7e9e11")


def stable_id(kind: str, name: str) -> str:
    """A UUID that is always the same for the same org, user or role name."""
    return str(uuid.uuid5(_URN_NAMESPACE, f"{kind}:{name.lower()}"))


@dataclass(frozen=True)
class Principal:
    """A logged-in user, as one session sees them."""

    user: User
    org: str
    session_id: str
    idle_timeout: float = 30 * 60.0

    @property
    def is_provider(self) -> bool:
        return self.user.is_provider

    @property
    def qualified_name(self) -> str:
        return f"{self.user.name}@{self.org}"

    def session_body(self) -> dict[str, Any]:
        """A ``Session`` of the Swagger document."""
        return {
            "id": f"urn:vcloud:session:{self.session_id}",
            "site": {"name": "emulator", "id": f"urn:vcloud:site:{stable_id('site', 'emulator')}"},
            "user": {"name": self.user.name, "id": f"urn:vcloud:user:{stable_id('user', self.qualified_name)}"},
            "org": {"name": self.org, "id": f"urn:vcloud:org:{stable_id('org', self.org)}"},
            "location": "emulator",
            "roles": list(self.user.role_names),
            "roleRefs": [
                {"name": role, "id": f"urn:vcloud:role:{stable_id('role', role)}"} for role in self.user.role_names
            ],
            "sessionIdleTimeoutMinutes": math.ceil(self.idle_timeout / 60),
        }


class Sessions:
    """Access tokens handed out, and the principal each stands for."""

    def __init__(self, catalog: Catalog, clock: Clock, idle_timeout: float) -> None:
        self._catalog = catalog
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._by_token: dict[str, Principal] = {}
        self._last_used: dict[str, float] = {}
        self.opened = 0  # sessions opened so far (logins and token exchanges): `/_emulator/sessions`

    def login(self, authorization: str | None, *, provider: bool) -> tuple[str, Principal]:
        """Check Basic credentials; (access token, principal) or CloudApiError 401."""
        name, org, password = _parse_basic(authorization)
        user = self._catalog.user(name, org)
        if user is None or not secrets.compare_digest(user.password, password):
            raise unauthorized("Invalid credentials")
        if provider != user.is_provider:
            where = "/cloudapi/1.0.0/sessions/provider" if user.is_provider else "/cloudapi/1.0.0/sessions"
            raise unauthorized(f"User {name}@{org} must log in at {where}")
        return self._open(user)

    def exchange(self, refresh_token: str, org: str | None) -> tuple[str, Principal] | None:
        """The session for an API token used at ``/oauth/tenant/{org}`` (org) or ``/oauth/provider``."""
        token = next((t for t in self._catalog.api_tokens if secrets.compare_digest(t.token, refresh_token)), None)
        if token is None:
            return None
        user = self._catalog.user(token.user, token.org)
        if user is None or (org is None) != user.is_provider:
            return None
        if org is not None and org.lower() != user.org.lower():
            return None
        return self._open(user)

    def _open(self, user: User) -> tuple[str, Principal]:
        self.opened += 1
        token = secrets.token_urlsafe(32)
        principal = Principal(user, user.org, str(uuid.uuid4()), self._idle_timeout)
        self._by_token[token] = principal
        self._last_used[token] = self._clock()
        return token, principal

    def _expire_idle(self) -> None:
        """Close the sessions unused for longer than the idle timeout (``_last_used`` is in use order)."""
        oldest = self._clock() - self._idle_timeout
        expired = []
        for token, used in self._last_used.items():
            if used >= oldest:
                break
            expired.append(token)
        for token in expired:
            self.close(token)

    def authenticate(self, headers: Any) -> tuple[str, Principal]:
        """The bearer token of a request and its principal; CloudApiError 401 otherwise."""
        token = _bearer(headers)
        self._expire_idle()
        principal = self._by_token.get(token or "")
        if token is None or principal is None:
            raise unauthorized()
        del self._last_used[token]
        self._last_used[token] = self._clock()  # to the end: the dict stays in order of last use
        return token, principal

    def close(self, token: str) -> None:
        self._by_token.pop(token, None)
        self._last_used.pop(token, None)

    def of(self, principal: Principal) -> list[Principal]:
        """Every open session of the same user, oldest first."""
        self._expire_idle()
        return [p for p in self._by_token.values() if p.user == principal.user]

    def close_session(self, principal: Principal, session_id: str) -> bool:
        for token, other in list(self._by_token.items()):
            if other.user == principal.user and other.session_id == session_id:
                self.close(token)
                return True
        return False


def _parse_basic(authorization: str | None) -> tuple[str, str, str]:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        raise unauthorized("Basic authentication with user@org:password is required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise unauthorized("Malformed Basic credentials") from exc
    login, _, password = decoded.partition(":")
    name, _, org = login.rpartition("@")
    if not name or not org:
        raise CloudApiError(401, "UNAUTHORIZED", "The user name must be user@org")
    return name, org, password


def _bearer(headers: Any) -> str | None:
    scheme, _, token = str(headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    alternative = headers.get("x-vmware-vcloud-access-token")
    return str(alternative) if alternative else None
