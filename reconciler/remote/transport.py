"""`ConnectionSlots`: the client's HTTP transport, whose cost per request does not grow with its connections.

Why not httpx's own pool: httpcore's ``AsyncConnectionPool`` re-examines every connection it holds on
each request it queues and on each it releases (``_assign_requests_to_connections``: an
``is_idle`` count inside a loop over the connections, O(n^2), and an ``is_readable`` socket probe
of every idle connection, O(n) system calls). With 52 connections (``--parallelism 50``) that was
~4 ms of CPU per request against ~0.15 ms for a bare ``http.client`` thread (bench/README.md,
"The HTTP path"); past a few dozen connections, apply was CPU-bound on the pool's bookkeeping.

Here each connection is its own one-connection httpx transport (``httpx.AsyncHTTPTransport``: the
same httpcore connection code, h11, TLS, timeouts and error mapping as before), and a request takes
a free one from a LIFO stack in O(1): the pool's bookkeeping is over one connection, whatever the
number of them. LIFO keeps the fewest connections busy (the others expire after ``keepalive_expiry``)
and reuses the warmest. A connection is given back when the response is closed (read to its end
or closed early), never while its body is still to be read. When every one is busy, requests wait
in order, bounded by the request's ``pool`` timeout (`httpx.PoolTimeout`), as httpx's pool does.
One SSL context is made and shared by all of them (making one loads the CA store: ~10 ms each).

HTTP/2 (one connection multiplexing every request) would also keep the cost flat, but it needs the
``h2`` package and a server that offers it; VCD's usual proxies and the emulator (uvicorn) speak
HTTP/1.1, so keep-alive HTTP/1.1 connections are what this is built for.

Delayed ACKs: a server that writes an answer's headers and body in two writes without TCP_NODELAY
(Nagle's algorithm on; common behind some proxies) holds the body until the client ACKs the
headers, and Linux delays that ACK by ~40 ms on a keep-alive connection: every request took ~44 ms
(measured: bare ``http.client`` the same). The client's own TCP_NODELAY (asyncio sets it already)
does not help; re-arming TCP_QUICKACK before each read does (44 ms -> ~1-3 ms per request), so each
connection's socket gets it (`_QuickAcks`; one ``setsockopt`` per read, Linux only).

Sent by a deadline (`sent_by`): a start is sent only while the lock check made just before it is
fresh. A process frozen (SIGSTOP, a VM paused) after its check but before its request went out must
not send it when it wakes, minutes later, after another apply took the lock over and its hand-over
wait ended. So the check's age is looked at as the request's first bytes are written, at the last
moment: too old, nothing is written and `StaleCheckError` (a connect error: never sent) makes the
client check the lock again before it tries again.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import typing
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

KEEPALIVE_EXPIRY = 5.0  # seconds an unused connection is kept (httpx's default)


class StaleCheckError(httpcore.ConnectError):
    """A request due by a deadline (`sent_by`) found it passed as its first bytes were to be written:
    nothing was written (httpx maps it to a `ConnectError`: never sent)."""


@dataclass
class _Due:
    deadline: float | None  # time.monotonic(); None once the request's first bytes are out


_DUE: ContextVar[_Due | None] = ContextVar("reconciler_request_due", default=None)


@contextmanager
def sent_by(deadline: float) -> Iterator[None]:
    """The request this task sends inside the block is written only if its first bytes go out before
    ``deadline`` (``time.monotonic()``); else `StaleCheckError` and nothing is written."""
    token = _DUE.set(_Due(deadline))
    try:
        yield
    finally:
        _DUE.reset(token)


class ConnectionSlots(httpx.AsyncBaseTransport):
    """Up to ``size`` keep-alive connections, each a one-connection ``httpx.AsyncHTTPTransport``."""

    def __init__(
        self,
        size: int,
        verify: ssl.SSLContext | bool = True,
        *,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._size = max(1, size)
        self._context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=keepalive_expiry)
        self._all: list[_OneConnection] = []
        self._free: list[httpx.AsyncBaseTransport] = []  # a stack: the last given back is taken first
        self._waiting: deque[asyncio.Future[httpx.AsyncBaseTransport]] = deque()

    @property
    def connections(self) -> int:
        """How many connections were opened so far (at most ``size``)."""
        return len(self._all)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot = await self._take(request)
        try:
            response = await slot.handle_async_request(request)
        except BaseException:
            self._give_back(slot)
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_GivenBackOnClose(response.stream, lambda: self._give_back(slot)),
            extensions=response.extensions,
        )

    async def _take(self, request: httpx.Request) -> httpx.AsyncBaseTransport:
        if self._free:
            return self._free.pop()
        if len(self._all) < self._size:
            slot = _OneConnection(self._context, self._limits)
            self._all.append(slot)
            return slot
        waiter: asyncio.Future[httpx.AsyncBaseTransport] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        timeout = request.extensions.get("timeout", {}).get("pool")
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # handed over as the wait ended: pass it on
                self._give_back(waiter.result())
            waiter.cancel()
            raise httpx.PoolTimeout(f"no free connection within {timeout:g}s", request=request) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())
            waiter.cancel()
            raise

    def _give_back(self, slot: httpx.AsyncBaseTransport) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._free.append(slot)

    async def aclose(self) -> None:
        for slot in self._all:
            await slot.aclose()
        self._all.clear()
        self._free.clear()

    async def __aenter__(self) -> ConnectionSlots:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class _OneConnection(httpx.AsyncHTTPTransport):
    """httpx's transport over one keep-alive connection whose socket ACKs at once (see the module doc).

    httpx does not take a network backend; its pool (``_pool``, httpcore's) is made again with one
    (httpx is pinned below 0.29; tests/remote/test_transport.py fails if this stops working)."""

    def __init__(self, context: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_QuickAcks(),
        )


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _QuickAcks(AsyncNetworkBackend):
    """httpcore's default backend, with TCP_QUICKACK re-armed before every read (where Linux has it)."""

    def __init__(self) -> None:
        from httpcore._backends.auto import AutoBackend  # what httpcore uses when given no backend

        self._inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _QuickAckStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _QuickAckStream(AsyncNetworkStream):
    """A connection's stream: TCP_QUICKACK re-armed before each read (where Linux has it), and a
    request's deadline (`sent_by`) looked at before its first write."""

    def __init__(self, inner: AsyncNetworkStream, sock: socket.socket | None = None) -> None:
        self._inner = inner
        self._socket = sock or inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._socket is not None and _QUICKACK is not None:
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:  # closed meanwhile: the read says so
                pass
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        due = _DUE.get()
        if due is not None and due.deadline is not None:
            late = time.monotonic() - due.deadline
            if late > 0:
                raise StaleCheckError(f"not sent: its lock check is {late:.1f}s past due (checking again)")
            due.deadline = None  # the first bytes go out now; the rest of the request follows them
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> AsyncNetworkStream:
        return _QuickAckStream(await self._inner.start_tls(ssl_context, server_hostname, timeout), self._socket)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GivenBackOnClose(httpx.AsyncByteStream):
    """A response body that gives its connection back once closed (once, however often it is closed)."""

    def __init__(self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, give_back: Callable[[], None]) -> None:
        self._inner = inner
        self._give_back: Callable[[], None] | None = give_back

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._inner, httpx.AsyncByteStream)
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            if isinstance(self._inner, httpx.AsyncByteStream):
                await self._inner.aclose()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:
                give_back()
