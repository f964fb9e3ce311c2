"""``ignoreChanges`` added to runs of a state written before it existed (``data/upgrade/``).

The stored keys were computed with every parameter in them. Adding ``ignoreChanges`` to some runs
re-runs nothing, even with the ignored secret rotated at the same time, and the runs without it keep
their stored keys exactly (`test_upgrade_keys.py` proves those keys for the unchanged stack).
"""

from __future__ import annotations

from pathlib import Path

from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.planning.changes import Action
from reconciler.planning.planner import make_plan, planned_inputs, planned_key
from reconciler.state.models import State

DATA = Path(__file__).parent / "data" / "upgrade"
ENVIRON = {"UPGRADE_SECRET": "env-s3cret", "UPGRADE_NUMBER": "17.5", "UPGRADE_BOOL": "true", "VCD_PASSWORD": "x"}
# where each edited run gets its ignoreChanges (a line of its spec, the one after which it goes)
EDITS = {
    "base.yaml": ("  maxAttempts: 4\n", "  ignoreChanges: [secretEnv]\n"),
    "refs.yaml": ('  forEach: ["1", "2"]\n', "  ignoreChanges: [pw, label]\n"),
}


def _desired(environ: dict[str, str]) -> DesiredStack:
    files = []
    for path in sorted((DATA / "manifests").glob("*.yaml")):
        text = path.read_text("utf-8")
        after, added = EDITS[path.name]
        assert text.count(after) == 1, path.name
        files.append((f"manifests/{path.name}", text.replace(after, after + added)))
    stack_text = (DATA / "reconciler.yaml").read_text("utf-8")
    _, desired = load_stack(
        stack_text, "reconciler.yaml", files, {}, [], environ, lambda p: (DATA / p).read_text("utf-8")
    )
    return desired


def _state() -> State:
    return State.model_validate_json((DATA / "state.json").read_text("utf-8"))


def test_adding_ignore_changes_to_an_upgraded_state_reruns_nothing() -> None:
    desired, state = _desired(ENVIRON), _state()
    assert desired.runs["explicit"].ignore_changes == {"secretEnv"}
    assert desired.runs["vm-1"].ignore_changes == desired.runs["vm-2"].ignore_changes == {"pw", "label"}
    plan = make_plan(desired, state, exists=True)
    assert {c.run: c.action for c in plan.changes} == dict.fromkeys(state.runs, Action.NOOP)
    assert all(c.ignored == () for c in plan.changes)


def test_the_ignored_secret_rotated_at_the_same_time_is_noted_and_reruns_nothing() -> None:
    desired, state = _desired({**ENVIRON, "UPGRADE_SECRET": "rotated"}), _state()
    plan = make_plan(desired, state, exists=True)
    assert {c.run: c.action for c in plan.changes} == dict.fromkeys(state.runs, Action.NOOP)
    noted = {c.run: [p.name for p in c.ignored] for c in plan.changes if c.ignored}
    assert noted == {"explicit": ["secretEnv"], "vm-1": ["pw"], "vm-2": ["pw"]}


def test_runs_without_ignore_changes_keep_their_stored_keys() -> None:
    desired, state = _desired(ENVIRON), _state()
    ignoring = {"explicit", "vm-1", "vm-2"}
    for name, run in desired.runs.items():
        key = planned_key(run, planned_inputs(run, state.runs.get), state.salt)
        assert (key == state.runs[name].key) is (name not in ignoring), name
