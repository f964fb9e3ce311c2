"""A workflow's adaptive limit: a ``--json`` event per change and a summary entry; the progress lines
leave the changes out (they may be many) and the summary says how low it went."""

from __future__ import annotations

import io
import json

from rich.console import Console

from reconciler.applying.reports import ApplyEvent, ApplyReport, LimitSummary
from reconciler.ui.console import Ui
from reconciler.ui.progress_view import JsonLines, ProgressView, summary_lines

CUT = ApplyEvent("limit_changed", "", "wf-1", message="the server answered 429 (busy): at most 5", limit=5)


def _ui() -> tuple[Ui, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    options = {"width": 300, "no_color": True, "highlight": False, "soft_wrap": True}
    return Ui(Console(file=out, **options), Console(file=err, **options)), out, err  # type: ignore[arg-type]


def test_json_lines_carry_the_limit_and_the_summary_the_limits() -> None:
    ui, out, _ = _ui()
    lines = JsonLines(ui)
    lines(CUT)
    report = ApplyReport(limits={"wf-1": LimitSummary(lowest=2, current=9, maximum=10)})
    lines.summary(report, {"add": 0})
    event, summary = (json.loads(line) for line in out.getvalue().splitlines())
    assert event == {"type": "limit_changed", "workflow": "wf-1", "message": CUT.message, "limit": 5}
    assert summary["limits"] == {"wf-1": {"lowest": 2, "current": 9, "max": 10}}


def test_a_summary_without_pushback_has_no_limits() -> None:
    ui, out, _ = _ui()
    JsonLines(ui).summary(ApplyReport(), {"add": 0})
    assert "limits" not in json.loads(out.getvalue())


def test_progress_lines_leave_changes_out_and_the_summary_names_the_workflow() -> None:
    ui, out, err = _ui()
    ProgressView(ui, total=1)(CUT)
    assert out.getvalue() == err.getvalue() == ""
    report = ApplyReport(limits={"wf-1": LimitSummary(lowest=2, current=9, maximum=10)})
    assert "  workflow wf-1: the server pushed back (429/503); requests at once went down to 2 and are at 9 of 10" in (
        summary_lines(report)
    )
