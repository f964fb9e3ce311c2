"""``spec.ignoreChanges``: parameters kept out of the run key (SPEC 2.2); pure planner tests.

A change to an ignored parameter alone re-runs nothing and the plan notes it; its value is still sent
when the run starts; adding or removing a name in ignoreChanges re-runs nothing by itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.planning.changes import Action
from reconciler.planning.fingerprints import input_body, key_of
from reconciler.planning.planner import make_plan, planned_inputs, planned_key
from reconciler.planning.rendering import plan_document
from reconciler.state.models import State
from reconciler.ui import plan_view
from tests.planning.stacks import SECRET, applied_state, empty_state, load, plan, run_doc, stack

SHARED = {"type": "SecureString", "valueFrom": {"env": "PW"}}


def _desired(label: str = "blue", cpus: int = 2, secret: str = SECRET, ignore: list[str] | None = None) -> Any:
    spec = {} if ignore is None else {"ignoreChanges": ignore}
    params = {"cpus": cpus, "label": label, "sharedSecret": SHARED}
    return stack(run_doc("web", "wf", params, **spec), run_doc("db", "wf-db", {"size": 1}), environ={"PW": secret})


def _applied(ignore: list[str] | None = None) -> State:
    return applied_state(_desired(ignore=ignore))


def test_a_rotated_secret_that_is_ignored_reruns_nothing_and_is_noted() -> None:
    result = plan(_desired(secret="rotated", ignore=["sharedSecret"]), _applied(["sharedSecret"]))
    web = result.by_run()["web"]
    assert web.action is Action.NOOP and not result.has_changes
    assert [(p.name, p.kind, p.before, p.after) for p in web.ignored] == [
        ("sharedSecret", "changed", "(sensitive)", "(sensitive)")
    ]
    assert result.by_run()["db"].ignored == ()


def test_the_same_change_without_ignore_changes_reruns() -> None:
    assert plan(_desired(secret="rotated"), _applied()).by_run()["web"].action is Action.RERUN


def test_another_parameter_reruns_and_its_diff_shows_the_ignored_one_too() -> None:
    result = plan(_desired(label="green", cpus=4, ignore=["label"]), _applied(["label"]))
    web = result.by_run()["web"]
    assert web.action is Action.RERUN and web.ignored == ()  # the re-run sends the new label
    assert [(p.name, p.before, p.after) for p in web.diff] == [("cpus", 2, 4), ("label", "blue", "green")]


def test_the_ignored_value_is_still_sent_at_start() -> None:
    desired = _desired(label="green", ignore=["label"])
    start = make_plan(desired, empty_state(), exists=False).by_run()["web"]
    assert start.action is Action.START and start.inputs["label"].value == "green"


def test_only_the_ignored_parameters_leave_the_key() -> None:
    plain, ignoring = _desired().runs["web"], _desired(ignore=["label"]).runs["web"]
    inputs = planned_inputs(plain, lambda _: None)
    bodies = {n: input_body(i.type, i.value, i.sensitive, "salt") for n, i in inputs.items()}
    assert planned_key(plain, inputs, "salt") == key_of("wf", bodies, 1)  # unchanged for runs without it
    del bodies["label"]
    assert planned_key(ignoring, inputs, "salt") == key_of("wf", bodies, 1)


@pytest.mark.parametrize(
    ("before", "after"), [(None, ["label"]), (["label"], None), (["label"], ["label", "cpus"])], ids=str
)
def test_adding_or_removing_a_name_in_ignore_changes_reruns_nothing(
    before: list[str] | None, after: list[str] | None
) -> None:
    result = plan(_desired(ignore=after), _applied(before))
    assert {c.action for c in result.changes} == {Action.NOOP} and not result.has_changes


def test_adding_ignore_changes_with_a_changed_value_notes_it_and_reruns_nothing() -> None:
    result = plan(_desired(label="green", ignore=["label"]), _applied())
    web = result.by_run()["web"]
    assert web.action is Action.NOOP
    assert [(p.name, p.before, p.after) for p in web.ignored] == [("label", "blue", "green")]


def test_an_ignored_input_known_only_after_apply_does_not_make_the_key_unknown() -> None:
    def desired(cidr: str) -> Any:
        return stack(
            run_doc("net", "wf-net", {"cidr": cidr}),
            run_doc("web", "wf", {"n": 1, "net": "${runs.net.outputs.id}"}, ignoreChanges=["net"]),
        )

    result = plan(desired("10.0.1.0/24"), applied_state(desired("10.0.0.0/24")))
    assert result.by_run()["net"].action is Action.RERUN
    web = result.by_run()["web"]
    assert web.action is Action.NOOP and web.ignored == ()  # an unknown value is not a change yet


def test_text_markdown_and_json_note_the_ignored_change() -> None:
    result = plan(_desired(secret="rotated", ignore=["sharedSecret"]), _applied(["sharedSecret"]))
    text = "\n".join(plan_view.plan_lines(result))
    assert "~[/] sharedSecret: change ignored (ignoreChanges)" in text
    assert "will perform" not in text and "No changes." in text
    markdown = plan_view.markdown(result)
    assert "- `web` ~ `sharedSecret`: change ignored (ignoreChanges)" in markdown
    document = plan_document(result)
    web = next(c for c in document["changes"] if c["run"] == "web")
    assert web["ignored"] == [
        {"parameter": "sharedSecret", "change": "changed", "before": "(sensitive)", "after": "(sensitive)"}
    ]
    assert "ignored" not in next(c for c in document["changes"] if c["run"] == "db")
    assert "rotated" not in str(document) and SECRET not in text + markdown


def test_a_rerun_elsewhere_shows_the_ignored_note_beside_the_changes() -> None:
    result = plan(
        stack(
            run_doc("web", "wf", {"cpus": 2, "label": "green", "sharedSecret": SHARED}, ignoreChanges=["label"]),
            run_doc("db", "wf-db", {"size": 2}),
        ),
        _applied(["label"]),
    )
    text = "\n".join(plan_view.plan_lines(result))
    assert text.index("will perform") < text.index("# db") < text.index("# web[/] is unchanged")
    assert "~[/] label: change ignored (ignoreChanges)" in text
    assert "~     label: change ignored" not in plan_view.markdown(result)  # a noop's note is under the table
    assert "- `web` ~ `label`: change ignored (ignoreChanges)" in plan_view.markdown(result)


def test_an_unknown_name_in_ignore_changes_is_a_located_error() -> None:
    manifest = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: web}
spec:
  workflow: wf
  parameters: {cpus: 2, label: blue}
  ignoreChanges: [label, lable]
"""
    with pytest.raises(ManifestError) as caught:
        load(manifest)
    assert str(caught.value) == (
        "manifests/runs.yaml:7:26: ignoreChanges: 'lable' is not a parameter of this run (its parameters: cpus, label)"
    )
