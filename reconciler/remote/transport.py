"""`ConnectionSlots`: the client's HTTP transport, whose cost per request does not grow with its connections.

Why not httpx's own pool: httpcore's ``AsyncConnectionPool`` re-examines every connection it holds on
each request it queues and on each it releases (``_assign_requests_to_connections``: an
``is_idle`` count inside a loop over the connections, O(n^2), and an ``is_readable`` socket probe
of every idle connection, O(n) system calls). With 52 connections (``--parallelism 50``) that was
~4 ms of CPU per request against ~0.15 ms for a bare ``http.client`` thread (bench/README.md,
"The HTTP path"); past a few dozen connections, apply was CPU-bound on the pool's bookkeeping.

A request takes a free connection (`_Connection`) from a LIFO stack in O(1) and gives it back once
its answer is read: no bookkeeping over the other connections. LIFO keeps the fewest connections
busy (the others expire after ``keepalive_expiry``) and reuses the warmest. When every one is busy,
requests wait in order, bounded by the request's ``pool`` timeout (`httpx.PoolTimeout`), as httpx's
pool does. One SSL context is made and shared by all of them (making one loads the CA store: ~10 ms
each).

Each connection speaks HTTP/1.1 itself, on asyncio's streams: the request written whole (httpx built
it: headers, Host, Content-Length, the JSON body), the answer read whole (status line, headers, then
a body by Content-Length, by chunks, or to the end of the stream) and handed to httpx as a
``Response`` (which decodes any Content-Encoding as usual). The first version of this transport kept
httpcore under each slot (a one-connection ``httpx.AsyncHTTPTransport``); profiled at
``--parallelism 200`` (bench/README.md), that stack (the httpx-to-httpcore request and response, the
one-connection pool, h11's state machine, anyio's stream and cancel scopes, the streamed body and its
close) was a third of apply's CPU. The answers apply reads are small JSON documents; what this reads
is what VCD and the emulator send. Errors are httpx's own classes, chosen by what reached the
server: nothing written (``ConnectError``, ``ConnectTimeout``: never sent) or something written
(``WriteError``, ``ReadError``, ``ReadTimeout``, ``RemoteProtocolError``: it may have been
processed), which is what exactly-once starts rely on. Behind a proxy, the client uses httpx's own
pool, which speaks to it (``client.py``).

HTTP/2 (one connection multiplexing every request) would also keep the cost flat, but it needs the
``h2`` package and a server that offers it; VCD's usual proxies and the emulator (uvicorn) speak
HTTP/1.1, so keep-alive HTTP/1.1 connections are what this is built for.

Delayed ACKs: a server that writes an answer's headers and body in two writes without TCP_NODELAY
(Nagle's algorithm on; common behind some proxies) holds the body until the client ACKs the
headers, and Linux delays that ACK by ~40 ms on a keep-alive connection: every request took ~44 ms
(measured: bare ``http.client`` the same). The client's own TCP_NODELAY (asyncio sets it already)
does not help; re-arming TCP_QUICKACK before each read does (44 ms -> ~1-3 ms per request), so each
connection re-arms it once its request is written and again before a body is read (one
``setsockopt`` each, Linux only).

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType

import httpcore
import httpx

from reconciler.errors import ReconcilerError

KEEPALIVE_EXPIRY = 5.0  # seconds an unused connection is kept (httpx's default)


class StaleCheckError(ReconcilerError):
    """A request due by a deadline (`sent_by`) found it passed as its first bytes were to be written:
    nothing was written. The transport raises an `httpx.ConnectError` (never sent) caused by it, which
    the client turns into a `TemporaryRemoteError`."""


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
    """Up to ``size`` keep-alive connections (`_Connection`), taken from a LIFO stack in O(1)."""

    def __init__(
        self,
        size: int,
        verify: ssl.SSLContext | bool = True,
        *,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._size = max(1, size)
        self._verify = verify
        self._context = verify if isinstance(verify, ssl.SSLContext) else None
        self._keepalive_expiry = keepalive_expiry
        self._all: list[_Connection] = []
        self._free: list[_Connection] = []  # a stack: the last given back is taken first
        self._waiting: deque[asyncio.Future[_Connection]] = deque()

    @property
    def connections(self) -> int:
        """How many connections were opened so far (at most ``size``)."""
        return len(self._all)

    def _tls(self) -> ssl.SSLContext:
        """The TLS context, made for the first ``https`` connection (with the CA bundle: ~20 ms, for
        nothing on a plain HTTP endpoint)."""
        if self._context is None:
            self._context = httpx.create_ssl_context(verify=self._verify)
        return self._context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot = await self._take(request)
        try:
            return await slot.exchange(request)
        finally:
            self._give_back(slot)

    async def _take(self, request: httpx.Request) -> _Connection:
        if self._free:
            return self._free.pop()
        if len(self._all) < self._size:
            slot = _Connection(self._tls, self._keepalive_expiry)
            self._all.append(slot)
            return slot
        waiter: asyncio.Future[_Connection] = asyncio.get_running_loop().create_future()
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

    def _give_back(self, slot: _Connection) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._free.append(slot)

    async def aclose(self) -> None:
        for slot in self._all:
            slot.close()
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


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
_LINE_LIMIT = 65536  # the longest status line and headers read (httpcore's h11 allows 64 KiB of headers)
_NO_BODY = frozenset({204, 304})


class _Connection:
    """One keep-alive HTTP/1.1 connection on asyncio's streams: a request written whole, its answer read
    whole (status line, headers, a body by Content-Length, chunks or end of stream) before the
    connection is given back. Errors are httpx's: ``ConnectError``/``ConnectTimeout`` before anything
    was written (the request was never sent), ``WriteError``/``WriteTimeout``, ``ReadError``/
    ``ReadTimeout`` and ``RemoteProtocolError`` after (it may have been processed)."""

    def __init__(self, tls: Callable[[], ssl.SSLContext], keepalive_expiry: float) -> None:
        self._tls = tls  # the slots' TLS context, made on first use
        self._keepalive_expiry = keepalive_expiry
        self._origin: tuple[str, str, int] | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._socket: socket.socket | None = None
        self._idle_since = 0.0

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = self._socket = None

    async def exchange(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        if not self._usable(origin):
            self.close()
            await self._connect(origin, timeouts.get("connect"), request)
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        _check_due(request)
        try:
            try:
                async with asyncio.timeout(timeouts.get("write")):
                    writer.write(_head(request) + await request.aread())
                    await writer.drain()
            except TimeoutError:
                raise httpx.WriteTimeout("the request could not be written in time", request=request) from None
            except OSError as exc:
                raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc
            self._quick_ack()
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    response, keep = await self._read_response(reader, request)
            except TimeoutError:
                raise httpx.ReadTimeout("no answer in time", request=request) from None
            except (
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                httpcore.RemoteProtocolError,
                ValueError,
            ) as exc:
                raise httpx.RemoteProtocolError(_protocol_words(exc), request=request) from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        except BaseException:
            self.close()  # half a request or half an answer on it: never used again
            raise
        if keep:
            self._idle_since = time.monotonic()
        else:
            self.close()
        return response

    def _usable(self, origin: tuple[str, str, int]) -> bool:
        """A kept connection is used again only if it goes where asked, is not past its keep-alive
        expiry, and the server has not closed it nor sent anything unasked meanwhile."""
        reader = self._reader
        return (
            reader is not None
            and self._origin == origin
            and self._writer is not None
            and not self._writer.is_closing()
            and not reader.at_eof()
            and not reader._buffer  # type: ignore[attr-defined]  # bytes nobody asked for: not in step
            and time.monotonic() - self._idle_since < self._keepalive_expiry
        )

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None, request: httpx.Request) -> None:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=_LINE_LIMIT
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host}:{port} in time", request=request) from None
        except (OSError, ssl.SSLError) as exc:  # refused, unreachable, unresolvable, TLS refused
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        self._origin = origin
        self._socket = self._writer.get_extra_info("socket")
        self._idle_since = time.monotonic()

    def _quick_ack(self) -> None:
        """TCP_QUICKACK re-armed (Linux): the answer's parts are ACKed at once (see the module doc)."""
        if self._socket is not None and _QUICKACK is not None:
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:  # closed meanwhile: the read says so
                pass

    async def _read_response(self, reader: asyncio.StreamReader, request: httpx.Request) -> tuple[httpx.Response, bool]:
        while True:
            version, status, reason, headers = _head_of(await reader.readuntil(b"\r\n\r\n"))
            if status >= 200 or status == 101:
                break
            self._quick_ack()  # 100 Continue and the like: the answer follows
        fields = {name.lower(): value for name, value in headers}
        keep = version == b"HTTP/1.1" and fields.get(b"connection", b"").lower() != b"close"
        if request.method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
            body = b""
        elif b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            self._quick_ack()
            body = await _read_chunks(reader)
        elif b"content-length" in fields:
            self._quick_ack()
            body = await reader.readexactly(int(fields[b"content-length"]))
        else:  # the body ends with the connection
            body, keep = await reader.read(), False
        extensions = {"http_version": version, "reason_phrase": reason, "network_stream": _StreamInfo(self._writer)}
        return httpx.Response(status, headers=headers, content=body, request=request, extensions=extensions), keep


class _StreamInfo:
    """A response's ``network_stream`` extension, as httpcore gives it: ``get_extra_info`` ("ssl_object",
    "socket", "server_addr", "client_addr") about the connection that carried it."""

    _NAMES: typing.ClassVar[dict[str, str]] = {"server_addr": "peername", "client_addr": "sockname"}

    def __init__(self, writer: asyncio.StreamWriter | None) -> None:
        self._writer = writer

    def get_extra_info(self, info: str) -> typing.Any:
        return self._writer.get_extra_info(self._NAMES.get(info, info)) if self._writer is not None else None


def _check_due(request: httpx.Request) -> None:
    """`sent_by`: nothing is written once the request's deadline has passed (a connect error: the
    client checks its lock again before it tries again)."""
    due = _DUE.get()
    if due is not None and due.deadline is not None:
        late = time.monotonic() - due.deadline
        if late > 0:
            stale = StaleCheckError(f"not sent: its lock check is {late:.1f}s past due (checking again)")
            raise httpx.ConnectError(str(stale), request=request) from stale
        due.deadline = None  # the first bytes go out now; the rest of the request follows them


def _head(request: httpx.Request) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    lines.extend(b"%s: %s" % (name, value) for name, value in request.headers.raw)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def _head_of(head: bytes) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
    """An answer's status line and header lines, read at once up to the blank line that ends them
    (one read, not one per line): version, status, reason phrase, headers."""
    status_line, *lines = head[:-4].split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise httpcore.RemoteProtocolError(f"not an HTTP/1.1 status line: {status_line[:80]!r}")
    if len(lines) > 200:
        raise httpcore.RemoteProtocolError("more than 200 header lines")
    return version, int(code), reason, [_header(line) for line in lines]


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, colon, value = line.partition(b":")
    if not colon or not name or name != name.strip():
        raise httpcore.RemoteProtocolError(f"not a header line: {line[:80]!r}")
    return name, value.strip()


async def _read_trailers(reader: asyncio.StreamReader) -> None:
    """A chunked body's trailer lines (checked, then ignored), up to the blank line."""
    lines = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        _header(line[:-2])
        lines += 1
        if lines > 200:
            raise httpcore.RemoteProtocolError("more than 200 trailer lines")


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            await _read_trailers(reader)
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise httpcore.RemoteProtocolError("a chunk does not end with CRLF")


def _protocol_words(exc: BaseException) -> str:
    if isinstance(exc, asyncio.IncompleteReadError):
        return "Server disconnected without sending a complete response."
    return str(exc)
