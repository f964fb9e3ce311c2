"""End-to-end fixtures: the CLI as a subprocess against the emulator as a subprocess, on 127.0.0.1.

- `emulator` starts ``reconciler emulator --port 0 --catalog FILE`` (a small catalog with short
  durations, `CATALOG`); killed in the finalizer.
- `stack` writes a stack folder (``reconciler.yaml`` + ``manifests/``) pointed at that emulator.

The helpers (`run_cli`, `Stack`, `Emulator`, the catalog's workflow ids) are in ``tests/support/e2e.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.e2e import CATALOG, Emulator, ReadOnly, Stack, can_mount, start_emulator, stop


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_emulator(catalog_file: Path) -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(*extra: str) -> Emulator:
        emulator = start_emulator(catalog_file, *extra)
        started.append(emulator)
        return emulator

    try:
        yield make
    finally:
        for emulator in started:
            stop(emulator.process)


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


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
