"""The standard proxy variables: ``HTTPS_PROXY`` sends every request through a CONNECT tunnel (here a
small proxy on 127.0.0.1 that counts the tunnels it opened), and ``NO_PROXY`` bypasses it; TLS to
the endpoint is verified end to end through the tunnel (the proxy sees only ciphertext)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.tls import SERVED, Tls, https_emulator, https_stack, make_tls


class _Tunnels(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Connect)
        self.targets: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Connect(socketserver.StreamRequestHandler):
    """``CONNECT host:port`` -> ``200``, then bytes both ways until either side closes."""

    server: _Tunnels
    timeout = 30

    def handle(self) -> None:
        request = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        if len(request) < 2 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = request[1].rpartition(":")
        self.server.targets.append(request[1])
        with socket.create_connection((host, int(port)), timeout=30) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            pipe = threading.Thread(target=_copy, args=(upstream, self.connection), daemon=True)
            pipe.start()
            _copy(self.connection, upstream)
            pipe.join(timeout=30)


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


@pytest.fixture
def proxy() -> Iterator[_Tunnels]:
    server = _Tunnels()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _cert(tls: Tls) -> tuple[Path, Path]:
    leaf: trustme.LeafCert = tls.ca.issue_cert(SERVED)
    return tls.serve(leaf, "proxied")


def test_https_proxy_tunnels_every_request(tls: Tls, tmp_path: Path, proxy: _Tunnels) -> None:
    with https_emulator(tmp_path, *_cert(tls)) as emulator:
        stack = https_stack(tmp_path, emulator.url)
        stack.env.update({"RECONCILER_CA_FILE": str(tls.ca_file), "HTTPS_PROXY": proxy.url, "NO_PROXY": ""})
        result = stack.cli(["apply", "--auto-approve"], timeout=60)
        assert result.code == 0, result
    port = emulator.url.rsplit(":", 1)[1].rstrip("/")
    assert proxy.targets and set(proxy.targets) == {f"127.0.0.1:{port}"}, proxy.targets


def test_no_proxy_bypasses_the_proxy(tls: Tls, tmp_path: Path, proxy: _Tunnels) -> None:
    with https_emulator(tmp_path, *_cert(tls)) as emulator:
        stack = https_stack(tmp_path, emulator.url)
        stack.env.update({"RECONCILER_CA_FILE": str(tls.ca_file), "HTTPS_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"})
        result = stack.cli(["apply", "--auto-approve"], timeout=60)
        assert result.code == 0, result
    assert proxy.targets == []
