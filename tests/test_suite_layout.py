"""The suite's own rules: helpers come from ``tests.support`` (no ``from conftest import``, no
``sys.path`` edits), and the end-to-end, example and torture tests are marked ``slow`` by directory,
so ``make unit`` (``-m "not slow"``) runs none of them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SLOW_DIRECTORIES

TESTS = Path(__file__).parent
FORBIDDEN = re.compile(r"^\s*(from \.?conftest import|import conftest\b|sys\.path\.(insert|append))", re.MULTILINE)


def test_no_test_imports_a_conftest_or_edits_sys_path() -> None:
    offenders = [str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py") if FORBIDDEN.search(p.read_text("utf-8"))]
    assert offenders == []


@pytest.mark.slow  # a second pytest collecting three directories
def test_every_test_of_a_slow_directory_is_deselected_by_not_slow() -> None:
    args = ["-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", "-n", "0", "-m", "not slow"]
    done = subprocess.run(
        [sys.executable, *args, *(str(TESTS / d) for d in sorted(SLOW_DIRECTORIES))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS.parent,
    )
    assert "::" not in done.stdout, done.stdout
    assert re.search(r"\d+ deselected", done.stdout), done.stdout + done.stderr
