"""Whose state is this: a state records the name of the stack that made it (``metadata.name``).

A state copied or pointed at by mistake (another team's ``spec.backend.path``, a workspace typo)
makes every run it records look undeclared, and the plan would delete them all, cancelling what
still runs. That one shape is refused; a stack whose manifests still declare some of the recorded
runs is taken to be the same stack, renamed. A state made before states recorded their stack has no
name and is not checked.
"""

from __future__ import annotations

from reconciler.planning.changes import Action, Plan
from reconciler.state.models import State


def foreign_state_problem(stack: str, state: State, plan: Plan) -> str | None:
    """Why ``plan`` must not be applied to ``state``: it belongs to another stack and the plan would
    delete every run it records. None when the state is this stack's, says nothing, or keeps a run."""
    if state.stack is None or state.stack == stack or not state.runs:
        return None
    deleted = {c.run for c in plan.changes if c.action is Action.DELETE}
    if not set(state.runs) <= deleted:
        return None
    return (
        f"this state belongs to stack {state.stack!r}, not to {stack!r} (metadata.name of reconciler.yaml), and "
        f"the plan would delete all {len(state.runs)} run(s) it records. Check that spec.backend points at this "
        f"stack's state; if the stack was renamed, set metadata.name back to {state.stack!r} for the next apply"
    )
