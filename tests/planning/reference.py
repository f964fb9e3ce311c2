"""The planner written the plain way, for the fast path of `make_plan` to be checked against.

`make_plan` builds a change's inputs lazily (`PlannedInputs`), resolves whole references inline and
skips the target and name passes that cannot matter; this is the rule it must equal, written with
the eager `planned_inputs` and `planned_key` (themselves checked against the general rule)."""

from __future__ import annotations

from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError, MissingOutputError, Problem
from reconciler.planning.changes import Action, Change, ParamChange, Plan
from reconciler.planning.diffs import input_diff
from reconciler.planning.planner import (
    PlanOptions,
    _check_names,
    _delete,
    _location,
    _missing,
    _selected,
    decide,
    planned_inputs,
    planned_key,
)
from reconciler.state.models import RunRecord, State


def reference_plan(desired: DesiredStack, state: State, exists: bool, options: PlanOptions = PlanOptions()) -> Plan:
    _check_names(desired, state, options)
    selected = _selected(desired, state, options.targets)
    changes: dict[str, Change] = {}
    problems: list[Problem] = []

    def final_record(upstream: str) -> RunRecord | None:
        change = changes.get(upstream)
        return state.runs[upstream] if change is not None and change.action is Action.NOOP else None

    for name in desired.order:
        run = desired.runs[name]
        try:
            inputs = planned_inputs(run, final_record)
        except MissingOutputError as err:
            problems.append(Problem(err.location or _location(run), _missing(err, state)))
            continue
        record = state.runs.get(name)
        key = planned_key(run, inputs, state.salt)
        action, reason = decide(run, record, key, name in options.replace)
        if action.starts:
            blocked = sorted(d for d in run.depends_on if d in changes and changes[d].action is Action.FAILED)
            if blocked:
                action = Action.FAILED
                reason = f"blocked: depends on {', '.join(blocked)}, which failed and will not be retried"
        execution = record.execution if record is not None else None
        diff: tuple[ParamChange, ...] = ()
        if action is Action.RERUN and record is not None:
            diff = input_diff(record, run, inputs, state.salt)
        changes[name] = Change(
            run=name,
            action=action,
            reason=reason,
            workflow=run.workflow,
            inputs=inputs,
            key=key,
            depends_on=tuple(sorted(run.depends_on)),
            diff=diff,
            execution_id=execution.id if execution is not None else None,
            execution_state=execution.state if execution is not None else None,
        )
    if problems:
        raise ManifestError(problems)
    deletes = [_delete(name, state.runs[name]) for name in sorted(set(state.runs) - set(desired.runs))]
    ordered = [changes[n] for n in desired.order if n in selected] + [d for d in deletes if d.run in selected]
    return Plan(
        changes=tuple(ordered),
        lineage=state.lineage,
        serial=state.serial,
        salt=state.salt,
        state_exists=exists,
        manifests_digest=desired.manifests_digest,
        targets=options.targets,
        replace=options.replace,
        warnings=tuple(f"{c.run}: {c.reason}" for c in ordered if c.action is Action.FAILED),
    )
