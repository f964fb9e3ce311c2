"""``plan``: load the project, read the state, optionally refresh it from the server, plan, and save
the plan for ``apply PLANFILE``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.runs import DesiredStack
from reconciler.errors import UserError
from reconciler.operations.project import Inputs, Project
from reconciler.planning.changes import Plan
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.state.models import State


@dataclass(frozen=True)
class Planned:
    plan: Plan
    desired: DesiredStack
    state: State
    state_exists: bool


def propose(project: Project, inputs: Inputs, options: PlanOptions, *, refresh: bool = False) -> Planned:
    """Plan ``project`` against its state (a manifest problem is reported before a state problem).
    With ``refresh``, in-progress executions are read from the server first, in memory only."""
    desired = project.load(inputs)
    state, exists = project.read_state()
    if refresh and exists and state.has_work_in_progress():
        from reconciler.operations.apply import refreshed_view  # the HTTP client: only when needed

        state = refreshed_view(project, state, desired)
    return Planned(make_plan(desired, state, exists, options), desired, state, exists)


def save_plan(plan: Plan, inputs: Inputs, path: str) -> None:
    """Write ``plan`` with the inputs it was made from to ``path`` (mode 0600) for ``apply PATH``; a
    path that cannot be written is the user's error."""
    from reconciler.planning.saved import save as saved_text  # only with --out

    text = saved_text(plan, inputs.variables, inputs.var_files, dt.datetime.now(dt.UTC).isoformat())
    try:
        Path(path).write_text(text, encoding="utf-8")
        Path(path).chmod(0o600)
    except OSError as err:
        raise UserError(f"cannot write the plan to {path}: {err.strerror or err}") from err
