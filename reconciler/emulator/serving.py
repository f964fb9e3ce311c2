"""Serving the emulator over a real socket: ``serve`` for the CLI, ``running_server`` for tests.

The socket is bound before uvicorn starts, so port 0 works (the OS picks a free port) and the
"listening on" line always names the real port. Plain HTTP by default; TLS when given a certificate.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.catalog import DEMO_CATALOG_PATH, Catalog, read_catalog
from reconciler.emulator.options import EmulatorOptions
from reconciler.errors import ConfigError


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path``, or the demo catalog when None; CatalogError when invalid."""
    return read_catalog(DEMO_CATALOG_PATH if path is None else path)


def serve(
    host: str = "127.0.0.1",
    port: int = 8443,
    catalog_path: str | Path | None = None,
    options: EmulatorOptions = EmulatorOptions(),
    *,
    log_level: str = "warning",
    certfile: str | None = None,
    keyfile: str | None = None,
) -> None:
    """Serve the emulator ``options`` describe until interrupted; prints ``listening on
    http://HOST:PORT`` to stderr once ready.

    Raises CatalogError (a UserError) for a bad catalog, ValueError for bad fault options, ConfigError
    (a UserError, naming the address or the certificate) when the address cannot be bound or the
    certificate cannot be loaded.
    """
    if keyfile is not None and certfile is None:
        raise ConfigError("a TLS key (--keyfile) needs its certificate (--certfile)")
    catalog = load_catalog(catalog_path)
    app = create_app(catalog, options)
    config = uvicorn.Config(app, log_level=log_level, ssl_certfile=certfile, ssl_keyfile=keyfile)
    _load(config)
    sock = _bind(host, port)
    server = uvicorn.Server(config)
    url = _url(sock, tls=certfile is not None)
    asyncio.run(_serve_announcing(server, sock, url))


async def _serve_announcing(server: uvicorn.Server, sock: socket.socket, url: str) -> None:
    announcer = asyncio.create_task(_announce_when_started(server, url))
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()


async def _announce_when_started(server: uvicorn.Server, url: str) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    print(f"listening on {url}", file=sys.stderr, flush=True)


def _load(config: uvicorn.Config) -> None:
    """uvicorn's set-up (``Server.serve`` skips it once done), here so that a TLS certificate or key
    that cannot be loaded is one clear error naming them."""
    try:
        config.load()
    except OSError as err:  # ssl.SSLError is one
        why = "not a usable PEM certificate and key" if isinstance(err, ssl.SSLError) else err.strerror
        files = config.ssl_certfile if config.ssl_keyfile is None else f"{config.ssl_certfile} / {config.ssl_keyfile}"
        raise ConfigError(f"cannot load the TLS certificate {files}: {why or err}") from err


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; ConfigError naming them when it cannot be (in use, no such address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio then sets TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as err:  # socket.gaierror (a host that does not resolve) is one
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket, *, tls: bool) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


@contextmanager
def running_server(app: Starlette, host: str = "127.0.0.1", timeout: float = 10.0) -> Iterator[str]:
    """Run ``app`` under uvicorn in a background thread on a free port; yields its base URL."""
    sock = _bind(host, 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator did not start in time")
        time.sleep(0.01)
    try:
        yield _url(sock, tls=False)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
