"""`ConnectionSlots` over a real socket (127.0.0.1): connections reused and bounded, given back when
the response is closed, a pool timeout when none frees up, and quick ACKs on every connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from reconciler.remote.transport import ConnectionSlots

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


async def test_a_connection_is_given_back_when_its_response_is_closed(server: tuple[SplitWriter, str]) -> None:
    _, url = server
    slots = ConnectionSlots(1)
    timeout = httpx.Timeout(5.0, pool=0.3)
    async with httpx.AsyncClient(base_url=url, transport=slots, timeout=timeout) as client:
        request = client.build_request("GET", "/x")
        held = await client.send(request, stream=True)  # body not read: the connection stays taken
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/x")
        await held.aclose()
        assert (await client.get("/x")).status_code == 200


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
async def test_every_connection_acks_at_once(server: tuple[SplitWriter, str]) -> None:
    """Its reads re-arm TCP_QUICKACK (what removes the ~40 ms delayed-ACK stall per request against a
    server that writes headers and body apart; the figures are in bench/README.md)."""
    _, url = server
    async with httpx.AsyncClient(base_url=url, transport=ConnectionSlots(2)) as client:
        response = await client.get("/x")
    stream = response.extensions["network_stream"]
    assert type(stream).__name__ == "_QuickAckStream"
    assert stream.get_extra_info("socket") is not None
