"""Building blocks for the planning tests: small YAML stacks, states, and a pure simulated apply."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.planning.changes import Action, Plan
from reconciler.planning.planner import PlanOptions, make_plan, planned_inputs, planned_key, recorded_inputs
from reconciler.planning.resolving import UNKNOWN
from reconciler.state.models import Execution, RunRecord, State

LINEAGE = "0b9c7f7e-1d2a-4c3b-9e8f-000000000001"
SALT = "c2FsdC1mb3ItdGVzdHM="
SECRET = "s3cret-Tr0ub4dor&3"

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: tests}
spec:
  endpoint:
    url: http://127.0.0.1:1
    apiVersion: "37.1"
    org: acme
    auth: {username: u, passwordFrom: {env: VCD_PASSWORD}}
"""


def run_doc(
    name: str,
    workflow: str = "wf",
    parameters: Mapping[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """One WorkflowRun document as data; ``spec`` adds revision, dependsOn, onFailure, maxAttempts..."""
    body: dict[str, Any] = {"workflow": workflow, "parameters": dict(parameters or {})}
    body.update(spec)
    return {"apiVersion": "reconciler/v1", "kind": "WorkflowRun", "metadata": {"name": name}, "spec": body}


def to_yaml(*documents: Mapping[str, Any]) -> str:
    return "---\n".join(yaml.safe_dump(dict(d), sort_keys=False) for d in documents)


def load(
    files: Sequence[tuple[str, str]] | str,
    environ: Mapping[str, str] | None = None,
) -> DesiredStack:
    """A DesiredStack from manifest texts (one text, or (path, text) pairs)."""
    pairs = [("manifests/runs.yaml", files)] if isinstance(files, str) else list(files)
    env = {"PW": SECRET} if environ is None else dict(environ)
    _, desired = load_stack(STACK, "reconciler.yaml", pairs, {}, [], env, _no_files)
    return desired


def stack(*documents: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> DesiredStack:
    return load(to_yaml(*documents), environ)


def _no_files(path: str) -> str:
    raise FileNotFoundError(path)


def empty_state(serial: int = 0, salt: str = SALT) -> State:
    return State(serial=serial, lineage=LINEAGE, salt=salt)


def outputs_for(run: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deterministic outputs of a run: a function of its name and its (recorded) inputs."""
    digest = hashlib.sha256(json.dumps([run, inputs], sort_keys=True, default=str).encode()).hexdigest()
    return {"id": f"{run}-{digest[:8]}", "count": int(digest[8:12], 16), "tags": [run, digest[:4]]}


def resolved_inputs(desired: DesiredStack, name: str, state: State) -> dict[str, Any]:
    """The run's inputs resolved against the *recorded* outputs of completed upstreams, as apply does."""

    def done(upstream: str) -> RunRecord | None:
        record = state.runs.get(upstream)
        finished = record is not None and record.execution is not None and record.execution.state == "completed"
        return record if finished else None

    return planned_inputs(desired.runs[name], done)


def completed_record(
    desired: DesiredStack,
    name: str,
    state: State,
    outputs: Mapping[str, Any] | None = None,
    execution_id: str | None = None,
) -> RunRecord:
    """What apply records once ``name`` completed, its inputs resolved against ``state``."""
    run = desired.runs[name]
    inputs = resolved_inputs(desired, name, state)
    assert all(i.value is not UNKNOWN for i in inputs.values()), f"{name}: upstream outputs unknown"
    key = planned_key(run, inputs, state.salt)
    assert key is not None
    recorded = recorded_inputs(inputs, state.salt)
    plain = {n: (r.hash if r.sensitive else r.value) for n, r in recorded.items()}
    return RunRecord(
        workflow=run.workflow,
        key=key,
        inputs=recorded,
        revision=run.revision,
        execution=Execution(id=execution_id or f"exec-{name}", state="completed", started_by="u"),
        attempts=1,
        outputs=dict(outputs_for(name, plain) if outputs is None else outputs),
        depends_on=sorted(run.depends_on),
    )


def simulate_apply(desired: DesiredStack, state: State, plan: Plan) -> State:
    """Carry ``plan`` out purely, as apply would if every execution completed.

    A start, rerun or retry records a completed execution whose key is recomputed from the upstream
    outputs recorded so far; an await completes the execution it waits for (its key unchanged); a
    delete drops the record.
    """
    runs = dict(state.runs)
    for change in plan.changes:
        current = state.model_copy(update={"runs": runs})
        record = runs.get(change.run)
        if change.action is Action.DELETE:
            runs.pop(change.run, None)
        elif change.action is Action.AWAIT and record is not None and record.pending is None:
            runs[change.run] = _completed(change.run, record)
        elif change.action not in (Action.NOOP, Action.FAILED):
            runs[change.run] = completed_record(desired, change.run, current)
    return state.model_copy(update={"runs": runs, "serial": state.serial + 1})


def _completed(name: str, record: RunRecord) -> RunRecord:
    assert record.execution is not None
    plain = {n: (r.hash if r.sensitive else r.value) for n, r in record.inputs.items()}
    execution = record.execution.model_copy(update={"state": "completed"})
    return record.model_copy(update={"execution": execution, "outputs": outputs_for(name, plain)})


def applied_state(desired: DesiredStack, salt: str = SALT) -> State:
    """The state after applying ``desired`` to an empty state."""
    state = empty_state(salt=salt)
    return simulate_apply(desired, state, make_plan(desired, state, exists=False))


def plan(desired: DesiredStack, state: State, *, targets: Sequence[str] = (), replace: Sequence[str] = ()) -> Plan:
    return make_plan(desired, state, exists=True, options=PlanOptions(tuple(targets), tuple(replace)))


def with_record(state: State, name: str, **update: Any) -> State:
    """``state`` with run ``name``'s record updated (``execution`` may be a dict of Execution fields)."""
    record = state.runs[name]
    if isinstance(update.get("execution"), dict):
        assert record.execution is not None
        update["execution"] = record.execution.model_copy(update=update["execution"])
    return state.model_copy(update={"runs": {**state.runs, name: record.model_copy(update=update)}})
