"""The order a plan is read in: grouped by action, alphabetical within each group.

A reviewer takes in a plan by what it does (what starts, what re-runs, what is deleted) more easily
than in dependency order, which `reconciler graph` shows. The text, Markdown and JSON plans all list
their entries in this order; the plan itself (``Plan.changes``) stays in dependency order, which is
the order apply works in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.planning.changes import Action, Change, Move, Plan

# the order of the groups of a plan; moves (applied first, nothing starts) come before all of these
ACTION_ORDER: tuple[Action, ...] = (
    Action.START,
    Action.RERUN,
    Action.RETRY,
    Action.AWAIT,
    Action.DELETE,
    Action.FAILED,
    Action.NOOP,
)
_RANK = {action: rank for rank, action in enumerate(ACTION_ORDER)}


def review_order(changes: Iterable[Change]) -> list[Change]:
    """``changes`` grouped by action (`ACTION_ORDER`), each group sorted by run name."""
    return sorted(changes, key=lambda c: (_RANK.get(c.action, len(_RANK)), c.run))


def review_moves(moves: Iterable[Move]) -> list[Move]:
    """The moves sorted by their new name (the name the manifests declare)."""
    return sorted(moves, key=lambda m: (m.new, m.old))


def for_review(plan: Plan) -> Plan:
    """``plan`` with its changes and moves in the review order (for display and the JSON document only:
    apply works from a plan in dependency order)."""
    return replace(plan, changes=tuple(review_order(plan.changes)), moves=tuple(review_moves(plan.moves)))
