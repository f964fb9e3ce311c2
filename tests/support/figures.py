"""The torture figures, as a plugin (``pytest_plugins`` in ``tests/conftest.py``, so that the main
process has it also under pytest-xdist, whose main process collects nothing): the seed and scale in
the report header, and at the end every test's figures (kills, lost answers, starts per run, outputs
that differ) as `tests.support.torture.report` recorded them, so ``make test`` and ``make torture``
show them. A test's figures travel with its report (``user_properties``) from the worker that ran it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from tests.support.torture import FIGURES, RECORDED, SCALE, SEED

_SHOWN: list[tuple[str, dict[str, Any]]] = []  # in the main process: every test's figures, as reported


def pytest_report_header() -> str:
    return f"torture: seed {SEED} (RECONCILER_TORTURE_SEED), scale {SCALE:g} (RECONCILER_TORTURE_SCALE)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """The figures a test recorded go with its report (``user_properties``), passed or failed."""
    try:
        return (yield)
    finally:
        item.user_properties.extend((FIGURES, figures) for figures in RECORDED)
        RECORDED.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _SHOWN.extend(cast(tuple[str, dict[str, Any]], v) for k, v in report.user_properties if k == FIGURES)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _SHOWN:
        return
    terminalreporter.section(f"torture figures (seed {SEED}, scale {SCALE:g})")
    for test, figures in sorted(_SHOWN, key=lambda shown: shown[0]):
        terminalreporter.write_line(f"{test}:")
        for key, value in figures.items():
            terminalreporter.write_line(f"    {key}: {value}")
