"""The planner: desired runs + recorded state -> one action per run, with a reason.

Each run goes down a flat ladder of early returns (`decide`), in dependency order so that a run
knows what its upstreams will do: a reference to an upstream that will (re)start, or is still
running, is ``(known after apply)``. Decisions use run keys (fingerprints); `diffs` only explains.

This module is the one place that resolves a run's inputs (`planned_inputs`) and computes its key
(`planned_key`): `make_plan` does it against the upstreams planned as noops, apply against the
upstreams it has recorded as completed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.desired.runs import DesiredInput, DesiredRun, DesiredStack, OutputRef
from reconciler.errors import ManifestError, MissingOutputError, Problem, SourceLocation
from reconciler.parameters import infer_type
from reconciler.planning.changes import Action, Change, Plan, PlannedInput
from reconciler.planning.diffs import ignored_changes, input_diff
from reconciler.planning.fingerprints import input_body, key_of, record_input, recorded_key
from reconciler.planning.moves import find_moves, moved_state
from reconciler.planning.resolving import UNKNOWN, OutputLookup, resolve
from reconciler.redaction import Redactor
from reconciler.state.models import IN_PROGRESS, RecordedInput, RunRecord, State


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()


def make_plan(desired: DesiredStack, state: State, exists: bool, options: PlanOptions = PlanOptions()) -> Plan:
    """The plan that would bring ``state`` to ``desired``. Pure; raises ManifestError on bad refs."""
    moves = find_moves(desired, state)  # spec.movedFrom: planned against the records as renamed
    state = moved_state(state, moves)
    _check_names(desired, state, options)
    changes: dict[str, Change] = {}
    problems: list[Problem] = []
    done = _noop_records(changes, state.runs)
    for name in desired.order:
        run = desired.runs[name]
        try:
            changes[name] = _plan_run(run, state, changes, done, name in options.replace)
        except MissingOutputError as err:
            problems.append(Problem(err.location or _location(run), _missing(err, state)))
    if problems:
        raise ManifestError(problems)
    deletes = [_delete(name, state.runs[name]) for name in sorted(state.runs.keys() - desired.runs.keys())]
    selected = _selected(desired, state, options.targets)
    ordered = [c for c in [*changes.values(), *deletes] if c.run in selected]
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
        moves=tuple(m for m in moves if m.new in selected),
    )


def _plan_run(
    run: DesiredRun, state: State, planned: Mapping[str, Change], done: RecordLookup, replace: bool
) -> Change:
    record = state.runs.get(run.name)
    inputs = planned_inputs(run, done)
    key = planned_key(run, inputs, state.salt)
    action, reason = decide(run, record, key, replace)
    if action.starts and (blocked := _blocked(run, planned)):  # only a run that would start is blocked
        action, reason = blocked
    execution = record.execution if record is not None else None
    diff = input_diff(record, run, inputs, state.salt) if action is Action.RERUN and record is not None else ()
    # what ignoreChanges kept from re-running the run (a start sends the new values: nothing ignored)
    ignored = () if record is None or action.starts else ignored_changes(record, run, inputs, state.salt)
    return Change(
        run=run.name,
        action=action,
        reason=reason,
        workflow=run.workflow,
        inputs=inputs,
        key=key,
        depends_on=tuple(sorted(run.depends_on)),
        diff=diff,
        execution_id=execution.id if execution is not None else None,
        execution_state=execution.state if execution is not None else None,
        ignored=ignored,
    )


def _blocked(run: DesiredRun, planned: Mapping[str, Change]) -> tuple[Action, str] | None:
    failed = sorted(d for d in run.depends_on if d in planned and planned[d].action is Action.FAILED)
    if not failed:
        return None
    return Action.FAILED, f"blocked: depends on {', '.join(failed)}, which failed and will not be retried"


# Given an upstream run: its record when its outputs are final, or None (known after apply).
RecordLookup = Callable[[str], RunRecord | None]


def _noop_records(planned: Mapping[str, Change], records: Mapping[str, RunRecord]) -> RecordLookup:
    def final_record(upstream: str) -> RunRecord | None:
        """The upstream's record when its outputs are final (it is planned as a noop)."""
        change = planned.get(upstream)
        return records[upstream] if change is not None and change.action is Action.NOOP else None

    return final_record


def planned_inputs(run: DesiredRun, done: RecordLookup) -> dict[str, PlannedInput]:
    """The run's inputs resolved against completed upstreams (shared by plan and apply).

    A shorthand whole-value reference (``network: ${runs.net.outputs.id}``) takes the type the
    upstream's output was recorded with, so a number output stays a number (SPEC 2.2)."""

    def outputs(upstream: str) -> Mapping[str, Any] | None:
        record = done(upstream)
        return record.outputs if record is not None else None

    return {name: _planned_input(i, outputs, done) for name, i in run.inputs.items()}


def _planned_input(i: DesiredInput, outputs: OutputLookup, done: RecordLookup) -> PlannedInput:
    try:
        value = resolve(i.value, outputs)
    except MissingOutputError as err:  # placed where the reference is written
        raise err.located(i.location_of(str(OutputRef(err.run, err.output)))) from None
    type_name = i.type
    if i.type_inferred and isinstance(i.value, OutputRef) and value is not UNKNOWN:
        record = done(i.value.run)
        recorded = record.output_types.get(i.value.output) if record is not None else None
        type_name = recorded or infer_type(value) or i.type
    return PlannedInput(type_name, value, i.sensitive, i.source)


def planned_key(run: DesiredRun, inputs: Mapping[str, PlannedInput], salt: str) -> str | None:
    """The run key of these resolved inputs, or None while any is unknown; ``ignoreChanges`` left out."""
    if run.ignore_changes:
        inputs = {name: i for name, i in inputs.items() if name not in run.ignore_changes}
    if any(i.value is UNKNOWN for i in inputs.values()):
        return None
    bodies = {name: input_body(i.type, i.value, i.sensitive, salt) for name, i in inputs.items()}
    return key_of(run.workflow, bodies, run.revision)


def recorded_inputs(inputs: Mapping[str, PlannedInput], salt: str) -> dict[str, RecordedInput]:
    return {name: record_input(i.type, i.value, i.sensitive, salt) for name, i in inputs.items()}


def decide(run: DesiredRun, record: RunRecord | None, key: str | None, replace: bool) -> tuple[Action, str]:
    if record is None:
        return Action.START, "not yet run"
    if record.pending is not None:
        return Action.AWAIT, "a start was interrupted before its answer was recorded: apply looks it up and adopts it"
    execution = record.execution
    if execution is None:
        return Action.START, "recorded without an execution"
    state = execution.state
    if state in IN_PROGRESS:
        return Action.AWAIT, f"execution {execution.id} is still {state}"
    if state == "completed" and record.outputs_unread():  # settled only once read: never started again
        return Action.AWAIT, f"execution {execution.id} completed; outputs not read yet"
    if replace:
        return Action.RERUN, "replacement requested with --replace"
    if key is None:
        return Action.RERUN, "inputs depend on outputs known after apply; re-runs only if they change"
    if key != record.key and key != recorded_key(record, run.ignore_changes):
        return Action.RERUN, _why_key_changed(run, record)
    if state == "completed":
        return Action.NOOP, "completed with the same inputs"
    if run.on_failure == "retry" and record.attempts < run.max_attempts:
        return Action.RETRY, f"last execution {state}; attempt {record.attempts + 1} of {run.max_attempts}"
    return Action.FAILED, _why_failed(run, record)


def _why_key_changed(run: DesiredRun, record: RunRecord) -> str:
    if run.workflow != record.workflow:
        return "workflow changed"
    if run.revision != record.revision:
        return f"revision changed ({record.revision} -> {run.revision})"
    return "inputs changed"


def _why_failed(run: DesiredRun, record: RunRecord) -> str:
    execution = record.execution
    assert execution is not None
    detail = ""
    if execution.error:  # the server's words, recorded redacted (an older state may hold a secret in clear)
        redact = Redactor.of(i.value for i in run.inputs.values() if i.sensitive)
        detail = f": {redact(execution.error)}"
    if run.on_failure == "retry":
        return f"{execution.state} after {record.attempts} attempts (maxAttempts {run.max_attempts}){detail}"
    return f"last execution {execution.state} (onFailure: stop){detail}"


def _delete(name: str, record: RunRecord) -> Change:
    execution = record.execution
    running = execution is not None and execution.state in IN_PROGRESS
    reason = "no longer declared" + (f"; execution {execution.id} will be canceled" if running and execution else "")
    return Change(
        run=name,
        action=Action.DELETE,
        reason=reason,
        workflow=record.workflow,
        execution_id=execution.id if execution else None,
        execution_state=execution.state if execution else None,
    )


def _selected(desired: DesiredStack, state: State, targets: Iterable[str]) -> set[str]:
    """Every run when no target is given; else the targets and everything they depend on.

    A target that names a forEach declaration (``web``) means every run it expands to."""
    wanted = [run for target in targets for run in (desired.expand(target) or (target,))]
    if not wanted:
        return set(desired.runs) | set(state.runs)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in desired.runs:
            wanted.extend(desired.runs[name].depends_on)
    return seen


def _check_names(desired: DesiredStack, state: State, options: PlanOptions) -> None:
    known = set(desired.runs) | set(state.runs)
    unknown = [n for n in options.targets if n not in known and n not in desired.groups]
    unknown += [n for n in options.replace if n not in known]
    if unknown:
        problems = [Problem(SourceLocation("command line"), f"no run named {n!r}") for n in unknown]
        raise ManifestError(problems)
    not_declared = [n for n in options.replace if n not in desired.runs]
    if not_declared:
        raise ManifestError(
            [
                Problem(SourceLocation("--replace"), f"run {n!r} is not declared; it cannot be re-run")
                for n in not_declared
            ]
        )


def _missing(err: MissingOutputError, state: State) -> str:
    record = state.runs.get(err.run)
    if record is not None and err.output in record.sensitive_outputs:
        return (
            f"output {err.output!r} of run {err.run!r} is sensitive: it is not kept in the state, "
            "so another run cannot read it"
        )
    return err.message


def _location(run: DesiredRun) -> SourceLocation:
    return run.location or SourceLocation("manifests")
