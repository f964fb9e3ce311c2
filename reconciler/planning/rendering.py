"""The plan as data for machines: the ``plan --json`` document (SPEC 3.1).

Pure: builds plain dicts; `ui` turns them into text. Secrets are ``(sensitive)``, unknown values
``(known after apply)``, in the Terraform conventions pipelines already parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.planning.changes import Action, Change, Move, ParamChange, Plan, PlannedInput
from reconciler.planning.diffs import display
from reconciler.planning.ordering import for_review

PLAN_FORMAT_VERSION = "1.0"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The document, its changes grouped by action and alphabetical within each group, as the text plan
    (`for_review`: moves first, then start, rerun, retry, await, delete, failed, noop)."""
    plan = for_review(plan)
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "has_changes": plan.has_changes,
        "changes": [*(move_document(m) for m in plan.moves), *(change_document(c) for c in plan.changes)],
        "summary": plan.summary(),
        "warnings": sorted(plan.warnings),
    }


def change_document(change: Change) -> dict[str, Any]:
    """One run's entry: ``run``, ``action``, ``reason``, ``workflow``, ``inputs``, ``diff`` (a rerun's
    ``parameter``/``change``/``before``/``after``/``paths``); when they apply, ``key``, ``depends_on``,
    ``execution`` and ``ignored`` (changes to ``spec.ignoreChanges`` parameters that re-run nothing,
    in the form of ``diff``). A move's entry is `move_document`."""
    doc: dict[str, Any] = {
        "run": change.run,
        "action": change.action.value,
        "reason": change.reason,
        "workflow": change.workflow,
        "inputs": _inputs_doc(change.inputs),
        "diff": [_param_doc(p) for p in change.diff],
    }
    if change.key is not None:
        doc["key"] = change.key
    if change.depends_on:
        doc["depends_on"] = list(change.depends_on)
    if change.execution_id is not None:
        doc["execution"] = {"id": change.execution_id, "state": change.execution_state}
    if change.ignored:  # changes to spec.ignoreChanges parameters that re-run nothing
        doc["ignored"] = [_param_doc(p) for p in change.ignored]
    return doc


def move_document(move: Move) -> dict[str, Any]:
    """A renamed record (``spec.movedFrom``): ``action`` "moved", ``moved_from`` its recorded name; the
    run's own entry (noop, rerun, ...) follows under the new name."""
    return {
        "run": move.new,
        "action": Action.MOVED.value,
        "reason": move.reason,
        "workflow": move.workflow,
        "inputs": {},
        "diff": [],
        "moved_from": move.old,
    }


def _inputs_doc(inputs: Mapping[str, PlannedInput]) -> dict[str, Any]:
    return {name: display(i) for name, i in inputs.items()}


def _param_doc(p: ParamChange) -> dict[str, Any]:
    doc: dict[str, Any] = {"parameter": p.name, "change": p.kind}
    if p.kind != "added":
        doc["before"] = p.before
    if p.kind != "removed":
        doc["after"] = p.after
    if p.details:
        doc["paths"] = list(p.details)
    return doc
