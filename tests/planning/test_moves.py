"""``spec.movedFrom``: a rename declared in the manifests moves the record instead of deleting it and
starting the run again (SPEC 2.2, 3.1 ``moved``); pure planner tests."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.planning.changes import Action, Move
from reconciler.planning.moves import moved_state
from reconciler.planning.rendering import plan_document
from reconciler.state.models import State
from reconciler.ui import plan_view
from tests.planning.stacks import applied_state, empty_state, load, plan, run_doc, simulate_apply, stack

PARAMS = {"vmName": "web", "cpus": 2}


def _old() -> State:
    return applied_state(stack(run_doc("web-old", "wf-web", PARAMS), run_doc("db", "wf-db", {"size": 10})))


def _renamed(params: dict[str, Any] | None = None, **spec: Any) -> Any:
    moved = run_doc("web-new", "wf-web", params or PARAMS, movedFrom=["web-old"], **spec)
    return stack(moved, run_doc("db", "wf-db", {"size": 10}))


def test_a_rename_with_moved_from_is_a_move_and_nothing_starts() -> None:
    state = _old()
    result = plan(_renamed(), state)
    assert result.moves == (Move("web-old", "web-new", "wf-web"),)
    assert {c.run: c.action for c in result.changes} == {"db": Action.NOOP, "web-new": Action.NOOP}
    assert result.has_changes  # the state changes: --detailed-exitcode 2
    assert result.summary()["moved"] == 1 and result.summary()["delete"] == 0 and result.summary()["start"] == 0


def test_the_moved_run_keeps_its_record_under_the_new_name_and_later_plans_are_empty() -> None:
    state, desired = _old(), _renamed()
    first = plan(desired, state)
    after = simulate_apply(desired, moved_state(state, first.moves), first)
    assert after.runs["web-new"] == state.runs["web-old"] and "web-old" not in after.runs
    again = plan(desired, after)  # the leftover movedFrom is harmless
    assert again.moves == () and not again.has_changes


def test_a_rename_with_other_inputs_is_a_move_and_a_rerun_against_the_old_record() -> None:
    result = plan(_renamed({"vmName": "web", "cpus": 4}), _old())
    assert [m.old for m in result.moves] == ["web-old"]
    change = result.by_run()["web-new"]
    assert change.action is Action.RERUN and change.reason == "inputs changed"
    assert [(p.name, p.before, p.after) for p in change.diff] == [("cpus", 2, 4)]


def test_a_downstream_reference_reads_the_moved_records_outputs() -> None:
    base = stack(
        run_doc("net", "wf-net", {"cidr": "10.0.0.0/24"}), run_doc("web", "wf", {"n": "${runs.net.outputs.id}"})
    )
    state = applied_state(base)
    renamed = stack(
        run_doc("network", "wf-net", {"cidr": "10.0.0.0/24"}, movedFrom=["net"]),
        run_doc("web", "wf", {"n": "${runs.network.outputs.id}"}),
    )
    result = plan(renamed, state)
    assert [(m.old, m.new) for m in result.moves] == [("net", "network")]
    assert {c.run: c.action for c in result.changes} == {"network": Action.NOOP, "web": Action.NOOP}


def test_a_leftover_moved_from_whose_old_name_is_not_recorded_is_no_action() -> None:
    fresh = plan(_renamed(), empty_state())
    assert fresh.moves == () and fresh.by_run()["web-new"].action is Action.START
    assert "moved" not in {c["action"] for c in plan_document(fresh)["changes"]}


def test_for_each_runs_name_their_own_earlier_names() -> None:
    old = stack(run_doc("vm", "wf", {"zone": "${each.value}"}, forEach={"a": "za", "b": "zb"}))
    state = applied_state(old)
    new = stack(
        run_doc("host", "wf", {"zone": "${each.value}"}, forEach={"a": "za", "b": "zb"}, movedFrom=["vm-${each.key}"])
    )
    result = plan(new, state)
    assert sorted((m.old, m.new) for m in result.moves) == [("vm-a", "host-a"), ("vm-b", "host-b")]
    assert {c.action for c in result.changes} == {Action.NOOP}


def test_a_target_leaves_out_the_moves_of_runs_it_does_not_select() -> None:
    result = plan(_renamed(), _old(), targets=["db"])
    assert result.moves == () and [c.run for c in result.changes] == ["db"]
    assert plan(_renamed(), _old(), targets=["web-new"]).moves == (Move("web-old", "web-new", "wf-web"),)


def test_the_json_plan_lists_the_move_first_and_counts_it() -> None:
    document = plan_document(plan(_renamed({"vmName": "web", "cpus": 4}), _old()))
    moved = document["changes"][0]
    assert moved["action"] == "moved" and moved["run"] == "web-new" and moved["moved_from"] == "web-old"
    assert moved["workflow"] == "wf-web" and moved["inputs"] == {} and moved["diff"] == []
    assert [(c["run"], c["action"]) for c in document["changes"][1:]] == [("web-new", "rerun"), ("db", "noop")]
    assert document["summary"]["moved"] == 1 and document["summary"]["rerun"] == 1 and document["has_changes"]


def test_text_and_markdown_show_the_move() -> None:
    result = plan(_renamed(), _old())
    text = "\n".join(plan_view.plan_lines(result))
    assert "# web-old[/] has moved to [bold]web-new[/]" in text
    assert 'run "web-old" -> run "web-new"' in text
    assert text.endswith("0 to delete, 1 to move, 2 unchanged.")
    markdown = plan_view.markdown(result)
    assert "| `web-new` | **moved** | from `web-old`; nothing starts |" in markdown
    assert "**1** to move" in markdown and "  web-old -> web-new (moved: nothing starts)" in markdown


# ------------------------------------------------------------------ ambiguities: located errors

MANIFEST = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: web-new}
spec:
  workflow: wf-web
  parameters: {vmName: web, cpus: 2}
  movedFrom:
    - web-0
    - web-old
---
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: db}
spec:
  workflow: wf-db
  parameters: {size: 10}
  movedFrom: [MOVED]
"""


def _errors(db_moved_from: str, state: State | None = None) -> str:
    with pytest.raises(ManifestError) as caught:
        desired = load(MANIFEST.replace("MOVED", db_moved_from))
        plan(desired, state or empty_state())
    return str(caught.value)


def test_two_runs_claiming_one_old_name_is_an_error_at_the_claim_of_the_later_name() -> None:
    message = _errors("web-old")
    assert message == (
        "manifests/runs.yaml:9:7: runs 'db' and 'web-new' both declare movedFrom 'web-old': "
        "a record can be renamed to one name only"
    )


def test_an_old_name_still_declared_as_a_run_is_an_error() -> None:
    message = _errors("web-new")
    assert message.startswith("manifests/runs.yaml:17:15: run 'db' declares movedFrom 'web-new', but a run named")


def test_the_new_name_recorded_as_well_as_the_old_one_is_an_error() -> None:
    state = applied_state(stack(run_doc("web-old", "wf-web", PARAMS), run_doc("web-new", "wf-web", PARAMS)))
    message = _errors("db-0", state)
    assert message == (
        "manifests/runs.yaml:9:7: run 'web-new' declares movedFrom 'web-old', but the state records both "
        "'web-old' and 'web-new': remove one of the records (`reconciler state rm web-old`) or this movedFrom entry"
    )


def test_two_recorded_old_names_of_one_run_is_an_error() -> None:
    state = applied_state(stack(run_doc("web-0", "wf-web", PARAMS), run_doc("web-old", "wf-web", PARAMS)))
    message = _errors("db-0", state)
    assert message.startswith(
        "manifests/runs.yaml:9:7: run 'web-new' declares movedFrom 'web-0', 'web-old', and the state records each"
    )


@pytest.mark.parametrize(
    ("moved_from", "expected"),
    [
        ("Bad_Name", "manifests/runs.yaml:17:15: movedFrom: 'Bad_Name' is not a valid run name"),
        ("db-0, db-0", "manifests/runs.yaml:17:21: movedFrom: 'db-0' is listed twice"),
    ],
)
def test_a_moved_from_item_must_be_a_run_name_listed_once(moved_from: str, expected: str) -> None:
    assert _errors(moved_from).startswith(expected)
