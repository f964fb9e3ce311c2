"""A state made by another stack, whose runs the plan would all delete, is refused; anything else is not."""

from __future__ import annotations

import dataclasses

from reconciler.planning.ownership import foreign_state_problem

from .stacks import applied_state, plan, run_doc, stack

MINE = stack(run_doc("a", parameters={"x": "1"}), run_doc("b", parameters={"x": "2"}))
THEIRS = stack(run_doc("z", parameters={"x": "9"}))


def test_another_stacks_state_that_would_lose_every_run_is_refused() -> None:
    state = dataclasses.replace(applied_state(THEIRS), stack="team-b")
    why = foreign_state_problem("tests", state, plan(MINE, state))
    assert why is not None
    assert "belongs to stack 'team-b', not to 'tests'" in why and "delete all 1 run(s)" in why


def test_a_renamed_stack_that_keeps_a_run_is_the_same_stack() -> None:
    state = dataclasses.replace(applied_state(stack(run_doc("a", parameters={"x": "1"}), run_doc("old"))), stack="was")
    assert foreign_state_problem("tests", state, plan(MINE, state)) is None


def test_own_empty_and_unnamed_states_are_never_refused() -> None:
    theirs = applied_state(THEIRS)
    assert foreign_state_problem("tests", dataclasses.replace(theirs, stack="tests"), plan(MINE, theirs)) is None
    assert foreign_state_problem("tests", theirs, plan(MINE, theirs)) is None  # made before states had a name
    empty = dataclasses.replace(applied_state(stack()), stack="team-b")
    assert foreign_state_problem("tests", empty, plan(MINE, empty)) is None
