"""Apply progress: the endpoint's outage notices are one line each, on stderr (human) or as JSON."""

from __future__ import annotations

import io
import json

from rich.console import Console

from reconciler.applying.reports import ApplyEvent
from reconciler.ui.console import Ui
from reconciler.ui.progress_view import JsonLines, ProgressView

DOWN = ApplyEvent("endpoint_unreachable", "", message="the VCD endpoint https://vcd is not answering (refused)")
UP = ApplyEvent("endpoint_reachable", "", message="the VCD endpoint https://vcd answers again (after 12s)")


def _ui() -> tuple[Ui, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    console = {"width": 200, "no_color": True, "highlight": False, "soft_wrap": True}
    return Ui(Console(file=out, **console), Console(file=err, **console)), out, err  # type: ignore[arg-type]


def test_an_outage_is_a_warning_and_its_end_a_line_on_stderr() -> None:
    ui, out, err = _ui()
    view = ProgressView(ui, total=1)
    for event in (DOWN, UP, ApplyEvent("started", "net", execution="e-1")):
        view(event)
    assert err.getvalue().splitlines() == [
        "Warning: the VCD endpoint https://vcd is not answering (refused)",
        "the VCD endpoint https://vcd answers again (after 12s)",
    ]
    assert out.getvalue().splitlines() == ["net: started (e-1)"]


def test_json_lines_name_the_endpoint_event_without_a_run() -> None:
    ui, out, _ = _ui()
    lines = JsonLines(ui)
    lines(DOWN)
    lines(UP)
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert docs == [
        {"type": "endpoint_unreachable", "message": DOWN.message},
        {"type": "endpoint_reachable", "message": UP.message},
    ]
