"""Explaining a re-run: which parameters changed, and where inside them.

Only for display: the decision itself was made on run keys. deepdiff names the changed paths inside
lists and mappings; it is imported lazily because most plans have no diff to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.desired.runs import DesiredRun
from reconciler.parameters import SENSITIVE_MARK, UNKNOWN_MARK
from reconciler.planning.changes import ParamChange, PlannedInput
from reconciler.planning.fingerprints import secret_hash
from reconciler.planning.resolving import UNKNOWN
from reconciler.state.models import RecordedInput, RunRecord


def input_diff(
    record: RunRecord, run: DesiredRun, inputs: Mapping[str, PlannedInput], salt: str
) -> tuple[ParamChange, ...]:
    changes: list[ParamChange] = []
    if record.workflow != run.workflow:
        changes.append(ParamChange("(workflow)", "changed", record.workflow, run.workflow))
    if record.revision != run.revision:
        changes.append(ParamChange("(revision)", "changed", record.revision, run.revision))
    for name in sorted(set(record.inputs) | set(inputs)):
        change = _param_change(name, record.inputs.get(name), inputs.get(name), salt)
        if change is not None:
            changes.append(change)
    return tuple(changes)


def ignored_changes(
    record: RunRecord, run: DesiredRun, inputs: Mapping[str, PlannedInput], salt: str
) -> tuple[ParamChange, ...]:
    """The changes to the run's ``ignoreChanges`` parameters that its key leaves out: what the plan
    notes as "change ignored" (an input not known yet is not a change)."""
    changes = []
    for name in sorted(run.ignore_changes):
        before, after = record.inputs.get(name), inputs.get(name)
        if (before is None and after is None) or (after is not None and after.value is UNKNOWN):
            continue
        change = _param_change(name, before, after, salt)
        if change is not None:
            changes.append(change)
    return tuple(changes)


def _param_change(name: str, before: RecordedInput | None, after: PlannedInput | None, salt: str) -> ParamChange | None:
    if before is None:
        assert after is not None
        return ParamChange(name, "added", after=display(after))
    if after is None:
        return ParamChange(name, "removed", before=_display_recorded(before))
    if after.value is UNKNOWN:
        return ParamChange(name, "changed", _display_recorded(before), UNKNOWN_MARK)
    if after.sensitive or before.sensitive:
        same = before.sensitive and after.sensitive and before.hash == secret_hash(salt, after.value)
        return (
            None if same and before.type == after.type else ParamChange(name, "changed", SENSITIVE_MARK, SENSITIVE_MARK)
        )
    if before.type == after.type and before.value == after.value:
        return None
    return ParamChange(name, "changed", before.value, after.value, _details(before.value, after.value))


def display(planned: PlannedInput) -> Any:
    return display_value(planned.value, planned.sensitive)


def display_value(value: Any, sensitive: bool) -> Any:
    """What a plan shows of an input's value: the value, or the unknown and sensitive marks."""
    if value is UNKNOWN:
        return UNKNOWN_MARK
    return SENSITIVE_MARK if sensitive else value


def _display_recorded(recorded: RecordedInput) -> Any:
    return SENSITIVE_MARK if recorded.sensitive else recorded.value


def _details(before: Any, after: Any) -> tuple[str, ...]:
    if not isinstance(before, list | dict) or not isinstance(after, list | dict):
        return ()
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_order=False, view="tree")
    lines: list[str] = []
    for kind, items in sorted(diff.items()):
        for item in items:
            path = item.path(root="")
            lines.append(f"{path or '.'}: {_kind(kind)}")
    return tuple(sorted(lines))


def _kind(deepdiff_kind: str) -> str:
    for word in ("added", "removed", "changed"):
        if word in deepdiff_kind:
            return word
    return deepdiff_kind.replace("_", " ")
