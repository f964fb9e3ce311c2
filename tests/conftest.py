"""Suite-wide guards and markers.

A tripwire: no test may reach a network address outside the loopback range. Every socket connect
in the test process goes through `_guarded_connect`, which refuses anything but 127.0.0.0/8, ::1
and Unix sockets (subprocesses started by tests are pointed at 127.0.0.1 by construction).

Every test under ``tests/e2e``, ``tests/examples`` and ``tests/torture`` is marked ``slow`` here, by
directory: ``make unit`` runs the others (``-m "not slow"``). Shared helpers live in ``tests/support``;
the fixtures that several directories use (emulators, PostgreSQL workspaces) in
``tests/support/fixtures.py``, the pytest-xdist schedule (longest tests first) in
``tests/support/scheduling.py`` and the torture figures in ``tests/support/figures.py``, all loaded as
plugins (the main process of pytest-xdist loads this file and its plugins, no other conftest).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("tests.support.fixtures", "tests.support.scheduling", "tests.support.figures")

SLOW_DIRECTORIES = frozenset({"e2e", "examples", "torture"})

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _allowed(address):
        raise RuntimeError(f"test tried to reach {address!r}: only 127.0.0.1 is allowed in tests")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _allowed(address):
        raise RuntimeError(f"test tried to reach {address!r}: only 127.0.0.1 is allowed in tests")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign, assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that lives in one of `SLOW_DIRECTORIES`."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.path.relative_to(here).parts[0] in SLOW_DIRECTORIES:
            item.add_marker(pytest.mark.slow)
