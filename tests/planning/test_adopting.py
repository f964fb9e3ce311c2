"""An adopted execution (``reconciler import``) is recorded with the inputs it was started with, so that
the plan of an imported run whose inputs differ shows ``~ old -> new``, not every input as added."""

from __future__ import annotations

from typing import Any

from reconciler.planning.adopting import adopted_inputs
from reconciler.planning.changes import Action, Plan
from reconciler.planning.fingerprints import recorded_key
from reconciler.planning.planner import planned_inputs, planned_key, recorded_inputs
from reconciler.remote.matching import same_value
from reconciler.state.models import Execution, RunRecord
from reconciler.ui import plan_view
from tests.planning.stacks import SALT, empty_state, plan, run_doc, stack
from tests.ui.test_plan_golden import text_of

DESIRED = stack(
    run_doc(
        "web",
        "wf-web",
        {"vmName": "web-01", "cpus": 4, "zone": "eu", "pw": {"type": "SecureString", "valueFrom": {"env": "PW"}}},
    )
)


def _declared() -> Any:
    return planned_inputs(DESIRED.runs["web"], lambda upstream: None)


def _imported(sent: dict[str, tuple[str, Any]]) -> Plan:
    record = RunRecord(
        workflow="wf-web",
        key="imported:exec-1",
        inputs=adopted_inputs(_declared(), sent, SALT, same_value),
        execution=Execution(id="exec-1", state="completed"),
        attempts=1,
        outputs_read=True,
    )
    state = empty_state().model_copy(update={"runs": {"web": record}})
    return plan(DESIRED, state)


def test_an_execution_started_with_other_values_records_them_and_the_plan_shows_old_to_new() -> None:
    sent = {
        "vmName": ("string", "web-01"),
        "cpus": ("number", 2),
        "zone": ("string", "us"),
        "pw": ("SecureString", "whatever-the-server-says"),
        "extra": ("string", "server default"),  # not declared: not recorded, not in the diff
    }
    change = _imported(sent).by_run()["web"]
    assert change.action is Action.RERUN and change.reason == "inputs changed"
    assert [(p.name, p.kind, p.before, p.after) for p in change.diff] == [
        ("cpus", "changed", 2, 4),
        ("zone", "changed", "us", "eu"),
    ]
    text = text_of(plan_view.plan_lines(_imported(sent)))
    assert "~ cpus = 2 -> 4" in text and '~ zone = "us" -> "eu"' in text
    assert "+ cpus" not in text and "vmName" not in text and "whatever" not in text


def test_an_execution_started_with_the_declared_values_is_recorded_as_declared_and_is_unchanged() -> None:
    sent = {
        "vmName": ("string", "web-01"),
        "cpus": ("number", 4.0),
        "zone": ("string", "eu"),
        "pw": ("SecureString", ""),
    }
    recorded = adopted_inputs(_declared(), sent, SALT, same_value)
    assert recorded == recorded_inputs(_declared(), SALT)  # 4.0 spelled back for 4: the declared value
    record = RunRecord(workflow="wf-web", key="imported:exec-1", inputs=recorded)
    assert recorded_key(record) == planned_key(DESIRED.runs["web"], _declared(), SALT)
    assert _imported(sent).by_run()["web"].action is Action.NOOP


def test_a_declared_input_the_execution_lacks_is_shown_added() -> None:
    sent = {"vmName": ("string", "web-01"), "cpus": ("number", 4), "pw": ("SecureString", "")}
    change = _imported(sent).by_run()["web"]
    assert [(p.name, p.kind, p.after) for p in change.diff] == [("zone", "added", "eu")]


def test_a_secret_the_server_returns_in_clear_is_recorded_only_as_its_hash() -> None:
    declared = {**_declared()}
    recorded = adopted_inputs(declared, {"pw": ("SecureString", "clear-text")}, SALT, lambda *_: False)
    assert recorded["pw"].sensitive and recorded["pw"].value is None and recorded["pw"].hash
    assert "clear-text" not in repr(recorded)
