"""Variables, interpolation, valueFrom and the typed inputs they produce."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired.runs import DesiredInput, Interpolation, OutputRef

from .stacks import STACK, load, one_run, problems, run_doc

TYPED_STACK = STACK + "    count: {type: number}\n    flags: {type: list}\n    on: {type: boolean}\n"


def input_of(parameters: str, **kwargs: Any) -> DesiredInput:
    run = one_run(run_doc("a", "parameters:\n" + parameters), **kwargs)
    return run.inputs["x"]


@pytest.mark.parametrize(
    ("parameter", "type_name", "value"),
    [
        ("x: web-01", "string", "web-01"),
        ("x: 2", "number", 2),
        ("x: 1.5", "number", 1.5),
        ("x: true", "boolean", True),
        ("x: yes", "string", "yes"),
        ("x: off", "string", "off"),
        ("x: 0755", "string", "0755"),
        ("x: 2026-01-31", "string", "2026-01-31"),
        ("x: [prod, web]", "Array/string", ["prod", "web"]),
        ("x: [1, 2]", "Array/number", [1, 2]),
        ("x: []", "Array/string", []),
        ("x: {type: number, value: 8}", "number", 8),
        ("x: {type: Date, value: '2026-01-31T10:00:00.000Z'}", "Date", "2026-01-31T10:00:00.000Z"),
        ("x: {type: Properties, value: {a: 1, b: [x]}}", "Properties", {"a": 1, "b": ["x"]}),
        ("x: {type: 'VC:VirtualMachine', value: {id: vm-42}}", "VC:VirtualMachine", {"id": "vm-42"}),
        ("x: {type: Array/string, value: [a, b]}", "Array/string", ["a", "b"]),
    ],
    ids=lambda v: str(v),
)
def test_parameter_forms(parameter: str, type_name: str, value: Any) -> None:
    found = input_of("  " + parameter + "\n")
    assert (found.type, found.value) == (type_name, value)


def test_input_location_points_at_the_parameter_key() -> None:
    found = input_of("  y: 1\n  x: 2\n")
    assert str(found.location) == "m.yaml:9:5"


def test_whole_string_references_keep_the_type() -> None:
    run = one_run(run_doc("a", "parameters:\n  cpus: ${var.cpus}\n  count: '${var.cpus}'\n  text: n=${var.cpus}\n"))
    assert (run.inputs["cpus"].type, run.inputs["cpus"].value) == ("number", 2)
    assert (run.inputs["count"].type, run.inputs["count"].value) == ("number", 2)
    assert (run.inputs["text"].type, run.inputs["text"].value) == ("string", "n=2")


def test_escapes_and_output_references() -> None:
    body = (
        "parameters:\n"
        "  lit: $${var.owner}\n"
        "  net: ${runs.b.outputs.networkId}\n"
        "  mix: ${var.owner}-${runs.b.outputs.id}-$${x}\n"
        "  list: ['${runs.b.outputs.id}', z]\n"
    )
    desired = load(run_doc("a", body) + "---\n" + run_doc("b"))
    inputs = desired.runs["a"].inputs
    assert inputs["lit"].value == "${var.owner}"
    assert inputs["net"].value == OutputRef("b", "networkId")
    assert inputs["net"].type_inferred and inputs["net"].type == "string"
    assert inputs["mix"].value == Interpolation(("platform-team-", OutputRef("b", "id"), "-${x}"))
    assert inputs["list"].value == [OutputRef("b", "id"), "z"]
    assert desired.runs["a"].depends_on == {"b"}


def test_explicit_type_with_output_reference_is_checked_later() -> None:
    desired = load(
        run_doc("a", "parameters:\n  n: {type: number, value: '${runs.b.outputs.n}'}\n") + "---\n" + run_doc("b")
    )
    assert desired.runs["a"].inputs["n"] == DesiredInput("number", OutputRef("b", "n"))


def test_variable_precedence_default_then_var_files_then_cli() -> None:
    doc = run_doc("a", "parameters:\n  owner: ${var.owner}\n  zone: ${var.zone}\n")
    var_files = [("one.yaml", "owner: from-one\nzone: z1\n"), ("two.yaml", "owner: from-two\n")]
    assert one_run(doc, var_files=var_files[:1], variables={"zone": "z"}).inputs["owner"].value == "from-one"
    run = one_run(doc, var_files=var_files, variables={"zone": "cli"})
    assert (run.inputs["owner"].value, run.inputs["zone"].value) == ("from-two", "cli")
    assert one_run(doc, var_files=var_files, variables={"owner": "cli"}).inputs["owner"].value == "cli"


@pytest.mark.parametrize(
    ("cli", "expected"),
    [({"count": "3"}, 3), ({"count": "2.5"}, 2.5), ({"on": "TRUE"}, True), ({"flags": "[a, b]"}, ["a", "b"])],
)
def test_cli_values_follow_the_declared_type(cli: dict[str, str], expected: Any) -> None:
    name = next(iter(cli))
    run = one_run(run_doc("a", f"parameters:\n  x: ${{var.{name}}}\n"), stack=TYPED_STACK, variables=cli)
    assert run.inputs["x"].value == expected


def test_variable_problems() -> None:
    found = problems(
        run_doc("a"),
        stack=TYPED_STACK,
        variables={"count": "many", "nope": "1"},
        var_files=[("vars.yaml", "owner: a\ntypo: b\non: 'yes'\n")],
    )
    assert found == [
        "--var count: variable 'count': 'many' is not a number",
        "--var nope: variable 'nope' is not declared (declare it under spec.variables in the stack file)",
        "vars.yaml:2:1: variable 'typo' is not declared (declare it under spec.variables in the stack file)",
        "vars.yaml:3:5: variable 'on' is declared type boolean, got 'yes'",
    ]


def test_sensitive_variable_makes_the_input_sensitive() -> None:
    run = one_run(
        run_doc("a", "parameters:\n  pw: {type: SecureString, value: '${var.password}'}\n  t: x-${var.password}\n"),
        variables={"password": "hunter2"},
    )
    assert run.inputs["pw"] == DesiredInput("SecureString", "hunter2", True, "var:password")
    assert run.inputs["t"].sensitive and run.inputs["t"].source == "var:password"


def test_a_sensitive_variable_marks_only_the_parameters_rendered_from_it() -> None:
    """Sensitivity comes back with each rendered value: it never carries over to the next parameter."""
    body = "parameters:\n  a: ${var.password}\n  b: ${var.owner}\n  c: [x, '${var.password}']\n  d: plain\n"
    run = one_run(run_doc("a", body), variables={"password": "hunter2"})
    shown = {name: (i.type, i.sensitive, i.source) for name, i in run.inputs.items()}
    assert shown == {
        "a": ("string", True, "var:password"),
        "b": ("string", False, None),
        "c": ("Array/string", True, "var:password"),
        "d": ("string", False, None),
    }


def test_value_from_env_and_file_any_type() -> None:
    body = (
        "parameters:\n"
        "  pw: {type: SecureString, valueFrom: {env: WEB01_PASSWORD}}\n"
        "  n: {type: number, valueFrom: {env: COUNT}}\n"
        "  b: {type: boolean, valueFrom: {file: flag.txt}}\n"
        "  key: {type: string, valueFrom: {file: key.pem}}\n"
        "  tags: {type: Array/string, valueFrom: {file: tags.json}}\n"
    )
    files = {"flag.txt": "true\n", "key.pem": "line1\nline2\n", "tags.json": '["a", "b"]'}
    run = one_run(run_doc("a", body), environ={"WEB01_PASSWORD": "s3cret", "COUNT": "4"}, files=files)
    pw = run.inputs["pw"]
    assert (pw.value, pw.sensitive, pw.source) == ("s3cret", True, "env:WEB01_PASSWORD")
    assert run.inputs["n"].value == 4
    assert (run.inputs["b"].value, run.inputs["b"].source) == (True, "file:flag.txt")
    assert run.inputs["key"].value == "line1\nline2"
    assert run.inputs["tags"].value == ["a", "b"]


def test_value_from_text_of_the_wrong_type_is_reported() -> None:
    found = problems(run_doc("a", "parameters:\n  n: {type: number, valueFrom: {env: N}}\n"), environ={"N": "lots"})
    assert found == ["m.yaml:8:40: parameter 'n': the value from env 'N': 'lots' is not a number"]


def test_whole_value_list_variable_and_mapping_inside_string() -> None:
    stack = STACK + "    zones: {default: [a, b]}\n"
    assert one_run(run_doc("a", "parameters:\n  z: ${var.zones}\n"), stack=stack).inputs["z"].value == ["a", "b"]
    found = problems(run_doc("a", "parameters:\n  z: x-${var.zones}\n"), stack=stack)
    assert found == ["m.yaml:8:8: a list or mapping can only be used as a whole value, not inside a string"]


def test_workflow_may_use_variables() -> None:
    assert one_run(run_doc("a", workflow="wf-${var.owner}")).workflow == "wf-platform-team"
