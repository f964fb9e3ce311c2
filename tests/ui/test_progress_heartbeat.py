"""Off a terminal (CI logs) a heartbeat line every so often while runs are going: counts and the run
going longest, so that a 30-minute workflow is not 30 minutes of silence."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

from reconciler.applying.reports import ApplyEvent
from reconciler.errors import ConfigError
from reconciler.ui.console import Ui
from reconciler.ui.progress_view import ProgressView, heartbeat_seconds


def _ui(terminal: bool) -> tuple[Ui, io.StringIO]:
    out = io.StringIO()
    options = {"width": 300, "no_color": True, "highlight": False, "soft_wrap": True, "force_terminal": terminal}
    return Ui(Console(file=out, **options), Console(file=io.StringIO(), **options)), out  # type: ignore[arg-type]


def test_the_line_names_the_counts_and_the_longest_going_run() -> None:
    ui, _ = _ui(terminal=False)
    view = ProgressView(ui, total=4, heartbeat=0)
    for event in (
        ApplyEvent("started", "db", "wf", "e-1"),
        ApplyEvent("started", "web", "wf", "e-2"),
        ApplyEvent("completed", "db", "wf", "e-1"),
        ApplyEvent("adopted", "dns", "wf", "e-3"),
    ):
        view(event)
    line = view.heartbeat_line(time.monotonic() + 125)
    assert re.fullmatch(
        r"still going: 2 run\(s\) in progress, 1 done, 0 failed, started 3/4 \[12\ds\]; longest: web \(2m0\ds\)", line
    ), line


def test_written_while_runs_are_going_and_not_after() -> None:
    ui, out = _ui(terminal=False)
    with ProgressView(ui, total=1, heartbeat=0.05) as view:
        view.start()
        view(ApplyEvent("started", "slow", "wf", "e-1"))
        deadline = time.monotonic() + 10
        while "still going" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "longest: slow" in out.getvalue()
        view(ApplyEvent("completed", "slow", "wf", "e-1"))
        written = out.getvalue()
        time.sleep(0.2)  # heartbeats that would come now find nothing going
        assert out.getvalue() == written


def test_none_on_a_terminal_and_none_when_off() -> None:
    for terminal, every in ((True, 0.05), (False, 0.0)):
        ui, _ = _ui(terminal)
        with ProgressView(ui, total=1, heartbeat=every) as view:
            view.start()
            assert view._beat is None


@pytest.mark.parametrize(("text", "seconds"), [(None, 30.0), ("2m", 120.0), ("0", 0.0), ("45", 45.0)])
def test_the_interval_from_the_environment(text: str | None, seconds: float) -> None:
    environ = {} if text is None else {"RECONCILER_PROGRESS_EVERY": text}
    assert heartbeat_seconds(environ) == seconds


def test_a_bad_interval_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="RECONCILER_PROGRESS_EVERY must be a duration"):
        heartbeat_seconds({"RECONCILER_PROGRESS_EVERY": "often"})
