"""A plan a reviewer can take in: failed runs shown under "No changes" (text and Markdown) without the
header that announces actions; a saved plan shown by the same view code as `plan`."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import PlanStaleError
from reconciler.planning.changes import Plan
from reconciler.planning.saved import load, save, shown_plan
from reconciler.ui import plan_view
from tests.planning.stacks import applied_state, plan, run_doc, stack, with_record
from tests.ui.test_plan_golden import scenario, text_of

HEADER = "will perform the following actions"


def _failed_only() -> Plan:
    desired = stack(run_doc("ok", "wf", {"n": 1}), run_doc("batch", "wf", {"n": 2}))
    state = with_record(applied_state(desired), "batch", execution={"state": "failed", "error": "quota exceeded"})
    return plan(desired, state)


def test_no_changes_with_a_failed_run_shows_it_without_the_actions_header() -> None:
    made = _failed_only()
    assert not made.has_changes
    text = text_of(plan_view.plan_lines(made))
    assert HEADER not in text
    assert text.startswith("  # batch failed and will not be retried (last execution failed (onFailure: stop)")
    assert "quota exceeded" in text
    assert text.rstrip().endswith(
        "No changes. The recorded runs match the manifests (1 unchanged). 1 failed run(s) will not be retried."
    )


def test_markdown_no_changes_lists_the_failed_runs() -> None:
    markdown = plan_view.markdown(_failed_only())
    assert HEADER not in markdown
    assert markdown.startswith(
        "### reconciler plan\n\nNo changes. 1 run(s) unchanged. 1 failed run(s) will not be retried.\n"
    )
    assert "| `batch` | **failed** | last execution failed (onFailure: stop): quota exceeded |" in markdown


def test_no_changes_and_nothing_failed_has_neither_header_nor_table() -> None:
    desired = stack(run_doc("ok", "wf", {"n": 1}))
    made = plan(desired, applied_state(desired))
    assert text_of(plan_view.plan_lines(made)).startswith("No changes.")
    assert plan_view.markdown(made) == "### reconciler plan\n\nNo changes. 1 run(s) unchanged.\n"


def test_a_saved_plan_with_an_unknown_action_or_change_is_refused_with_its_path() -> None:
    body = json.loads(save(scenario(), {}, [], "2026-01-31T10:00:00Z"))
    body["plan"]["changes"][1]["action"] = "explode"
    with pytest.raises(PlanStaleError, match=r"p\.plan is not a readable reconciler plan file"):
        shown_plan(load(json.dumps(body), "p.plan"))
    body = json.loads(save(scenario(), {}, [], "2026-01-31T10:00:00Z"))
    db = next(c for c in body["plan"]["changes"] if c["run"] == "db")
    db["diff"][0]["change"] = "mangled"
    with pytest.raises(PlanStaleError, match=r"p\.plan is not a readable"):
        shown_plan(load(json.dumps(body), "p.plan"))
