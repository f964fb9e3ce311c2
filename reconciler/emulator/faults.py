"""Latency and injected faults: the unreliable network and servers a real client must survive.

A raw ASGI middleware in front of the app. For each faultable request (the ``/cloudapi/workflows``
calls, and the login calls when asked) it draws from a seeded RNG and, with probability ``rate``,
inflicts one of the ``kinds``:

- ``500``, ``502``: an error answer; the request was not processed.
- ``503``, ``429``: an error answer with ``Retry-After``; not processed (a client may simply retry).
- ``504``: the request IS processed, then the gateway answers 504 (the answer of a timed-out proxy).
- ``drop``: the connection closes without an answer; not processed.
- ``lost``: the request IS processed, then the connection closes without an answer.

Closing without an answer: over a real socket (uvicorn) the middleware closes the connection's
transport, so the client sees the server disconnect (httpx: ``RemoteProtocolError`` / ``ReadError``),
never a 500. In-process (``httpx.ASGITransport``) there is no socket, so it raises
``ConnectionDropped``, which ASGITransport lets through to the caller: clients treat that class as a
transport error. Tests can also queue faults for the next matching requests (``enqueue``), which is
how an exactly-once test makes *this* start's answer get lost.
"""

from __future__ import annotations

import json
import random
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.errors import InvalidValueError

ALL_FAULT_KINDS = ("500", "502", "503", "504", "429", "drop", "lost")
_PROCESSED = ("504", "lost")
_LOGIN_PREFIXES = ("/cloudapi/1.0.0/sessions", "/oauth/")


class ConnectionDropped(ConnectionError):
    """In-process stand-in for a connection closed without an answer.

    ``processed`` tells tests whether the server acted on the request (``lost``) or not (``drop``);
    a client cannot know, and must not look.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.processed = kind in _PROCESSED
        super().__init__(f"emulator dropped the connection ({kind})")


@dataclass(frozen=True)
class QueuedFault:
    kind: str
    method: str | None
    path_contains: str | None

    def matches(self, scope: Scope) -> bool:
        method_ok = self.method is None or scope["method"] == self.method.upper()
        return method_ok and (self.path_contains is None or self.path_contains in scope["path"])


class FaultPolicy:
    """Which requests get latency and which get a fault: seeded draws plus a queue for tests."""

    def __init__(
        self,
        *,
        rate: float = 0.0,
        kinds: Sequence[str] = ALL_FAULT_KINDS,
        latency: float = 0.0,
        seed: int | None = None,
        include_login: bool = False,
        retry_after: int = 1,
    ) -> None:
        unknown = set(kinds) - set(ALL_FAULT_KINDS)
        if unknown or not kinds:
            raise InvalidValueError(f"fault kinds must be among {', '.join(ALL_FAULT_KINDS)}; got {sorted(kinds)}")
        if not 0.0 <= rate <= 1.0 or latency < 0:
            raise InvalidValueError("fault rate must be in [0, 1] and latency >= 0")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.latency = latency
        self.include_login = include_login
        self.retry_after = retry_after
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._queue: deque[QueuedFault] = deque()

    def enqueue(self, kind: str, *, method: str | None = None, path_contains: str | None = None) -> None:
        """Inflict ``kind`` on the next faultable request matching ``method`` and ``path_contains``."""
        if kind not in ALL_FAULT_KINDS:
            raise InvalidValueError(f"unknown fault kind {kind!r}")
        self._queue.append(QueuedFault(kind, method, path_contains))

    def faultable(self, path: str) -> bool:
        return path.startswith("/cloudapi/workflows") or (self.include_login and path.startswith(_LOGIN_PREFIXES))

    def pick(self, scope: Scope) -> str | None:
        """The fault for this request, if any (queued faults first, then the seeded draw)."""
        if not self.faultable(scope["path"]):
            return None
        queued = next((q for q in self._queue if q.matches(scope)), None)
        if queued is not None:
            self._queue.remove(queued)
            kind: str | None = queued.kind
        elif self.rate and self._rng.random() < self.rate:
            kind = self._rng.choice(self.kinds)
        else:
            kind = None
        if kind is not None:
            self.injected[kind] += 1
        return kind


class FaultMiddleware:
    """ASGI middleware carrying out a FaultPolicy (never on ``/_emulator``)."""

    def __init__(self, app: ASGIApp, policy: FaultPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        if self.policy.latency:
            await anyio.sleep(self.policy.latency)
        kind = self.policy.pick(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        if kind in _PROCESSED:
            await self.app(scope, receive, _discard)
        if kind in ("drop", "lost"):
            await _close_without_answer(receive, kind)
            return
        await _send_error(send, int(kind), self.policy.retry_after)


async def _discard(message: Message) -> None:
    """A ``send`` that throws the answer away: the request is processed, the client never hears."""


_REASONS = {
    500: ("INTERNAL_SERVER_ERROR", "Injected fault: internal server error"),
    502: ("BAD_GATEWAY", "Injected fault: bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "Injected fault: service unavailable"),
    504: ("GATEWAY_TIMEOUT", "Injected fault: gateway timeout"),
    429: ("TOO_MANY_REQUESTS", "Injected fault: too many requests"),
}


async def _send_error(send: Send, status: int, retry_after: int) -> None:
    minor, message = _REASONS[status]
    body = json.dumps({"minorErrorCode": minor, "message": message, "stackTrace": ""}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (429, 503):
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _close_without_answer(receive: Receive, kind: str) -> None:
    transport = _socket_transport(receive)
    if transport is None:
        raise ConnectionDropped(kind)
    transport.close()
    for _ in range(3):
        await anyio.sleep(0)  # let the server notice the disconnect before the app returns


def _socket_transport(receive: Receive) -> Any:
    """uvicorn's asyncio transport behind ``receive`` (a bound method of its request cycle), if any."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    return transport if transport is not None and hasattr(transport, "close") else None
