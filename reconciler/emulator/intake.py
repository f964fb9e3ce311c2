"""How the emulator takes requests in: the HTTP edge in front of the handlers.

- **Body size**: a body over ``EmulatorOptions.max_body_bytes`` (1 MiB by default) is refused with
  413 ``REQUEST_ENTITY_TOO_LARGE``, whether announced by ``Content-Length`` or streamed. The rest of
  the body is read and thrown away first (up to `_DRAIN_CAP`), so the client gets the answer and the
  kept-alive connection stays usable.
- **Media type**: operations that consume JSON (the start) answer 415 ``UNSUPPORTED_MEDIA_TYPE`` for
  any ``Content-Type`` but ``application/json`` (parameters allowed) or ``application/*+json``,
  a missing one included, as a JAX-RS/Spring server does.
- **Strict JSON**: UTF-8 only; ``NaN``/``Infinity``, numbers beyond a double (``1e400``), integers
  of more than 400 digits and nesting deeper than `MAX_DEPTH` are a 400 ``BAD_REQUEST`` with a CloudAPI
  body, never a crash: the value would not survive the trip to vRO, and the emulator must never have
  to write non-standard JSON back.
- **Trailing slash**: ``.../executions/`` is answered exactly as ``.../executions``. VCD's CloudAPI is
  a JAX-RS application (its path templates, ``{id:((?!provider|current).)+}``, are JAX-RS syntax), and
  JAX-RS matching (spec 3.7.3) accepts a final ``/`` after a resource method's template; so no
  redirect, the same answer.
- **Unexpected errors**: an exception escaping a handler is logged and answered 500
  ``INTERNAL_SERVER_ERROR`` with a CloudAPI body and a request id (no internals), without closing
  the connection.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.emulator.answers import CloudApiError, bad_request, error_response
from reconciler.errors import InvalidValueError, ReconcilerError

MAX_DEPTH = 64
_MAX_INT_DIGITS = 400
_DRAIN_CAP = 64 * 1_048_576  # beyond this much unread body, answer and close instead of reading on
_log = logging.getLogger("reconciler.emulator")


class _BodyTooLarge(ReconcilerError):
    """A request body over the limit (answered 413 at the edge)."""


def _refuse_constant(name: str) -> Any:
    raise InvalidValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidValueError(f"{text} is beyond the range of a JSON number (a double)")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise InvalidValueError(f"a number of {len(text.lstrip('-'))} digits is beyond the range of a JSON number")
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise InvalidValueError(f"{text[:20]}... is beyond the range of a JSON number (a double)") from None
    return value


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body; CloudApiError 400 for anything but standard, sane JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"The request body is not UTF-8 JSON: {exc.reason} at byte {exc.start}") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except RecursionError as exc:
        raise bad_request(f"The request body is nested more than {MAX_DEPTH} levels deep") from exc
    except ValueError as exc:  # json.JSONDecodeError is one
        raise bad_request(f"The request body is not valid JSON: {exc}") from exc
    if _depth(value) > MAX_DEPTH:
        raise bad_request(f"The request body is nested more than {MAX_DEPTH} levels deep")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: no recursion limit to hit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in node)
    return deepest


def is_json_media_type(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json_body(request: Request) -> Any:
    """The JSON body of an operation that consumes JSON: 415 unless it is JSON, 400 unless valid.

    An empty body reads as ``{}`` (an ExecutionContext without parameters)."""
    content_type = request.headers.get("content-type")
    if not is_json_media_type(content_type):
        sent = f"'{content_type}'" if content_type else "no Content-Type"
        raise CloudApiError(
            415, "UNSUPPORTED_MEDIA_TYPE", f"The request body has {sent}; this operation consumes application/json"
        )
    raw = await request.body()
    return parse_json(raw) if raw.strip() else {}


class HttpEdge:
    """ASGI middleware: trailing slashes, the body size limit, and a CloudAPI 500 for the unexpected."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _without_trailing_slash(scope)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope, receive, send, declared)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._too_large(scope, receive, send, received)
        except Exception:
            _log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if not started:
                error = CloudApiError(500, "INTERNAL_SERVER_ERROR", "The server could not answer this request")
                await _send_error(scope, receive, send, error)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        drained = await _drain(receive, _DRAIN_CAP)
        message = f"The request body ({size} bytes or more) is over this server's limit of {self.max_body_bytes} bytes"
        headers = {} if drained else {"Connection": "close"}
        await _send_error(scope, receive, send, CloudApiError(413, "REQUEST_ENTITY_TOO_LARGE", message, headers))


def _without_trailing_slash(scope: Scope) -> Scope:
    path: str = scope["path"]
    if len(path) <= 1 or not path.endswith("/"):
        return scope
    trimmed = path.rstrip("/") or "/"
    raw_path: bytes | None = scope.get("raw_path")
    return {**scope, "path": trimmed, "raw_path": raw_path.rstrip(b"/") or b"/" if raw_path else raw_path}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive, cap: int) -> bool:
    """Read and discard the rest of the request body; False when it went on past ``cap`` bytes."""
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return True
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if seen > cap:
            return False


async def _send_error(scope: Scope, receive: Receive, send: Send, error: CloudApiError) -> None:
    await error_response(Request(scope), error)(scope, receive, send)
