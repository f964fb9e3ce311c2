"""HTTP answers and transport failures -> the project's `RemoteError` tree (reconciler.errors).

Why one place: the applier's decisions hang on the *class* of an error (retry a read, look up a lost
start, stop on a user error), and the user reads its *message*. Both are fixed here: every message names
the operation, the status and the server's CloudAPI ``message``, e.g.
``start execution of workflow 6b2e…: 400 Bad Request: Invalid input parameter 'cpuCount'``.

``unsafe=True`` marks a request that must never be repeated blindly (starting an execution): any
failure after the request may have reached the server becomes `OutcomeUnknownError`. Only failures that
prove the server never saw it (connection refused, connect timeout, no pool slot) or that the server
declares as "not processed" (429, 503) stay plain `TemporaryRemoteError` and may be retried.
"""

from __future__ import annotations

import re
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import httpx

from reconciler.errors import (
    AuthError,
    NotFoundError,
    OutcomeUnknownError,
    PermanentRemoteError,
    RemoteError,
    TemporaryRemoteError,
    TlsVerificationError,
    VersionNotSupportedError,
)
from reconciler.redaction import Redactor

NOT_PROCESSED_STATUSES = (429, 503)
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SUPPORTED = re.compile(r"[Ss]upported API versions are:?\s*(?=\[)")
_MAX_TEXT = 300


def error_from_response(
    operation: str, response: httpx.Response, *, unsafe: bool = False, redact: Redactor = Redactor()
) -> RemoteError:
    """The error for a response with status >= 400 (or any unexpected status); ``redact`` removes
    the secrets the server may have echoed in its message."""
    status = response.status_code
    minor, server_message = _error_body(response, redact)
    message = f"{operation}: {status} {_reason(status)}"
    if server_message:
        message += f": {server_message}"
    details: dict[str, Any] = {
        "status": status,
        "minor_code": minor,
        "server_message": server_message,
        "operation": operation,
    }
    if status == 401:
        return AuthError(message, **details)
    if status in (403, 404):
        return NotFoundError(message, **details)
    if status == 406:
        return VersionNotSupportedError(_version_message(operation, response, server_message), **details)
    if status == 429 or status >= 500:
        kind = OutcomeUnknownError if unsafe and status not in NOT_PROCESSED_STATUSES else TemporaryRemoteError
        return kind(message, retry_after=retry_after(response), **details)
    return PermanentRemoteError(message, **details)


def error_from_transport(operation: str, exc: httpx.TransportError, *, unsafe: bool = False) -> RemoteError:
    """The error for a request that got no HTTP answer."""
    refused = _certificate_refusal(exc)
    if refused is not None:
        return TlsVerificationError(f"{operation}: {_tls_words(exc, refused)}", operation=operation)
    what = _transport_words(exc)
    if unsafe and not isinstance(exc, NEVER_SENT):
        return OutcomeUnknownError(f"{operation}: {what}; the request may have been processed", operation=operation)
    return TemporaryRemoteError(f"{operation}: {what}", operation=operation)


# OpenSSL's verify codes (x509_vfy.h) for the three failures a user can act on, in their words.
_TLS_REASONS = {
    2: "unknown issuer",  # unable to get issuer certificate
    18: "unknown issuer (self-signed certificate)",
    19: "unknown issuer (self-signed certificate in the chain)",
    20: "unknown issuer",  # unable to get local issuer certificate
    21: "unknown issuer",  # unable to verify the first certificate
    9: "certificate not yet valid",
    10: "certificate expired",
    62: "wrong host name",  # hostname mismatch
    64: "wrong host name (IP address mismatch)",
}


def _certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a transport error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_words(exc: httpx.TransportError, refused: ssl.SSLCertVerificationError) -> str:
    endpoint = _origin(exc)
    reason = _TLS_REASONS.get(refused.verify_code, "certificate not trusted")
    detail = refused.verify_message or refused.reason or str(refused)
    return (
        f"cannot verify the TLS certificate of {endpoint}: {reason} ({detail}). Trust your CA with "
        "spec.endpoint.caFile (or RECONCILER_CA_FILE), or set verifyTls: false at your own risk"
    )


def unreadable_answer(operation: str, response: httpx.Response, why: object) -> PermanentRemoteError:
    """A success status whose body this client cannot read."""
    return PermanentRemoteError(
        f"{operation}: {response.status_code} {_reason(response.status_code)}: unreadable answer: {why}",
        status=response.status_code,
        operation=operation,
    )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent/bad."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def supported_versions(text: str | None) -> list[str]:
    """The versions listed in a 406 message: ``Supported API versions are: [38.0, 37.2 [D] ...]``."""
    match = _SUPPORTED.search(text or "")
    if not match:
        return []
    items = (item.replace("[D]", "").strip() for item in _bracketed(text or "", match.end()).split(","))
    return [item for item in items if item]


def _bracketed(text: str, start: int) -> str:
    """The text inside the ``[...]`` opening at ``start`` (nested ``[D]`` markers included)."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index]
    return text[start + 1 :]


def _version_message(operation: str, response: httpx.Response, server_message: str | None) -> str:
    requested = _requested_version(response)
    versions = supported_versions(server_message)
    message = f"this server does not support API version {requested}"
    if versions:
        message += f" (it supports {', '.join(versions)})"
    return f"{operation}: 406 Not Acceptable: {message}; set spec.endpoint.apiVersion or RECONCILER_API_VERSION"


def _requested_version(response: httpx.Response) -> str:
    accept = response.request.headers.get("Accept", "") if _has_request(response) else ""
    match = re.search(r"version=([^;,\s]+)", accept)
    return match.group(1) if match else "(unknown)"


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without a request
    except RuntimeError:
        return False
    return True


def _error_body(response: httpx.Response, redact: Redactor) -> tuple[str | None, str | None]:
    """(minorErrorCode, message) of a CloudAPI error body, or the start of a non-JSON body; secrets
    redacted before anything is cut (a cut must not leave the start of a secret)."""
    try:
        body = response.json()
    except ValueError:
        text = redact(response.text.strip())
        return None, text[:_MAX_TEXT] or None
    if isinstance(body, dict):
        minor = body.get("minorErrorCode")
        message = body.get("message") or body.get("error_description") or body.get("error")
        return (redact(str(minor)) if minor else None), (redact(str(message)) if message else None)
    return None, redact(str(body))[:_MAX_TEXT]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _origin(exc: httpx.TransportError) -> str:
    """scheme://host:port of the failed request (never its path, query or credentials)."""
    try:
        url = exc.request.url
    except RuntimeError:  # raised without a request
        return "the endpoint"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _transport_words(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        where = _origin(exc)
        return f"cannot connect to {where} ({exc})" if str(exc) else f"cannot connect to {where}"
    detail = str(exc)
    return (
        f"connection failed ({type(exc).__name__}: {detail})" if detail else f"connection failed ({type(exc).__name__})"
    )
