"""The plan golden files: one plan with every action, rendered as text, Markdown and JSON.

The files under ``tests/ui/golden/`` are the reference a reviewer reads: changes grouped by action
(moved, start, rerun, retry, await, delete, failed), alphabetical within each group, whatever the
dependency order. After a deliberate change of the rendering, rewrite them with
``RECONCILER_UPDATE_GOLDEN=1 pytest tests/ui/test_plan_golden.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from reconciler.planning.changes import Action, Plan
from reconciler.planning.rendering import plan_document
from reconciler.planning.saved import load, save, shown_plan
from reconciler.state.models import State
from reconciler.ui import plan_view
from reconciler.ui.console import Ui
from tests.planning.stacks import applied_state, plan, run_doc, stack, with_record

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("RECONCILER_UPDATE_GOLDEN") == "1"


def text_of(lines: list[str]) -> str:
    """The lines as printed without a terminal (no colour, wide)."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, no_color=True, width=200, highlight=False)
    Ui(out=console, err=console).lines(lines)
    return buffer.getvalue()


def _before() -> State:
    """What was applied: every run of the scenario, some of them since failed or still running."""
    applied = stack(
        run_doc("zz-net", "wf-net", {"cidr": "10.0.0.0/24"}),
        run_doc("web", "wf-web", {"net": "${runs.zz-net.outputs.id}"}),
        run_doc("db", "wf-db", {"size": 10, "tags": ["a", "b"], "legacy": True}),
        run_doc("cache", "wf-cache", {"n": 1}, onFailure="retry", maxAttempts=3),
        run_doc("batch", "wf-batch", {"n": 1}),
        run_doc("old-job", "wf-job", {"n": 1}),
        run_doc("app-old", "wf-app", {"n": 1}),
        run_doc("quiet", "wf-quiet", {"n": 1}),
        run_doc("tuned", "wf-tuned", {"n": 1, "note": "first"}, ignoreChanges=["note"]),
    )
    state = applied_state(applied)
    state = with_record(state, "zz-net", execution={"state": "running"})
    state = with_record(state, "cache", execution={"state": "failed", "error": "timed out"})
    return with_record(state, "batch", execution={"state": "failed", "error": "quota exceeded"})


def scenario() -> Plan:
    """A plan with every action, in a dependency order unlike the alphabet."""
    desired = stack(
        run_doc("zz-net", "wf-net", {"cidr": "10.0.0.0/24"}),
        run_doc("web", "wf-web", {"net": "${runs.zz-net.outputs.id}"}),
        run_doc("db", "wf-db", {"size": 20, "tags": ["a", "c"], "zone": "eu"}),
        run_doc("cache", "wf-cache", {"n": 1}, onFailure="retry", maxAttempts=3),
        run_doc("batch", "wf-batch", {"n": 1}),
        run_doc("app", "wf-app", {"n": 1}, movedFrom=["app-old"]),
        run_doc("quiet", "wf-quiet", {"n": 1}),
        run_doc("tuned", "wf-tuned", {"n": 1, "note": "second"}, ignoreChanges=["note"]),
        run_doc("zz-new", "wf-new", {"pw": {"type": "SecureString", "valueFrom": {"env": "PW"}}, "cpus": 2}),
        run_doc("aa-new", "wf-new", {"up": "${runs.zz-net.outputs.id}"}, dependsOn=["zz-new"]),
    )
    return plan(desired, _before())


def _check(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == rendered, f"{name} differs: see the module doc to update it"


def test_the_scenario_has_every_action_in_a_dependency_order_unlike_the_alphabet() -> None:
    made = scenario()
    assert {c.action for c in made.changes} == set(Action) - {Action.MOVED}
    assert made.moves and any(c.ignored for c in made.changes)
    runs = [c.run for c in made.changes]
    assert runs != sorted(runs)


def test_text_golden() -> None:
    _check("plan.txt", text_of(plan_view.plan_lines(scenario())))


def test_markdown_golden() -> None:
    _check("plan.md", plan_view.markdown(scenario()))


def test_json_golden() -> None:
    _check("plan.json", json.dumps(plan_document(scenario()), indent=2) + "\n")


@pytest.mark.parametrize("name", ["plan.txt", "plan.md", "plan.json"])
def test_the_golden_files_list_the_changes_grouped_then_alphabetically(name: str) -> None:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    expected = ["app", "aa-new", "zz-new", "db", "web", "cache", "zz-net", "old-job", "batch"]
    marks = {
        "plan.txt": "# {}",
        "plan.md": "| `{}` |",
        "plan.json": '"run": "{}"',
    }[name]
    positions = [text.find(marks.format(run)) for run in expected]
    assert -1 not in positions and positions == sorted(positions), list(zip(expected, positions, strict=True))


def test_show_planfile_prints_the_plan_as_plan_printed_it() -> None:
    made = scenario()
    saved = load(save(made, {}, [], "2026-01-31T10:00:00Z"), "p.plan")
    assert text_of(plan_view.plan_lines(shown_plan(saved))) == text_of(plan_view.plan_lines(made))
    assert plan_view.markdown(shown_plan(saved)) == plan_view.markdown(made)
