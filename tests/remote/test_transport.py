"""`ConnectionSlots` over a real socket (127.0.0.1): connections reused and bounded, given back once
the answer is read, quick ACKs on every connection; answers read by length, by chunks and to the end
of the stream; a broken answer, a timeout and a refused connection each the error httpx would raise."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from reconciler.remote.transport import ConnectionSlots, _Connection

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]
BODY = b'{"state":"running"}'


class SplitWriter:
    """A keep-alive HTTP/1.1 server writing headers and body apart, Nagle on (as some proxies do);
    ``hold`` makes every answer wait until it is set."""

    def __init__(self) -> None:
        self.connections = 0
        self.hold = asyncio.Event()
        self.hold.set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                await self.hold.wait()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                )
                await writer.drain()
                writer.write(BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def server(anyio_backend: str) -> AsyncIterator[tuple[SplitWriter, str]]:
    handler = SplitWriter()
    served = await asyncio.start_server(handler.handle, "127.0.0.1", 0)
    port = served.sockets[0].getsockname()[1]
    try:
        yield handler, f"http://127.0.0.1:{port}"
    finally:
        served.close()


async def test_sequential_requests_reuse_one_connection(server: tuple[SplitWriter, str]) -> None:
    handler, url = server
    slots = ConnectionSlots(8)
    async with httpx.AsyncClient(base_url=url, transport=slots) as client:
        for _ in range(5):
            assert (await client.get("/x")).json() == {"state": "running"}
            assert (await client.post("/x", json={"a": 1})).status_code == 200
        assert slots.connections == 1
    assert handler.connections == 1


async def test_concurrent_requests_open_at_most_size_connections(server: tuple[SplitWriter, str]) -> None:
    handler, url = server
    slots = ConnectionSlots(4)
    async with httpx.AsyncClient(base_url=url, transport=slots) as client:
        answers = await asyncio.gather(*(client.get("/x") for _ in range(40)))
        assert slots.connections == 4
    assert [a.status_code for a in answers] == [200] * 40
    assert handler.connections == 4


async def test_a_connection_is_given_back_once_its_answer_is_read(server: tuple[SplitWriter, str]) -> None:
    """The answer is read whole before the connection is given back: a response the caller never
    reads nor closes holds nothing."""
    handler, url = server
    slots = ConnectionSlots(1)
    timeout = httpx.Timeout(5.0, pool=0.3)
    async with httpx.AsyncClient(base_url=url, transport=slots, timeout=timeout) as client:
        held = await client.send(client.build_request("GET", "/x"), stream=True)
        assert (await client.get("/x")).status_code == 200
        assert (await held.aread()) == BODY
    assert handler.connections == 1


async def test_a_waiting_request_gets_the_connection_given_back(server: tuple[SplitWriter, str]) -> None:
    handler, url = server
    handler.hold.clear()
    slots = ConnectionSlots(1)
    async with httpx.AsyncClient(base_url=url, transport=slots) as client:
        first = asyncio.ensure_future(client.get("/x"))
        second = asyncio.ensure_future(client.get("/x"))
        await asyncio.sleep(0.1)
        assert not first.done() and not second.done()
        handler.hold.set()
        assert [(await first).status_code, (await second).status_code] == [200, 200]
    assert handler.connections == 1


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
async def test_every_answer_is_acked_at_once(server: tuple[SplitWriter, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """TCP_QUICKACK is re-armed once the request is written and again before the body is read (what
    removes the ~40 ms delayed-ACK stall per request against a server that writes headers and body
    apart; the figures are in bench/README.md)."""
    _, url = server
    armed: list[int] = []
    original = _Connection._quick_ack

    def counted(self: _Connection) -> None:
        armed.append(self._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) if self._socket else -1)
        original(self)

    monkeypatch.setattr(_Connection, "_quick_ack", counted)
    async with httpx.AsyncClient(base_url=url, transport=ConnectionSlots(2)) as client:
        for _ in range(3):
            assert (await client.get("/x")).status_code == 200
    assert len(armed) == 6 and -1 not in armed


class RawServer:
    """Answers each request on a connection with the next of ``answers`` (raw bytes; ``None``: close
    the connection without answering), then keeps the connection open or closes it."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                await reader.readuntil(b"\r\n\r\n")
                answer = self.answers.pop(0)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def raw(anyio_backend: str) -> AsyncIterator[tuple[list[RawServer], str]]:
    holder: list[RawServer] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await holder[0].handle(reader, writer)

    served = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield holder, f"http://127.0.0.1:{served.sockets[0].getsockname()[1]}"
    finally:
        served.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_chunked_close_delimited_and_bodiless_answers(raw: tuple[list[RawServer], str]) -> None:
    holder, url = raw
    holder.append(
        RawServer(
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n",
                b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nall until the end",
            ]
        )
    )
    async with httpx.AsyncClient(base_url=url, transport=ConnectionSlots(1)) as client:
        chunked = await client.get("/a")
        empty = await client.delete("/b")
        closing = await client.get("/c")
    assert (chunked.status_code, chunked.content) == (200, b"abcde")
    assert (empty.status_code, empty.content, empty.headers["x-a"]) == (204, b"", "b")
    assert (closing.status_code, closing.reason_phrase, closing.content) == (404, "Not Found", b"all until the end")
    assert holder[0].connections == 1


async def test_a_connection_the_server_closed_is_not_used_again(raw: tuple[list[RawServer], str]) -> None:
    holder, url = raw
    holder.append(RawServer([OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"), OK]))
    async with httpx.AsyncClient(base_url=url, transport=ConnectionSlots(1)) as client:
        assert (await client.get("/a")).text == "ok"
        await asyncio.sleep(0.05)
        assert (await client.get("/b")).text == "ok"
    assert holder[0].connections == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (None, httpx.RemoteProtocolError),  # closed without answering: it may have been processed
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort", httpx.RemoteProtocolError),
        (b"SMTP ready\r\n\r\n", httpx.RemoteProtocolError),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", httpx.RemoteProtocolError),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\nok", httpx.RemoteProtocolError),  # > 64 KiB
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 201 + b"\r\n", httpx.RemoteProtocolError),
    ],
)
async def test_a_broken_answer_is_a_protocol_error_and_the_connection_is_dropped(
    raw: tuple[list[RawServer], str], answer: bytes | None, error: type[Exception]
) -> None:
    holder, url = raw
    holder.append(RawServer([answer, OK]))
    slots = ConnectionSlots(1)
    async with httpx.AsyncClient(base_url=url, transport=slots) as client:
        with pytest.raises(error):
            await client.post("/start", json={"a": 1})
        assert (await client.get("/again")).text == "ok"  # on a new connection
    assert holder[0].connections == 2


async def test_no_answer_in_time_is_a_read_timeout(raw: tuple[list[RawServer], str]) -> None:
    holder, url = raw
    holder.append(RawServer([b"", b""]))  # writes nothing, then waits for a next request

    async with httpx.AsyncClient(base_url=url, transport=ConnectionSlots(1), timeout=httpx.Timeout(0.3)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


async def test_a_refused_connection_is_a_connect_error(anyio_backend: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        async with httpx.AsyncClient(transport=ConnectionSlots(1)) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/x")
