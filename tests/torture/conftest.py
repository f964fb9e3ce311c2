"""Torture fixtures: the torture catalog for the shared emulator fixtures (``tests/support/fixtures.py``)
and stacks on both backends. Helpers live in ``tests/support/torture.py``; the figures every test
reports are printed at the end by ``tests/support/figures.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import Emulator
from tests.support.torture import CATALOG, Stack


@pytest.fixture
def emulator_catalog() -> dict[str, Any]:
    return CATALOG


@pytest.fixture
def make_stack(tmp_path: Path, make_workspace: Callable[[str], str]) -> Callable[..., Stack]:
    """``make(emulator, backend="local"|"postgres", parallelism=8, endpoint={...})``: a stack folder;
    postgres stacks get a workspace of their own (skipped without PostgreSQL), removed afterwards."""

    def make(emulator: Emulator, backend: str = "local", parallelism: int = 8, **endpoint: Any) -> Stack:
        workspace = make_workspace("") if backend == "postgres" else uuid.uuid4().hex[:12]
        root = tmp_path / f"stack-{workspace}"
        root.mkdir()
        stack = Stack(root, emulator.url, backend, workspace)
        stack.write_stack(parallelism, endpoint)
        return stack

    return make
