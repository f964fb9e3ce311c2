"""``plan``: load the project, read the state, optionally refresh it from the server, and plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.desired.runs import DesiredStack
from reconciler.errors import ReconcilerError
from reconciler.operations.project import Inputs, Project
from reconciler.planning.changes import Plan
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.state.models import State

# Given the project, the recorded state and the desired runs (their secrets are redacted from what
# the server says): the state with in-progress executions brought up to date.
Refresher = Callable[[Project, State, DesiredStack], State]


@dataclass(frozen=True)
class Planned:
    plan: Plan
    desired: DesiredStack
    state: State
    state_exists: bool


def propose(project: Project, inputs: Inputs, options: PlanOptions, refresher: Refresher | None = None) -> Planned:
    """Plan ``project`` against its state. The manifests are parsed on a second core while this
    process reads the state (`ParsingAhead`); a manifest problem is still reported before a state
    problem, as when one is read after the other."""
    with project.parse_ahead() as ahead:
        try:
            read: tuple[State, bool] | ReconcilerError = project.read_state()
        except ReconcilerError as err:
            read = err
        desired = project.load(inputs, ahead=ahead)
    if isinstance(read, ReconcilerError):
        raise read
    state, exists = read
    if refresher is not None and exists:
        state = refresher(project, state, desired)
    return Planned(make_plan(desired, state, exists, options), desired, state, exists)
