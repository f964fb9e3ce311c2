"""Where and how to reach the VCD API, resolved once from the stack file and the environment.

Why a separate module: the stack file names *where* secrets live (``passwordFrom: {env: X}``), never the
secrets themselves, and pipelines override everything with ``RECONCILER_*`` variables (SPEC 2.1). That
resolution is pure (a mapping and an environment in, settings out), so it is tested without any HTTP,
and everything downstream receives one frozen `ApiSettings` whose ``repr`` never shows a secret.

Precedence, most specific first:

- ``RECONCILER_ENDPOINT`` / ``RECONCILER_ORG`` / ``RECONCILER_API_VERSION`` over ``url`` / ``org`` /
  ``apiVersion``; ``RECONCILER_INSECURE=1`` turns TLS verification off whatever ``verifyTls`` says.
- ``RECONCILER_CA_FILE`` over ``caFile``: a PEM bundle of the CAs to trust for this endpoint instead of
  the system store (a relative ``caFile`` is relative to the stack file's folder).
- ``RECONCILER_GIVE_UP_AFTER`` over ``giveUpAfter`` (default 5m): how long an apply keeps trying an
  endpoint that answers nothing before it ends (`reconciler.remote.reachability`).
- Credentials: ``RECONCILER_API_TOKEN`` wins; else ``RECONCILER_USERNAME``/``RECONCILER_PASSWORD``
  (each falling back to the stack's ``username`` / ``passwordFrom``); else the stack's ``auth``:
  ``apiTokenFrom`` (API token flow) or ``username`` + ``passwordFrom`` (session login).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from reconciler.errors import ConfigError
from reconciler.manifest.durations import seconds_of
from reconciler.manifest.models import DEFAULT_GIVE_UP_AFTER, DEFAULT_REQUEST_TIMEOUT

log = logging.getLogger("reconciler.remote")
ValueFormat = Literal["openapi", "vro"]
VALUE_FORMATS: tuple[ValueFormat, ...] = ("openapi", "vro")
DEFAULT_API_VERSION = "37.1"
DEFAULT_USER_AGENT = "reconciler/0.1.0"
PROVIDER_ORG = "system"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ApiSettings:
    """Everything the client needs to talk to one VCD endpoint. Secrets are hidden from ``repr``."""

    url: str
    api_version: str
    org: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    verify_tls: bool = True
    ca_file: str | None = None  # a PEM bundle trusted instead of the system store
    value_format: ValueFormat = "openapi"
    request_timeout: float = 30.0
    give_up_after: float = 300.0  # an apply gives up on an endpoint that answers nothing for this long
    user_agent: str = DEFAULT_USER_AGENT

    def tls_verification(self) -> bool | ssl.SSLContext:
        """What the HTTP client verifies the server's certificate with: the system store (True), the
        CAs of ``ca_file``, or nothing (False, ``verifyTls: false``)."""
        if not self.verify_tls:
            if not self.url.startswith("https://"):
                return False  # plain HTTP: nothing to verify, nothing to warn about here
            log.warning(
                "TLS verification is off for %s (verifyTls: false or RECONCILER_INSECURE): anyone on the way "
                "can read and change what is sent, credentials included; trust your CA with caFile instead",
                self.url,
            )
            return False
        if self.ca_file is None:
            return True
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else err
            raise ConfigError(f"cannot use the CA file {self.ca_file} (caFile / RECONCILER_CA_FILE): {why}") from err

    @property
    def is_provider(self) -> bool:
        """Org ``System`` means a provider (system administrator) login."""
        return self.org.lower() == PROVIDER_ORG

    @property
    def uses_api_token(self) -> bool:
        return self.api_token is not None

    @property
    def login_name(self) -> str:
        """``user@org`` as VCD spells a login (the org is not appended twice)."""
        user = self.username or ""
        return user if "@" in user else f"{user}@{self.org}"


def settings_from(endpoint: Mapping[str, Any], environ: Mapping[str, str], base: Path | None = None) -> ApiSettings:
    """Resolve the stack's ``spec.endpoint`` mapping against the environment (see the module doc);
    ``base`` is the stack file's folder, which a relative ``caFile`` is read from."""
    auth = _mapping(_get(endpoint, "auth") or {}, "spec.endpoint.auth")
    org = _required(environ.get("RECONCILER_ORG") or _get(endpoint, "org"), "org", "RECONCILER_ORG")
    username, password, token = _credentials(auth, environ)
    return ApiSettings(
        url=_url(environ.get("RECONCILER_ENDPOINT") or _get(endpoint, "url")),
        api_version=str(
            environ.get("RECONCILER_API_VERSION") or _get(endpoint, "apiVersion", "api_version") or DEFAULT_API_VERSION
        ),
        org=org,
        username=username,
        password=password,
        api_token=token,
        verify_tls=_verify_tls(endpoint, environ),
        ca_file=_ca_file(environ.get("RECONCILER_CA_FILE") or _get(endpoint, "caFile", "ca_file"), base),
        value_format=_value_format(_get(endpoint, "valueFormat", "value_format")),
        request_timeout=_span(
            _get(endpoint, "requestTimeout", "request_timeout"), DEFAULT_REQUEST_TIMEOUT, "spec.endpoint.requestTimeout"
        ),
        give_up_after=_span(
            environ.get("RECONCILER_GIVE_UP_AFTER") or _get(endpoint, "giveUpAfter"),
            DEFAULT_GIVE_UP_AFTER,
            "the give-up time (spec.endpoint.giveUpAfter or RECONCILER_GIVE_UP_AFTER)",
        ),
    )


def _credentials(auth: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """(username, password, api_token): exactly one flow, token or session."""
    token = environ.get("RECONCILER_API_TOKEN")
    if token:
        return None, None, token
    if environ.get("RECONCILER_USERNAME") or environ.get("RECONCILER_PASSWORD"):
        return _session_credentials(auth, environ)
    token_from = _get(auth, "apiTokenFrom", "api_token_from")
    if token_from is not None:
        return None, None, _secret(token_from, environ, "spec.endpoint.auth.apiTokenFrom", "API token")
    return _session_credentials(auth, environ)


def _session_credentials(auth: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str, None]:
    username = _required(
        environ.get("RECONCILER_USERNAME") or _get(auth, "username"), "auth.username", "RECONCILER_USERNAME"
    )
    password = environ.get("RECONCILER_PASSWORD")
    if not password:
        password_from = _get(auth, "passwordFrom", "password_from")
        if password_from is None:
            raise ConfigError(
                "no credentials for the VCD endpoint: set spec.endpoint.auth.passwordFrom: {env: NAME} "
                "(or apiTokenFrom), or the environment variable RECONCILER_PASSWORD / RECONCILER_API_TOKEN"
            )
        password = _secret(password_from, environ, "spec.endpoint.auth.passwordFrom", "password")
    return username, password, None


def _secret(source: Any, environ: Mapping[str, str], where: str, what: str) -> str:
    """The value of the environment variable named by ``{env: NAME}``; never a literal."""
    name = _get(_mapping(source, where), "env")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where} must name an environment variable: {{env: NAME}}")
    value = environ.get(name)
    if not value:
        raise ConfigError(f"the {what} for the VCD endpoint is missing: environment variable {name} is not set")
    return value


def _url(value: Any) -> str:
    url = _required(value, "url", "RECONCILER_ENDPOINT")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"endpoint url must start with https:// or http://, got {url!r}")
    return url.rstrip("/")


def _verify_tls(endpoint: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    if environ.get("RECONCILER_INSECURE", "").strip().lower() in _TRUE:
        return False
    value = _get(endpoint, "verifyTls", "verify_tls")
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ConfigError(f"spec.endpoint.verifyTls must be true or false, got {value!r}")
    return value


def _ca_file(value: Any, base: Path | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"spec.endpoint.caFile must be a file path, got {value!r}")
    path = Path(value).expanduser()
    return str(path if path.is_absolute() or base is None else base / path)


def _value_format(value: Any) -> ValueFormat:
    if value is None:
        return "openapi"
    if value not in VALUE_FORMATS:
        raise ConfigError(f"spec.endpoint.valueFormat must be one of {', '.join(VALUE_FORMATS)}, got {value!r}")
    return cast(ValueFormat, value)


def _span(value: Any, default: str, where: str) -> float:
    """A time span from the stack file or the environment, in the one duration grammar."""
    try:
        return seconds_of(default if value is None else value)
    except ValueError:
        raise ConfigError(f"{where} must be a positive duration such as 30s or 5m, got {value!r}") from None


def _required(value: Any, key: str, env: str) -> str:
    if value is None or value == "":
        raise ConfigError(f"the VCD endpoint {key} is not set: set spec.endpoint.{key} or {env}")
    return str(value)


def _get(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present (camelCase as in the stack file, snake_case as a model dump)."""
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    return value
