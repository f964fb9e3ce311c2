"""Checking desired runs against workflow definitions (`reconciler.planning.checking`), purely.

Each mistake of issue 10 is found, located where it is written, and reported together with every
other; what is valid is never refused (the stack of test_upgrade_keys, declared as it was recorded,
checks clean); runs of a workflow not read are skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.definitions import Definitions, ParameterDefinition, WorkflowDefinition, WorkflowUnavailable
from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError, Problem
from reconciler.parameters import check_value, infer_type
from reconciler.planning.checking import CheckReport, check_runs, definition_changes, unchecked_problems
from reconciler.state.models import State

from .stacks import SECRET, load, run_doc, to_yaml

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _in(
    name: str, type_name: str = "string", mandatory: bool | None = False, default: Any = None
) -> ParameterDefinition:
    return ParameterDefinition(name, type_name, "input", mandatory=mandatory, default=default)


def _out(name: str, type_name: str = "string") -> ParameterDefinition:
    return ParameterDefinition(name, type_name, "output")


VM = WorkflowDefinition(
    "wf-vm",
    "Create VM",
    inputs=(
        _in("hostname", mandatory=True),
        _in("cpuCount", "number"),
        _in("password", "SecureString"),
        _in("when", "Date"),
        _in("tags", "Array/number"),
        _in("network"),
        _in("vm", "VC:VirtualMachine"),
        _in("props", "Properties"),
        _in("size", "number", mandatory=True, default=1),
    ),
    outputs=(_out("id"), _out("ip")),
)
NET = WorkflowDefinition(
    "wf-net", "Create network", inputs=(_in("name"),), outputs=(_out("networkId"), _out("vlan", "number"))
)
KNOWN = Definitions(known={"wf-vm": VM, "wf-net": NET})
NET_RUN = run_doc("net", "wf-net", {"name": "n1"})


def _check(parameters: Mapping[str, Any], definitions: Definitions = KNOWN) -> CheckReport:
    return check_runs(load(to_yaml(NET_RUN, run_doc("vm", "wf-vm", {"hostname": "h", **parameters}))), definitions)


def _texts(problems: Sequence[Problem]) -> list[str]:
    return [str(p) for p in problems]


# In `_check`'s manifest, NET_RUN takes 8 lines and a `---`; `vm`'s `hostname` is on line 17 and
# the parameter under test on line 18.
@pytest.mark.parametrize(
    ("parameters", "where", "expected"),
    [
        (
            {"hostnmae": "x"},
            "18:5",
            "unknown parameter 'hostnmae': workflow 'Create VM' has no such input; did you mean 'hostname'?",
        ),
        ({"colour": "x"}, "18:5", "(its inputs: hostname, cpuCount, password, when, tags, network, vm, props, size)"),
        (
            {"network": 5},
            "18:5",
            'declares it string: expected a string, got a number (quote it to write a string: "5")',
        ),
        ({"cpuCount": "4"}, "18:5", "declares it number: expected a number, got a string"),
        ({"cpuCount": True}, "18:5", "declares it number: expected a number, got a boolean"),
        ({"when": "tomorrow"}, "18:5", "declares it Date: expected an ISO 8601 date, got 'tomorrow'"),
        ({"when": "2026-01-31"}, "18:5", "this shorthand value is sent as string: write {type: Date, value: ...}"),
        ({"tags": [1, 2.5]}, None, None),
        ({"tags": ["a"]}, "18:5", "declares it Array/number: item 0: expected a number, got a string"),
        ({"tags": []}, "18:5", "sent as Array/string: write {type: Array/number, value: ...}"),
        ({"tags": {"type": "Array/string", "value": ["a"]}}, "18:5", "declares it Array/number, not Array/string"),
        ({"password": "literal"}, "18:5", "declares it SecureString: give it with valueFrom"),
        ({"password": {"type": "SecureString", "valueFrom": {"env": "PW"}}}, None, None),
        ({"password": {"type": "string", "valueFrom": {"env": "PW"}}}, "18:5", "declares it SecureString: give it"),
        (
            {"network": {"type": "SecureString", "valueFrom": {"env": "PW"}}},
            "18:5",
            "declares it string, not SecureString",
        ),
        ({"vm": {"type": "VC:VirtualMachine", "value": {"id": "vm-1"}}}, None, None),
        ({"vm": {"type": "vc:virtualmachine", "value": {"id": "vm-1"}}}, None, None),  # as the server compares
        (
            {"vm": {"type": "VC:Datastore", "value": {"id": "ds-1"}}},
            "18:5",
            "declares it VC:VirtualMachine, not VC:Datastore",
        ),
        ({"props": {"type": "Properties", "value": {"a": 1, "b": "${runs.net.outputs.vlan}"}}}, None, None),
        ({"cpuCount": 4, "when": {"type": "Date", "value": "2026-01-31T10:00:00Z"}}, None, None),
    ],
)
def test_each_parameter_is_checked_against_its_declared_input(
    parameters: dict[str, Any], where: str | None, expected: str | None
) -> None:
    report = _check(parameters)
    if expected is None:
        assert report.problems == (), _texts(report.problems)
        return
    assert len(report.problems) == 1, _texts(report.problems)
    assert str(report.problems[0]).startswith(f"manifests/runs.yaml:{where}: "), report.problems[0]
    assert expected in str(report.problems[0])


@pytest.mark.parametrize(
    ("value", "where", "expected"),
    [
        (
            "${runs.net.outputs.networkid}",
            "18:14",
            "run 'net' has no output 'networkid': workflow 'Create network' declares networkId, vlan; did you mean 'networkId'?",
        ),
        ("on ${runs.net.outputs.vlan} ${runs.net.outputs.nope}", "18:42", "run 'net' has no output 'nope'"),
        (
            "${runs.net.outputs.vlan}",
            "18:14",
            "${runs.net.outputs.vlan} is a number output, and the input is declared string",
        ),
        ("${runs.net.outputs.networkId}", None, None),
        ("net ${runs.net.outputs.vlan}", None, None),  # text around a reference is a string
    ],
)
def test_a_reference_names_a_declared_output_and_carries_its_type(
    value: str, where: str | None, expected: str | None
) -> None:
    report = _check({"network": value})
    if expected is None:
        assert report.problems == (), _texts(report.problems)
        return
    assert len(report.problems) == 1, _texts(report.problems)
    assert str(report.problems[0]).startswith(f"manifests/runs.yaml:{where}: "), report.problems[0]
    assert expected in str(report.problems[0])


def test_references_inside_lists_and_explicit_forms_carry_their_output_types() -> None:
    tags = {"type": "Array/number", "value": [1, "${runs.net.outputs.vlan}", "${runs.net.outputs.networkId}", "x"]}
    report = _check({"tags": tags, "cpuCount": "${runs.net.outputs.vlan}", "when": "at ${runs.net.outputs.vlan}"})
    texts = _texts(report.problems)
    assert any(
        "item 2: ${runs.net.outputs.networkId} is a string output, and the input is declared number" in t for t in texts
    )
    assert any("item 3: expected a number, got a string" in t for t in texts)
    assert any("'when'" in t and "sent as string" in t for t in texts)
    assert not any("cpuCount" in t for t in texts), texts  # a number output into a number input
    assert len(texts) == 3, texts


def test_a_reference_to_an_unknown_output_is_found_even_in_an_unknown_parameter() -> None:
    texts = _texts(_check({"netwrk": "${runs.net.outputs.id}"}).problems)
    assert len(texts) == 2, texts
    assert any("did you mean 'network'" in t for t in texts)
    assert any("run 'net' has no output 'id'" in t and t.startswith("manifests/runs.yaml:18:13: ") for t in texts)


def test_a_mandatory_input_left_out_is_an_error_unless_it_has_a_default() -> None:
    desired = load(to_yaml(run_doc("vm", "wf-vm", {"cpuCount": 2})))
    texts = _texts(check_runs(desired, KNOWN).problems)
    assert texts == [
        "manifests/runs.yaml:4:3: run 'vm': mandatory input 'hostname' (string) of workflow 'Create VM' is not given"
    ]


def test_a_sensitive_variable_may_feed_a_secure_string_in_the_explicit_form_only() -> None:
    stack = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: tests}
spec:
  variables:
    token: {default: t0k, sensitive: true}
"""
    explicit = run_doc("a", "wf-vm", {"hostname": "h", "password": {"type": "SecureString", "value": "${var.token}"}})
    shorthand = run_doc("b", "wf-vm", {"hostname": "h", "password": "${var.token}"})
    _, desired = load_stack(stack, "reconciler.yaml", [("m.yaml", to_yaml(explicit, shorthand))], {}, [], {}, _no_file)
    texts = _texts(check_runs(desired, KNOWN).problems)
    assert len(texts) == 1 and "'password'" in texts[0] and "sent as string: write {type: SecureString" in texts[0], (
        texts
    )


def _no_file(path: str) -> str:
    raise FileNotFoundError(path)


def test_every_mistake_is_reported_at_once() -> None:
    docs = [
        NET_RUN,
        run_doc("a", "wf-vm", {"hostnmae": "x", "cpuCount": "4", "network": "${runs.net.outputs.networkid}"}),
        run_doc("b", "wf-gone", {"x": 1}),
        run_doc("c", "wf-gone", {}),
    ]
    definitions = Definitions(
        known={"wf-vm": VM, "wf-net": NET},
        unavailable={"wf-gone": WorkflowUnavailable("wf-gone", 403, "Access to the resource is forbidden")},
    )
    texts = _texts(check_runs(load(to_yaml(*docs)), definitions).problems)
    assert len(texts) == 5, texts  # unknown name, wrong type, missing mandatory, undeclared output, unavailable
    assert sum("wf-gone" in t for t in texts) == 1
    assert any(
        "workflow 'wf-gone' does not exist or is not available to you (HTTP 403: Access to the resource is forbidden); used by b, c"
        in t
        for t in texts
    )


def test_an_unavailable_workflow_used_by_many_runs_names_them_all_in_one_error() -> None:
    docs = [run_doc(f"r{i:02}", "wf-gone", {}) for i in range(12)]
    definitions = Definitions(unavailable={"wf-gone": WorkflowUnavailable("wf-gone", 404, "not found")})
    (problem,) = check_runs(load(to_yaml(*docs)), definitions).problems
    assert problem.message.endswith("used by r00, r01, r02, r03, r04, r05, r06, r07, r08, r09 and 2 more")


def test_runs_of_a_workflow_not_read_are_skipped_with_one_warning_saying_why() -> None:
    docs = [
        run_doc("a", "wf-new", {"anything": 1}),
        run_doc("b", "wf-new", {"other": "${runs.a.outputs.whatever}"}),
        run_doc("c", "wf-vm", {"hostname": "${runs.a.outputs.whatever}"}),
        run_doc("d", "wf-uncached", {}),
    ]
    definitions = Definitions(known={"wf-vm": VM}, unread={"wf-new": "the server answered 500"}, source="cache")
    report = check_runs(load(to_yaml(*docs)), definitions)
    assert report.problems == ()
    assert report.checked == ("wf-vm",)
    assert set(report.skipped) == {"wf-new", "wf-uncached"}
    assert len(report.warnings) == 2
    assert "'wf-new' could not be read (the server answered 500)" in report.warnings[0]
    assert "a, b" in report.warnings[0]
    assert "no workflow definition in the cache 'wf-uncached'" in report.warnings[1]


# --- properties ---------------------------------------------------------------------------------

plain_values = st.one_of(
    st.integers(min_value=-5, max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(alphabet="abc-09:T.Z ", min_size=1, max_size=12).filter(lambda t: t.strip() == t and t[0] not in "-: "),
    st.sampled_from(["2026-01-31", "2026-01-31T10:00:00.000Z", "4", "true"]),
    st.lists(st.integers(min_value=0, max_value=9), max_size=3),
    st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=3),
)
declared_types = st.sampled_from(["string", "number", "boolean", "Date", "Array/string", "Array/number", "Array/Date"])


@FAST
@given(value=plain_values, declared=declared_types)
def test_a_shorthand_is_accepted_exactly_when_the_server_would_take_it(value: Any, declared: str) -> None:
    """Sent with the type read off it; the server takes it when that is the declared type and the value fits."""
    definitions = Definitions(known={"wf": WorkflowDefinition("wf", "W", (_in("p", declared),), ())})
    report = check_runs(load(to_yaml(run_doc("r", "wf", {"p": value}))), definitions)
    accepted = infer_type(value) == declared and check_value(declared, value) is None
    assert (report.problems == ()) == accepted, (value, declared, _texts(report.problems))
    assert all(p.location.line > 0 for p in report.problems)


@FAST
@given(
    parameters=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), plain_values, min_size=1, max_size=4),
    mandatory=st.sets(st.sampled_from(["a", "b", "c", "d"])),
    data=st.data(),
)
def test_declared_as_written_checks_clean_and_each_change_of_the_declaration_is_one_located_error(
    parameters: dict[str, Any], mandatory: set[str], data: st.DataObject
) -> None:
    inputs = tuple(_in(n, str(infer_type(v)), mandatory=n in mandatory) for n, v in parameters.items())
    desired = load(to_yaml(run_doc("r", "wf", parameters)))
    assert check_runs(desired, Definitions(known={"wf": WorkflowDefinition("wf", "W", inputs, ())})).problems == ()
    renamed = data.draw(st.sampled_from(sorted(parameters)))
    changed = tuple(_in(p.name + "X", p.type, p.mandatory) if p.name == renamed else p for p in inputs)
    problems = check_runs(desired, Definitions(known={"wf": WorkflowDefinition("wf", "W", changed, ())})).problems
    expected = 2 if renamed in mandatory else 1  # the unknown name, and the mandatory one left out
    assert len(problems) == expected, _texts(problems)
    assert any(
        f"unknown parameter {renamed!r}" in p.message and f"did you mean {renamed + 'X'!r}" in p.message
        for p in problems
    )
    assert all(p.location.file == "manifests/runs.yaml" and p.location.line > 0 for p in problems)


# --- the stack of test_upgrade_keys: what was recorded as accepted checks clean ------------------

UPGRADE = Path(__file__).parent / "data" / "upgrade"


def _upgrade() -> tuple[DesiredStack, State]:
    files = [(f"manifests/{p.name}", p.read_text("utf-8")) for p in sorted((UPGRADE / "manifests").glob("*.yaml"))]
    environ = {"UPGRADE_SECRET": "env-s3cret", "UPGRADE_NUMBER": "17.5", "UPGRADE_BOOL": "true", "VCD_PASSWORD": "x"}
    _, desired = load_stack(
        (UPGRADE / "reconciler.yaml").read_text("utf-8"),
        "reconciler.yaml",
        files,
        {},
        [],
        environ,
        lambda p: (UPGRADE / p).read_text("utf-8"),
    )
    return desired, State.model_validate_json((UPGRADE / "state.json").read_text("utf-8"))


def test_workflows_declared_as_their_runs_were_recorded_check_clean() -> None:
    """Every parameter form (shorthand, explicit, valueFrom, variables, forEach, references whole, in
    text, in lists and mappings) against definitions that declare the types the runs were sent with."""
    desired, state = _upgrade()
    known: dict[str, WorkflowDefinition] = {}
    for record in state.runs.values():
        inputs = tuple(_in(n, i.type, mandatory=True) for n, i in record.inputs.items())
        outputs = tuple(_out(n, t) for n, t in record.output_types.items())
        known[record.workflow] = WorkflowDefinition(record.workflow, None, inputs, outputs)
    report = check_runs(desired, Definitions(known=known))
    assert report.problems == (), _texts(report.problems)
    assert set(report.checked) == {r.workflow for r in desired.runs.values()}


# --- what changed between two readings ----------------------------------------------------------


def test_a_changed_definition_is_described_per_workflow() -> None:
    before = WorkflowDefinition(
        "wf-vm", "Create VM", (_in("hostname"), _in("old", "number"), _in("size", "number")), (_out("id"),)
    )
    after = WorkflowDefinition(
        "wf-vm",
        "Create VM",
        (_in("hostname", mandatory=True), _in("newParam"), _in("size", "string")),
        (_out("id"), _out("ip")),
    )
    desired = load(to_yaml(run_doc("a", "wf-vm", {}), run_doc("b", "wf-vm", {}), run_doc("c", "wf-net", {})))
    (change,) = definition_changes({"wf-vm": before, "wf-net": NET}, {"wf-vm": after, "wf-net": NET}, desired)
    assert change.runs == ("a", "b")
    assert change.summaries() == [
        "workflow inputs changed: + newParam (string), - old (number), ~ hostname (optional -> mandatory), "
        "~ size (number -> string)",
        "workflow outputs changed: + ip (string)",
    ]
    assert change.document()["changes"][0] == {
        "direction": "input",
        "change": "added",
        "parameter": "newParam",
        "type": "string",
        "detail": None,
    }


def test_an_unchanged_or_newly_read_definition_is_no_change() -> None:
    desired = load(to_yaml(run_doc("a", "wf-vm", {}), run_doc("b", "wf-net", {})))
    assert definition_changes({"wf-vm": VM}, {"wf-vm": VM, "wf-net": NET}, desired) == ()


def test_secret_values_never_appear_in_a_problem() -> None:
    texts = _texts(_check({"network": {"type": "SecureString", "valueFrom": {"env": "PW"}}}).problems)
    assert texts and not any(SECRET in t for t in texts)


def test_with_definitions_required_each_workflow_not_checked_is_one_located_error() -> None:
    docs = [
        run_doc("a", "wf-new", {}),
        run_doc("b", "wf-new", {}),
        run_doc("c", "wf-uncached", {}),
        run_doc("d", "wf-vm", {"hostname": "h"}),
    ]
    definitions = Definitions(known={"wf-vm": VM}, unread={"wf-new": "the server answered 500"}, source="cache")
    texts = _texts(unchecked_problems(load(to_yaml(*docs)), definitions))
    assert texts == [
        "manifests/runs.yaml:4:3: the definition of workflow 'wf-new' (used by a, b) could not be read: "
        "the server answered 500; --require-definitions makes this an error",
        "manifests/runs.yaml:20:3: the definition of workflow 'wf-uncached' (used by c) could not be read: "
        "it is not in the cache; --require-definitions makes this an error",
    ]


def test_a_secret_that_does_not_fit_its_declared_type_is_not_shown() -> None:
    stack = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: tests}
spec:
  variables:
    when: {default: "hunter2-not-a-date", sensitive: true}
"""
    shorthand = run_doc("b", "wf-vm", {"hostname": "h", "when": "${var.when}"})
    _, desired = load_stack(stack, "reconciler.yaml", [("m.yaml", to_yaml(shorthand))], {}, [], {}, _no_file)
    texts = _texts(check_runs(desired, KNOWN).problems)
    assert texts == [
        "m.yaml:9:5: parameter 'when': workflow 'Create VM' declares it Date: the value (sensitive) is not a valid Date"
    ]


def test_the_loader_names_a_secret_that_does_not_fit_its_explicit_type_without_showing_it() -> None:
    stack = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: tests}
spec:
  variables:
    when: {default: "hunter2-not-a-date", sensitive: true}
"""
    run = run_doc("a", "wf", {"when": {"type": "Date", "value": "${var.when}"}})
    with pytest.raises(ManifestError) as raised:
        load_stack(stack, "reconciler.yaml", [("m.yaml", to_yaml(run))], {}, [], {}, _no_file)
    assert "hunter2" not in str(raised.value)
    assert "parameter 'when': the value of sensitive variable 'when' is not a valid Date" in str(raised.value)
