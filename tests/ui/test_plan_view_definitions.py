"""The plan view's account of workflow definitions: how old cached ones are, and what changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.planning.checking import DefinitionChange, ParameterChange
from reconciler.ui.plan_view import age_text, definition_change_lines, definition_changes_markdown, definitions_note


def test_the_age_of_cached_definitions_reads_in_one_unit() -> None:
    assert [age_text(s) for s in (0.2, 42, 300, 3 * 3600 + 59, 86400, 3 * 86400)] == [
        "just now",
        "42 s ago",
        "5 min ago",
        "3 h ago",
        "1 day ago",
        "3 days ago",
    ]
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert definitions_note("cache", now - timedelta(hours=3), now) == "workflow definitions from cache, read 3 h ago"
    assert definitions_note("server", now, now) is None


def test_a_changed_definition_is_shown_per_workflow_with_the_runs_using_it() -> None:
    change = DefinitionChange(
        "wf-1",
        "Create VM",
        (ParameterChange("input", "added", "newParam", "string"), ParameterChange("input", "removed", "old", "number")),
        ("web-01", "web-02"),
    )
    lines = definition_change_lines([change])
    assert '  [bold]~ workflow "Create VM (wf-1)"[/] [dim](used by web-01, web-02)[/]' in lines
    assert "      workflow inputs changed: + newParam (string), - old (number)" in lines
    assert definition_change_lines([]) == []
    assert "  - workflow inputs changed: + newParam (string), - old (number)" in definition_changes_markdown([change])
    assert definition_changes_markdown([]) == ""
