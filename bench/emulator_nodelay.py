"""The emulator with TCP_NODELAY on its accepted sockets: ``python emulator_nodelay.py CATALOG LATENCY``.

Diagnostic only. ``reconciler.emulator.serving._bind`` creates its listening socket as
``socket.socket(family, SOCK_STREAM)`` (protocol 0), and asyncio sets TCP_NODELAY only on sockets
whose ``proto`` is ``IPPROTO_TCP`` (``asyncio.base_events._set_nodelay``). Every answer after the
first on a keep-alive connection (uvicorn writes the head and the body separately) then waits for
the client's delayed ACK: about 40 ms per request on Linux, on top of ``--latency``. This launcher
serves the same app from a socket created with ``IPPROTO_TCP``, so the bench can show what the CLI
does against a server without that stall. The fix belongs in ``serving._bind`` (one argument).
"""

from __future__ import annotations

import socket
import sys

from reconciler.emulator import serving


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


if __name__ == "__main__":
    serving._bind = _bind
    serving.serve("127.0.0.1", 0, sys.argv[1], latency=float(sys.argv[2]))
