"""The lifecycle fields of a run's spec (SPEC 2.2): ``movedFrom`` and ``ignoreChanges``.

``movedFrom: [old-name, ...]`` names earlier names of a run, so that a rename made in the manifests
renames its record instead of deleting it and starting the run again (planning decides the move
against the state). An item may use ``${each.key}``/``${var.X}`` so that each run of a forEach names
its own earlier name. ``ignoreChanges: [param, ...]`` names parameters kept out of the run key; each
must be a parameter the run declares.

What can be checked without the state is checked here, located: an earlier name that is still
declared as a run, and an earlier name claimed by two runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.desired.runs import DesiredInput, DesiredRun
from reconciler.desired.templating import Scope, contains_failure, render
from reconciler.errors import Problem, SourceLocation
from reconciler.manifest.models import RunSpec
from reconciler.manifest.parsing import Document
from reconciler.manifest.validating import run_name_problem

MOVED_FROM = "movedFrom"
IGNORE_CHANGES = "ignoreChanges"


@dataclass(frozen=True, slots=True)
class _FieldLocator:
    """A `FieldLocator` of one document's run: where ``spec.<path>`` is written."""

    document: Document

    def __call__(self, path: tuple[str | int, ...]) -> SourceLocation:
        return self.document.location(("spec", *path))


def lifecycle_fields(spec: RunSpec, scope: Scope, inputs: Mapping[str, DesiredInput]) -> dict[str, Any]:
    """The `DesiredRun` fields of ``spec``'s lifecycle settings; problems go to ``scope``."""
    return {
        "moved_from": _moved_from(spec.moved_from, scope),
        "ignore_changes": _ignore_changes(spec.ignore_changes, inputs, scope),
        "locate_field": _FieldLocator(scope.document),
    }


def _moved_from(items: list[str], scope: Scope) -> tuple[str, ...]:
    names: list[str] = []
    for i, item in enumerate(items):
        path = ("spec", MOVED_FROM, i)
        name = render(item, scope, path, runs_allowed=False)
        if contains_failure(name):
            continue
        problem = run_name_problem(name) if isinstance(name, str) else f"{name!r} is not a run name"
        if problem is not None:
            scope.problem(path, "", f"movedFrom: {problem}")
        elif name in names:
            scope.problem(path, "", f"movedFrom: {name!r} is listed twice")
        else:
            names.append(name)
    return tuple(names)


def _ignore_changes(items: list[str], inputs: Mapping[str, DesiredInput], scope: Scope) -> frozenset[str]:
    for i, item in enumerate(items):
        if item not in inputs:
            declared = ", ".join(sorted(inputs)) or "none"
            scope.problem(
                ("spec", IGNORE_CHANGES, i),
                "",
                f"ignoreChanges: {item!r} is not a parameter of this run (its parameters: {declared})",
            )
    return frozenset(items)


def move_declaration_problems(runs: Iterable[DesiredRun]) -> list[Problem]:
    """``movedFrom`` names that cannot be: a name still declared as a run, a name two runs claim."""
    runs = list(runs)
    declared = {run.name for run in runs}
    claimed: dict[str, str] = {}
    problems: list[Problem] = []
    for run in sorted(runs, key=lambda r: r.name):
        for i, old in enumerate(run.moved_from):
            where = run.field_location(MOVED_FROM, i) or SourceLocation("manifests")
            if old in declared:
                message = (
                    f"run {run.name!r} declares movedFrom {old!r}, but a run named {old!r} is still declared: "
                    "a run cannot have been renamed from a name that is still in use"
                )
                problems.append(Problem(where, message))
            elif old in claimed:
                message = (
                    f"runs {claimed[old]!r} and {run.name!r} both declare movedFrom {old!r}: "
                    "a record can be renamed to one name only"
                )
                problems.append(Problem(where, message))
            else:
                claimed[old] = run.name
    return problems
