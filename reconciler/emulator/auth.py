"""Who is calling: Basic logins, API-token exchanges, and bearer tokens, as VCD does them.

A login (``POST /cloudapi/1.0.0/sessions[/provider]`` with Basic ``user@org:password``) or a token
exchange (``POST /oauth/.../token`` with an API refresh token) creates a session and an opaque access
token; every other call presents it as ``Authorization: Bearer``. Provider users (org ``System``) must
log in at ``/sessions/provider`` and tenant users at ``/sessions``, as in VCD 10.4+.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.answers import CloudApiError, unauthorized
from reconciler.emulator.catalog import Catalog, User

SESSION_IDLE_MINUTES = 30
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
            "sessionIdleTimeoutMinutes": SESSION_IDLE_MINUTES,
        }


class Sessions:
    """Access tokens handed out, and the principal each stands for."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._by_token: dict[str, Principal] = {}

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
        token = secrets.token_urlsafe(32)
        principal = Principal(user, user.org, str(uuid.uuid4()))
        self._by_token[token] = principal
        return token, principal

    def authenticate(self, headers: Any) -> tuple[str, Principal]:
        """The bearer token of a request and its principal; CloudApiError 401 otherwise."""
        token = _bearer(headers)
        principal = self._by_token.get(token or "")
        if token is None or principal is None:
            raise unauthorized()
        return token, principal

    def close(self, token: str) -> None:
        self._by_token.pop(token, None)

    def of(self, principal: Principal) -> list[Principal]:
        """Every open session of the same user."""
        return [p for p in self._by_token.values() if p.user == principal.user]

    def close_session(self, principal: Principal, session_id: str) -> bool:
        for token, other in list(self._by_token.items()):
            if other.user == principal.user and other.session_id == session_id:
                del self._by_token[token]
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
