"""End-to-end fixtures: the CLI as a subprocess against the emulator as a subprocess, on 127.0.0.1.

- `emulator` / `make_emulator` (``tests/support/fixtures.py``) start ``reconciler emulator --port 0
  --catalog FILE`` on a small catalog with short durations (`CATALOG`); killed in the finalizer.
- `stack` writes a stack folder (``reconciler.yaml`` + ``manifests/``) pointed at that emulator.

The helpers (`run_cli`, `Stack`, `Emulator`, the catalog's workflow ids) are in ``tests/support/e2e.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.e2e import Emulator, ReadOnly, Stack, can_mount


@pytest.fixture
def make_stack(tmp_path: Path) -> Callable[..., Stack]:
    def make(emulator: Emulator, name: str = "stack", parallelism: int = 10) -> Stack:
        root = tmp_path / name
        root.mkdir()
        stack = Stack(root, emulator.url)
        stack.write_stack(parallelism)
        return stack

    return make


@pytest.fixture
def stack(make_stack: Callable[..., Stack], emulator: Emulator) -> Stack:
    return make_stack(emulator)


@pytest.fixture
def read_only() -> Iterator[ReadOnly]:
    if os.geteuid() == 0 and not can_mount():
        pytest.skip("root without the right to mount: chmod cannot make a folder read-only for root")
    breaker = ReadOnly()
    try:
        yield breaker
    finally:
        breaker.restore()
