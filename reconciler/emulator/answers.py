"""How the emulator answers: CloudAPI error bodies, JSON bodies, and the Accept-header version check.

VCD answers every OpenAPI error with ``{"minorErrorCode", "message", "stackTrace"}``; handlers raise
``CloudApiError`` and one exception handler turns it into that body, so no handler builds an error
response by hand. ``stackTrace`` is an empty string rather than null: the Swagger document types it
as a string and the answers must validate against it.

Every JSON answer is standard JSON (RFC 8259): ``NaN`` and ``Infinity`` cannot be written
(``allow_nan=False``), so a non-finite number can never leave the emulator. Answers to a request
that asked for a supported version carry it in their media type (``application/json;version=37.2``),
errors included, as VCD's do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconciler.errors import ReconcilerError

REQUEST_ID_HEADER = "X-VMWARE-VCLOUD-REQUEST-ID"
_VERSIONED_TYPES = ("application/json", "application/*", "*/*")


class CloudApiError(ReconcilerError):
    """An error answer: HTTP status, VCD minor error code, message."""

    def __init__(self, status: int, minor: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.minor = minor
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> CloudApiError:
    return CloudApiError(400, "BAD_REQUEST", message)


def unauthorized(message: str = "Either no credentials were supplied or they are invalid.") -> CloudApiError:
    return CloudApiError(401, "UNAUTHORIZED", message)


def error_body(minor: str, message: str) -> dict[str, str]:
    return {"minorErrorCode": minor, "message": message, "stackTrace": ""}


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    """A JSON answer with VCD's request-id header."""
    all_headers = {REQUEST_ID_HEADER: str(uuid.uuid4()), **(headers or {})}
    content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    return Response(content, status_code=status, headers=all_headers, media_type=media_type)


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status, headers={REQUEST_ID_HEADER: str(uuid.uuid4())})


async def cloudapi_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CloudApiError)
    return error_response(request, exc)


def error_response(request: Request, exc: CloudApiError) -> Response:
    """The CloudAPI error body of ``exc``, in the requested version's media type when it is one we serve."""
    return json_response(error_body(exc.minor, exc.message), exc.status, exc.headers, versioned_media(request))


def versioned_media(request: Request) -> str:
    """``application/json;version=X`` for the request's supported version X; plain JSON otherwise."""
    version = requested_version(request.headers.get("accept"))
    emulator = getattr(request.app.state, "emulator", None)
    supported = emulator.catalog.api_versions if emulator is not None else ()
    return f"application/json;version={version}" if version in supported else "application/json"


def requested_version(accept: str | None) -> str | None:
    """The ``version=`` of the first JSON-compatible media range in an Accept header."""
    for media_range in (accept or "").split(","):
        media_type, *params = (piece.strip() for piece in media_range.split(";"))
        if media_type.lower() not in _VERSIONED_TYPES:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "version" and value.strip():
                return value.strip().strip('"')
    return None


def check_version(request: Request, supported: Sequence[str], *, required: bool = True) -> str | None:
    """The negotiated API version; CloudApiError 406 when it is missing or unsupported."""
    version = requested_version(request.headers.get("accept"))
    if version is None and not required:
        return None
    if version not in supported:
        listed = ", ".join(sorted(supported, key=_version_key, reverse=True))
        raise CloudApiError(
            406,
            "NOT_ACCEPTABLE",
            "The request has invalid accept header: Invalid API version requested. "
            f"Supported API versions are: [{listed}]",
        )
    return version


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))
