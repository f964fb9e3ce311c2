"""Rendering plans for people: Terraform-style text (symbols, summary, escaping) and Markdown."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.planning.planner import make_plan
from reconciler.ui import plan_view
from reconciler.ui.console import Ui
from tests.planning.stacks import applied_state, empty_state, plan, run_doc, stack


def _text(lines: list[str], color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=200, highlight=False)
    ui = Ui(out=console, err=console)
    ui.lines(lines)
    return buffer.getvalue()


def _desired(cpus: int = 2, name: str = "web-01"):  # type: ignore[no-untyped-def]
    return stack(
        run_doc("net", parameters={"cidr": "10.0.0.0/24"}),
        run_doc("web", parameters={"vmName": name, "cpus": cpus, "net": "${runs.net.outputs.id}"}),
        run_doc("pw", parameters={"secret": {"type": "SecureString", "valueFrom": {"env": "PW"}}}),
    )


def test_a_first_plan_lists_starts_with_values_and_a_summary() -> None:
    result = make_plan(_desired(), empty_state(), exists=False)
    text = _text(plan_view.plan_lines(result))
    assert '# web will be started (not yet run)\n  + run "web" {' in text
    assert '+ vmName = "web-01"' in text
    assert "+ net    = (known after apply)" in text
    assert "+ secret = (sensitive)" in text
    assert "s3cret" not in text
    assert text.rstrip().endswith("Plan: 3 to start, 0 to re-run, 0 to retry, 0 to await, 0 to delete, 0 unchanged.")


def test_a_rerun_shows_only_the_changed_parameters() -> None:
    state = applied_state(_desired())
    text = _text(plan_view.plan_lines(plan(_desired(cpus=4), state)))
    assert "# web will be re-run (inputs changed)" in text
    assert "~ cpus = 2 -> 4" in text
    assert "vmName" not in text
    assert "2 unchanged" in text


def test_no_changes_says_so() -> None:
    state = applied_state(_desired())
    text = _text(plan_view.plan_lines(plan(_desired(), state)))
    assert text.startswith("No changes. The recorded runs match the manifests (3 unchanged).")


def test_values_are_not_read_as_markup_and_colour_only_on_a_terminal() -> None:
    result = make_plan(_desired(name="[bold]x[/bold]"), empty_state(), exists=False)
    plain = _text(plan_view.plan_lines(result))
    assert '+ vmName = "[bold]x[/bold]"' in plain
    assert "\x1b[" not in plain
    assert "\x1b[" in _text(plan_view.plan_lines(result), color=True)


def test_markdown_has_a_table_a_summary_and_a_diff_block() -> None:
    state = applied_state(_desired())
    markdown = plan_view.markdown(plan(_desired(cpus=4), state))
    assert "| `web` | **rerun** | inputs changed |" in markdown
    assert "**0** to start, **1** to re-run" in markdown
    assert "-     cpus = 2\n+     cpus = 4" in markdown
    assert plan_view.markdown(plan(_desired(), state)).startswith("### reconciler plan\n\nNo changes.")
