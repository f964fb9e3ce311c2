"""Run keys stored in users' states keep their value: a state written before issue 9 plans as noops.

``data/upgrade/state.json`` was written by the planner of before issue 9 (the rules apply records
a completed run with: inputs resolved against the recorded upstream outputs, `planned_key`,
`recorded_inputs`) for the stack in ``data/upgrade/``, which covers every parameter type in the
shorthand and explicit forms, ``valueFrom`` env and file, plain and sensitive variables, forEach
over a list and a mapping, references whole, inside text, in lists and mappings, dependsOn, a
rendered workflow and revisions. Planning it again must start nothing: no run is re-run because
the key computation changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.planning.changes import Action
from reconciler.planning.planner import make_plan, planned_inputs, planned_key
from reconciler.state.models import RunRecord, State

DATA = Path(__file__).parent / "data" / "upgrade"
ENVIRON = {"UPGRADE_SECRET": "env-s3cret", "UPGRADE_NUMBER": "17.5", "UPGRADE_BOOL": "true", "VCD_PASSWORD": "x"}


def _desired() -> DesiredStack:
    files = [(f"manifests/{p.name}", p.read_text("utf-8")) for p in sorted((DATA / "manifests").glob("*.yaml"))]
    stack_text = (DATA / "reconciler.yaml").read_text("utf-8")
    _, desired = load_stack(
        stack_text, "reconciler.yaml", files, {}, [], ENVIRON, lambda p: (DATA / p).read_text("utf-8")
    )
    return desired


def _state() -> State:
    return State.model_validate_json((DATA / "state.json").read_text("utf-8"))


def test_a_state_written_before_the_upgrade_plans_every_run_as_a_noop() -> None:
    desired, state = _desired(), _state()
    plan = make_plan(desired, state, exists=True)
    assert {c.run: c.action for c in plan.changes} == dict.fromkeys(state.runs, Action.NOOP)
    assert len(plan.changes) == len(desired.runs) == 8


def test_apply_computes_the_stored_key_of_every_run() -> None:
    """What apply computes once the upstreams are done (`planned_inputs`, `planned_key`) is the stored key."""
    desired, state = _desired(), _state()
    for name, run in desired.runs.items():
        inputs = planned_inputs(run, state.runs.get)
        assert planned_key(run, inputs, state.salt) == state.runs[name].key, name


def test_the_stored_keys_are_sha256_of_the_canonical_json_of_the_recorded_inputs() -> None:
    """The definition, written out: sorted keys, no spaces, UTF-8, a secret as its keyed hash."""
    for name, record in _state().runs.items():
        assert record.key == _canonical_key(record), name


def _canonical_key(record: RunRecord) -> str:
    bodies = {
        name: {"type": i.type, "hash": i.hash} if i.sensitive else {"type": i.type, "value": i.value}
        for name, i in record.inputs.items()
    }
    body = {"workflow": record.workflow, "revision": record.revision, "inputs": bodies}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
