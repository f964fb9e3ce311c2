"""The network tripwire of tests/conftest.py works."""

from __future__ import annotations

import socket

import pytest


def test_tripwire_refuses_other_addresses() -> None:
    """The guard itself: a non-loopback address is refused before any packet leaves."""
    with socket.socket() as s, pytest.raises(RuntimeError, match=r"only 127\.0\.0\.1"):
        s.connect(("192.0.2.1", 9))
