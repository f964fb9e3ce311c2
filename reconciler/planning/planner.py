"""The planner: desired runs + recorded state -> one action per run, with a reason.

Each run goes down a flat ladder of early returns (`_decide`), in dependency order so that a run
knows what its upstreams will do: a reference to an upstream that will (re)start, or is still
running, is ``(known after apply)``. Decisions use run keys (fingerprints); `diffs` only explains.

Most inputs are scalars: `planned_inputs` gives them their desired type and value straight away, and
only a run with a reference makes the upstream-outputs lookup; the failed-upstream check is made
only for a run that would start (nothing else can be blocked).

`make_plan` takes a faster path to the same plan (tests check it against the plain planner): a
change's inputs are a `PlannedInputs` built when read, whole references to a noop upstream are read
from its record inline, and a run's key fragments are written in the same pass over its inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.desired.runs import DesiredInput, DesiredRun, DesiredStack, OutputRef
from reconciler.errors import ManifestError, Problem, SourceLocation
from reconciler.parameters import infer_type
from reconciler.planning.changes import Action, Change, ParamChange, Plan, PlannedInput, PlannedInputs, new_change
from reconciler.planning.diffs import input_diff
from reconciler.planning.fingerprints import fragment, fragments_key, inputs_key, record_input
from reconciler.planning.resolving import UNKNOWN, MissingOutputError, resolve
from reconciler.redaction import Redactor
from reconciler.state.models import IN_PROGRESS, RecordedInput, RunRecord, State


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()


def make_plan(desired: DesiredStack, state: State, exists: bool, options: PlanOptions = PlanOptions()) -> Plan:
    """The plan that would bring ``state`` to ``desired``. Pure; raises ManifestError on bad refs."""
    if options.targets or options.replace:  # without either, every name is known
        _check_names(desired, state, options)
    records = state.runs
    salt = state.salt
    replace = options.replace
    changes: dict[str, Change] = {}
    failed: list[Change] = []
    problems: list[Problem] = []
    runs = desired.runs
    for name in desired.order:
        run = runs[name]
        try:
            change = _plan_run(run, records.get(name), records, changes, salt, name in replace)
        except MissingOutputError as err:
            problems.append(Problem(err.location or _location(run), _missing(err, state)))
            continue
        changes[name] = change
        if change.action is _FAILED:
            failed.append(change)
    if problems:
        raise ManifestError(problems)
    deletes = [_delete(name, records[name]) for name in sorted(records.keys() - desired.runs.keys())]
    if options.targets:
        selected = _selected(desired, state, options.targets)
        ordered = [changes[n] for n in desired.order if n in selected] + [d for d in deletes if d.run in selected]
        failed = [c for c in failed if c.run in selected]
    else:  # every run is selected; `changes` is in desired.order
        ordered = [*changes.values(), *deletes]
    return Plan(
        changes=tuple(ordered),
        lineage=state.lineage,
        serial=state.serial,
        salt=salt,
        state_exists=exists,
        manifests_digest=desired.manifests_digest,
        targets=options.targets,
        replace=options.replace,
        warnings=tuple([f"{c.run}: {c.reason}" for c in failed]),  # a delete never fails
    )


_START, _RERUN, _RETRY, _AWAIT, _NOOP, _FAILED = (
    Action.START,
    Action.RERUN,
    Action.RETRY,
    Action.AWAIT,
    Action.NOOP,
    Action.FAILED,
)


def _plan_run(
    run: DesiredRun,
    record: RunRecord | None,
    records: Mapping[str, RunRecord],
    planned: Mapping[str, Change],
    salt: str,
    replace: bool,
) -> Change:
    inputs, key = _planned_lazily(run, planned, records, salt)
    action, reason = decide(run, record, key, replace)
    if action.starts:  # only a run that would start is blocked by a failed upstream
        blocked = sorted(d for d in run.depends_on if d in planned and planned[d].action is _FAILED)
        if blocked:
            action, reason = (
                _FAILED,
                f"blocked: depends on {', '.join(blocked)}, which failed and will not be retried",
            )
    execution = record.execution if record is not None else None
    diff: tuple[ParamChange, ...] = ()
    if action is _RERUN and record is not None:
        diff = input_diff(record, run, inputs, salt)
    depends_on = run.depends_on
    return new_change(
        run.name,
        action,
        reason,
        run.workflow,
        inputs,
        key,
        tuple(sorted(depends_on)) if len(depends_on) > 1 else tuple(depends_on),  # one name is sorted
        diff,
        execution.id if execution is not None else None,
        execution.state if execution is not None else None,
    )


def _planned_lazily(
    run: DesiredRun, planned: Mapping[str, Change], records: Mapping[str, RunRecord], salt: str
) -> tuple[PlannedInputs, str | None]:
    """`planned_inputs` as a `PlannedInputs` (built when read), and the run key (`planned_key`).

    The planner's fast path (tests check both against `planned_inputs` and `planned_key`): a scalar
    template is its own value, so only the other inputs are resolved and kept; a whole reference is
    read from the upstream's record when the upstream is planned as a noop (the `final_record` rule
    of `make_plan`), without a lookup function per run; and the key's fragments are written in the
    same pass by the rules of `fingerprints.inputs_key` (a list of (name, type, value, sensitive)
    for it to walk again cost a tenth of `make_plan`), then dropped for a run with an unknown input.
    """
    resolved: dict[str, tuple[str, Any]] | None = None
    fragments: list[tuple[str, str]] | None = []
    general = type(run.workflow) is not str or type(run.revision) is not int  # then `inputs_key` decides
    for name, i in run.inputs.items():
        value = i.value
        type_name = i.type
        if type(value) not in _SCALARS:
            type_name, value = _resolved(i, planned, records)
            if resolved is None:
                resolved = {}
            resolved[name] = (type_name, value)
            if value is UNKNOWN:
                fragments = None
                continue
        if fragments is None or general:
            continue
        if type(name) is not str:
            general = True
            continue
        fragments.append((name, fragment(name, type_name, value, i.sensitive, salt)))
    inputs = PlannedInputs(run.inputs, resolved)
    if fragments is None:
        return inputs, None
    if general:
        return inputs, planned_key(run, inputs, salt)
    return inputs, fragments_key(run.workflow, fragments, run.revision)


def _resolved(i: DesiredInput, planned: Mapping[str, Change], records: Mapping[str, RunRecord]) -> tuple[str, Any]:
    """The (type, value) a template input resolves to (`planned_inputs`' rule, upstreams done when noop)."""
    template = i.value
    if type(template) is not OutputRef:
        return i.type, resolve(template, _outputs_of(_noop_records(planned, records)))
    change = planned.get(template.run)
    if change is None or change.action is not _NOOP:
        return i.type, UNKNOWN
    record = records[template.run]
    outputs = record.outputs
    if template.output not in outputs:
        raise MissingOutputError(template.run, template.output, sorted(outputs), i.location_of(str(template)))
    value = outputs[template.output]
    if i.type_inferred:
        return record.output_types.get(template.output) or infer_type(value) or i.type, value
    return i.type, value


def _noop_records(planned: Mapping[str, Change], records: Mapping[str, RunRecord]) -> RecordLookup:
    def final_record(upstream: str) -> RunRecord | None:
        """The upstream's record when its outputs are final (it is planned as a noop)."""
        change = planned.get(upstream)
        return records[upstream] if change is not None and change.action is _NOOP else None

    return final_record


# Given an upstream run: its record when its outputs are final, or None (known after apply).
RecordLookup = Callable[[str], RunRecord | None]


def planned_inputs(run: DesiredRun, done: RecordLookup) -> dict[str, PlannedInput]:
    """The run's inputs resolved against completed upstreams (shared by plan and apply).

    A shorthand whole-value reference (``network: ${runs.net.outputs.id}``) takes the type the
    upstream's output was recorded with, so a number output stays a number (SPEC 2.2)."""
    return _planned(run, done)[0]


def _planned(run: DesiredRun, done: RecordLookup) -> tuple[dict[str, PlannedInput], list[_Flat] | None]:
    """`planned_inputs` and, unless one is unknown, the (name, type, value, sensitive) list of
    `planned_key`, gathered in the same pass (tests check the key against `planned_key`)."""
    resolved: dict[str, PlannedInput] = {}
    flat: list[_Flat] | None = []
    outputs: Callable[[str], Mapping[str, Any] | None] | None = None
    for name, i in run.inputs.items():
        value = i.value
        if type(value) in _SCALARS:
            # a scalar template is its own value (most inputs are) and keeps its desired type
            resolved[name] = PlannedInput(i.type, value, i.sensitive, i.source)
            if flat is not None:
                flat.append((name, i.type, value, i.sensitive))
            continue
        if outputs is None:
            outputs = _outputs_of(done)
        try:
            value = resolve(value, outputs)
        except MissingOutputError as err:  # placed where the reference is written
            raise err.located(i.location_of(str(OutputRef(err.run, err.output)))) from None
        type_name = i.type
        if i.type_inferred and isinstance(i.value, OutputRef) and value is not UNKNOWN:
            record = done(i.value.run)
            recorded = record.output_types.get(i.value.output) if record is not None else None
            type_name = recorded or infer_type(value) or i.type
        resolved[name] = PlannedInput(type_name, value, i.sensitive, i.source)
        if value is UNKNOWN:
            flat = None
        elif flat is not None:
            flat.append((name, type_name, value, i.sensitive))
    return resolved, flat


_Flat = tuple[str, str, Any, bool]


def _outputs_of(done: RecordLookup) -> Callable[[str], Mapping[str, Any] | None]:
    """An upstream's outputs when they are final, else None (made only for a run with references)."""

    def outputs(upstream: str) -> Mapping[str, Any] | None:
        record = done(upstream)
        return record.outputs if record is not None else None

    return outputs


_SCALARS = frozenset({str, int, float, bool, type(None)})


def planned_key(run: DesiredRun, inputs: Mapping[str, PlannedInput], salt: str) -> str | None:
    """The run key of these resolved inputs, or None while any is unknown."""
    if any(i.value is UNKNOWN for i in inputs.values()):
        return None
    return inputs_key(run.workflow, [(n, i.type, i.value, i.sensitive) for n, i in inputs.items()], run.revision, salt)


def recorded_inputs(inputs: Mapping[str, PlannedInput], salt: str) -> dict[str, RecordedInput]:
    return {name: record_input(i.type, i.value, i.sensitive, salt) for name, i in inputs.items()}


def decide(run: DesiredRun, record: RunRecord | None, key: str | None, replace: bool) -> tuple[Action, str]:
    if record is None:
        return _START, "not yet run"
    if record.pending is not None:
        return _AWAIT, "a start was interrupted before its answer was recorded: apply looks it up and adopts it"
    execution = record.execution
    if execution is None:
        return _START, "recorded without an execution"
    state = execution.state  # read once: a pydantic attribute costs more than a local
    if state in IN_PROGRESS:
        return _AWAIT, f"execution {execution.id} is still {state}"
    if state == "completed" and record.outputs_unread():  # settled only once read: never started again
        return _AWAIT, f"execution {execution.id} completed; outputs not read yet"
    if replace:
        return _RERUN, "replacement requested with --replace"
    if key is None:
        return _RERUN, "inputs depend on outputs known after apply; re-runs only if they change"
    if key != record.key:
        return _RERUN, _why_key_changed(run, record)
    if state == "completed":
        return _NOOP, "completed with the same inputs"
    if run.on_failure == "retry" and record.attempts < run.max_attempts:
        return _RETRY, f"last execution {state}; attempt {record.attempts + 1} of {run.max_attempts}"
    return _FAILED, _why_failed(run, record)


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
    """Every run when no target is given; else the targets and everything they depend on."""
    wanted = list(targets)
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
    unknown = [n for n in (*options.targets, *options.replace) if n not in known]
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
