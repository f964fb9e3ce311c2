"""``plan``: load the project, check it against the workflow definitions, read the state, optionally
refresh it from the server, plan, and save the plan for ``apply PLANFILE``.

The definitions come from the server with refresh (each workflow the manifests use read once), and
from the cache of the last readings without (``plan --no-refresh`` and ``validate`` never contact the
server). `check_definitions` raises a `ManifestError` listing every problem before anything else
happens; what it could not check comes back as warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.definitions import Definitions
from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError, StateError, UserError
from reconciler.operations.project import Inputs, Project
from reconciler.planning.changes import Plan
from reconciler.planning.checking import DefinitionChange, check_runs, definition_changes, unchecked_problems
from reconciler.planning.ownership import foreign_state_problem
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.state.models import State

if TYPE_CHECKING:
    from reconciler.operations.server_reads import ServerReads


@dataclass(frozen=True)
class DefinitionsUsed:
    """What the runs were checked against: ``source`` "server", "cache", or None (nothing to check
    against: no definition read yet); ``read_at`` the oldest reading used; what was not checked
    (``warnings``); the workflows whose definition changed since the last reading (``changes``)."""

    source: str | None = None
    read_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    changes: tuple[DefinitionChange, ...] = ()

    def document(self) -> dict[str, Any]:
        """``plan --json``'s ``definitions``: ``source`` ("server", "cache" or null: not checked),
        ``read_at`` (ISO 8601 or null), ``warnings`` (checks skipped, and why), ``changes`` (per
        workflow whose definition changed since last read: ``workflow``, ``name``, ``runs``, and
        ``changes[]`` of ``direction``, ``change`` added/removed/changed, ``parameter``, ``type``, ``detail``)."""
        return {
            "source": self.source,
            "read_at": self.read_at.isoformat() if self.read_at is not None else None,
            "warnings": list(self.warnings),
            "changes": [c.document() for c in self.changes],
        }


@dataclass(frozen=True)
class Planned:
    plan: Plan
    desired: DesiredStack
    state: State
    state_exists: bool
    definitions: DefinitionsUsed = DefinitionsUsed()


def propose(
    project: Project, inputs: Inputs, options: PlanOptions, *, refresh: bool = False, require_definitions: bool = False
) -> Planned:
    """Plan ``project`` against its state (a manifest problem is reported before a state problem).
    With ``refresh``, the workflow definitions and in-progress executions are read from the server
    first, in memory only; without, the definitions come from the cache."""
    desired = project.load(inputs)
    with _server_reads(project, desired, refresh) as server:  # one client, one login, for both reads
        read = server.definitions if server is not None else None
        used = check_definitions(project, desired, require=require_definitions, read=read)
        state, exists = project.read_state()
        if server is not None and exists:
            state = server.refreshed(state)
    plan = make_plan(desired, state, exists, options)
    refused = foreign_state_problem(project.stack.metadata.name, state, plan)
    if refused is not None:
        raise StateError(refused)
    return Planned(plan, desired, state, exists, used)


def _server_reads(project: Project, desired: DesiredStack, refresh: bool) -> AbstractContextManager[ServerReads | None]:
    if not refresh:
        return nullcontext()
    from reconciler.operations.server_reads import ServerReads  # the HTTP client: only with refresh

    return ServerReads(project, desired)


def check_definitions(
    project: Project, desired: DesiredStack, *, require: bool, read: Callable[[list[str]], Definitions] | None = None
) -> DefinitionsUsed:
    """Check ``desired`` against the definitions of its workflows: read from the server by ``read``
    (``plan``'s refresh: `ServerReads.definitions`), else the cached ones. `ManifestError` with every
    problem; with ``require``, a workflow whose definition could not be had is one of them."""
    workflows = sorted({run.workflow for run in desired.runs.values()})
    if not workflows:
        return DefinitionsUsed()
    cached = _cached(project, workflows)
    refresh = read is not None
    definitions = read(workflows) if read is not None else cached
    report = check_runs(desired, definitions)
    problems = [*report.problems, *(unchecked_problems(desired, definitions) if require else [])]
    if problems:
        raise ManifestError(problems)
    if not refresh and not any(w in cached.known or w in cached.unavailable for w in workflows):
        note = "workflow definitions were not checked: none has been kept yet (apply and refresh keep the definitions they read)"
        return DefinitionsUsed(warnings=(note,))
    readings = [d.read_at for w, d in definitions.known.items() if w in workflows and d.read_at is not None]
    changes = definition_changes(cached.known, definitions.known, desired) if refresh else ()
    return DefinitionsUsed(definitions.source, min(readings, default=None), report.warnings, changes)


def _cached(project: Project, workflows: list[str]) -> Definitions:
    from reconciler.operations.definitions import cached_definitions  # the backend's cache, no HTTP

    return cached_definitions(project, workflows)


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
