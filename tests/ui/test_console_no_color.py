"""``--no-color`` and ``NO_COLOR``: no escape code at all on a terminal, bold and dim included."""

from __future__ import annotations

import io

import pytest

from reconciler.ui.console import Ui

MARKUP = "[bold]plan[/] [dim]unchanged[/] [red]failed[/]"


@pytest.fixture(autouse=True)
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a colour terminal (rich reads FORCE_COLOR and TERM when a console is made)."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


def _printed(ui: Ui) -> list[str]:
    seen = []
    for console in (ui.out, ui.err):
        console.file = io.StringIO()
        console.print(MARKUP)
        seen.append(console.file.getvalue())
    return seen


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_no_escape_codes_without_colour(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "environment":
        monkeypatch.setenv("NO_COLOR", "1")
    assert _printed(Ui.create(no_color=how == "flag")) == ["plan unchanged failed\n"] * 2


def test_styles_on_a_colour_terminal_by_default() -> None:
    out, err = _printed(Ui.create())
    assert "\x1b[1m" in out and "\x1b[2m" in out and "\x1b[31m" in err
