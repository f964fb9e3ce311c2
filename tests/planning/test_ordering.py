"""The review order of a plan: grouped by action, alphabetical within a group; the plan itself and its
fingerprint keep to what apply needs (dependency order, order-independent)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.planning.changes import Action, Change, Move, Plan
from reconciler.planning.ordering import ACTION_ORDER, for_review, review_moves, review_order
from reconciler.planning.rendering import plan_document
from reconciler.planning.saved import check_same, fingerprint, load, save

from .stacks import applied_state, plan, run_doc, stack, with_record


def _change(run: str, action: Action) -> Change:
    return Change(run=run, action=action, reason="r", workflow="wf")


def test_changes_are_grouped_by_action_then_by_name() -> None:
    changes = [
        _change("zeta", Action.NOOP),
        _change("b", Action.DELETE),
        _change("c", Action.START),
        _change("a", Action.FAILED),
        _change("y", Action.RERUN),
        _change("a-start", Action.START),
        _change("m", Action.AWAIT),
        _change("k", Action.RETRY),
        _change("alpha", Action.NOOP),
    ]
    assert [(c.action, c.run) for c in review_order(changes)] == [
        (Action.START, "a-start"),
        (Action.START, "c"),
        (Action.RERUN, "y"),
        (Action.RETRY, "k"),
        (Action.AWAIT, "m"),
        (Action.DELETE, "b"),
        (Action.FAILED, "a"),
        (Action.NOOP, "alpha"),
        (Action.NOOP, "zeta"),
    ]
    assert set(ACTION_ORDER) == set(Action) - {Action.MOVED}  # a move is never a Change


def test_moves_are_sorted_by_their_new_name() -> None:
    moves = [Move("old-z", "z", "wf"), Move("old-a", "a", "wf")]
    assert [m.new for m in review_moves(moves)] == ["a", "z"]


def _chain() -> Any:
    """``zz-base`` <- ``aa-top``: dependency order is the reverse of the alphabet."""
    return stack(
        run_doc("zz-base", "wf", {"n": 1}),
        run_doc("aa-top", "wf", {"up": "${runs.zz-base.outputs.id}"}),
        run_doc("mm-solo", "wf", {"n": 2}),
    )


def test_the_plan_stays_in_dependency_order_and_the_document_is_in_review_order() -> None:
    desired = _chain()
    made = plan(desired, applied_state(stack(run_doc("gone", "wf", {"n": 0}))))
    assert [c.run for c in made.changes].index("zz-base") < [c.run for c in made.changes].index("aa-top")
    document = plan_document(made)
    assert [(c["run"], c["action"]) for c in document["changes"]] == [
        ("aa-top", "start"),
        ("mm-solo", "start"),
        ("zz-base", "start"),
        ("gone", "delete"),
    ]
    assert [c.run for c in for_review(made).changes] == [c["run"] for c in document["changes"]]


def test_the_fingerprint_does_not_depend_on_the_listing_order() -> None:
    made = plan(_chain(), applied_state(stack()))
    reordered = Plan(**{**made.__dict__, "changes": tuple(reversed(made.changes))})
    assert fingerprint(made) == fingerprint(reordered)


def test_a_plan_saved_with_the_fingerprint_in_dependency_order_still_applies() -> None:
    """A plan file written before the fingerprint was taken by run name: its document lists the changes
    in dependency order, and its fingerprint is of that order; an await finished since is accepted."""
    net, web = run_doc("zz-net", "wf-net", {"cidr": "x"}), {"net": "${runs.zz-net.outputs.id}"}
    state = applied_state(stack(net, run_doc("aa-web", "wf-web", web)))
    # zz-new is new and aa-web waits for it: before aa-web in dependency order, after it by name
    desired = stack(net, run_doc("zz-new", "wf-new", {"n": 1}), run_doc("aa-web", "wf-web", web, dependsOn=["zz-new"]))
    running = with_record(state, "zz-net", execution={"state": "running"})
    made = plan(desired, running)
    body = json.loads(save(made, {}, [], "2026-01-31T10:00:00Z"))
    order = [c.run for c in made.changes]  # dependency order, as such a file listed them
    body["plan"]["changes"].sort(key=lambda c: order.index(c["run"]))
    acts = [
        [c["run"], c["action"], c.get("key") or "(known after apply)", c["workflow"]]
        for c in body["plan"]["changes"]
        if c["action"] in ("start", "rerun", "retry", "delete")
    ]
    assert acts != sorted(acts)  # else this test would not tell the two fingerprints apart
    body["fingerprint"] = "sha256:" + hashlib.sha256(json.dumps(acts, sort_keys=True).encode()).hexdigest()
    legacy = load(json.dumps(body), "old.plan")
    check_same(legacy, plan(desired, state))  # zz-net finished with the same outputs: aa-web is unchanged
