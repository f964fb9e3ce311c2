"""Apply progress off a terminal: plain lines, the same text as the rendered ones, no live line."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from reconciler.applying.reports import ApplyEvent
from reconciler.ui.console import Ui
from reconciler.ui.progress_view import ProgressView

EVENTS = [
    ApplyEvent("started", "net-[1]", "wf", "e-1"),
    ApplyEvent("waiting", "net-[1]", "wf", "e-1"),
    ApplyEvent("completed", "net-[1]", "wf", "e-1", outputs={"id": "[bold]x[/]", "n": 2, "s": "(sensitive)"}),
    ApplyEvent("failed", "vm", "wf", "e-2", message="execution e-2 failed: quota [red]"),
    ApplyEvent("skipped", "app", "wf", message="skipped: dependency vm did not complete"),
    ApplyEvent("timed_out", "slow", "wf", "e-3", message="timed out after 5s"),
]


def _ui(terminal: bool) -> tuple[Ui, io.StringIO]:
    out = io.StringIO()
    options = {"width": 300, "no_color": True, "highlight": False, "soft_wrap": True, "force_terminal": terminal}
    return Ui(Console(file=out, **options), Console(file=io.StringIO(), **options)), out  # type: ignore[arg-type]


def _lines(terminal: bool) -> list[str]:
    ui, out = _ui(terminal)
    view = ProgressView(ui, total=len(EVENTS))
    for event in EVENTS:
        view(event)
    return out.getvalue().splitlines()


def test_plain_lines_read_as_the_rendered_ones() -> None:
    ui, out = _ui(terminal=False)
    view = ProgressView(ui, total=len(EVENTS))
    for event in EVENTS:  # the markup line as it was printed off a terminal before plain lines
        if event.kind != "waiting":
            ui.out.print(view._line(event))
    rendered = out.getvalue().splitlines()
    assert _lines(terminal=False) == rendered
    assert rendered == [
        "net-[1]: started (e-1)",
        'net-[1]: completed (e-1) id="[bold]x[/]", n=2, s=(sensitive)',
        "vm: failed (e-2) - execution e-2 failed: quota [red]",
        "app: skipped - skipped: dependency vm did not complete",
        "slow: timed out (e-3) - timed out after 5s",
    ]


@pytest.mark.parametrize("terminal", [False, True])
def test_the_live_line_only_on_a_terminal(terminal: bool) -> None:
    ui, _ = _ui(terminal)
    with ProgressView(ui, total=3) as view:
        view.start()
        view(ApplyEvent("started", "a", "wf", "e-1"))
        live = view._live is not None
    assert live is terminal
    assert "started 1/3, running 1" in view.status().plain
