"""Every kind of manifest problem, with the exact file:line:column it is reported at."""

from __future__ import annotations

import pytest

from .stacks import STACK, problems, run_doc

HEADER = "apiVersion: reconciler/v1\nkind: WorkflowRun\n"

CASES = {
    "yaml-syntax": ("a: [1, 2\n", "m.yaml:2:1: YAML syntax error"),
    "duplicate-key-deep": (
        run_doc("a", "parameters:\n  x: 1\n  y: 2\n  x: 3\n"),
        "m.yaml:10:5: duplicate key 'x' (first at line 8)",
    ),
    "unknown-field-at-key": (
        run_doc("a", "dependson: [b]\n"),
        "m.yaml:7:3: unknown field 'dependson' (did you mean 'dependsOn'? expected one of:",
    ),
    "wrong-type-at-value": (
        run_doc("a", "revision: two\n"),
        "m.yaml:7:13: spec.revision: Input should be a valid integer",
    ),
    "revision-below-one": (
        run_doc("a", "revision: 0\n"),
        "m.yaml:7:13: spec.revision: Input should be greater than or equal to 1",
    ),
    "yaml11-boolean-stays-string": (
        run_doc("a", "onFailure: yes\n"),
        "m.yaml:7:14: spec.onFailure: Input should be 'stop' or 'retry'",
    ),
    "bad-duration": (run_doc("a", "timeout: 5x\n"), "m.yaml:7:12: spec.timeout: '5x' is not a duration"),
    "unknown-kind": (
        "apiVersion: reconciler/v1\nkind: WorkflowRuns\nmetadata: {name: a}\n",
        "m.yaml:2:7: unknown kind 'WorkflowRuns': expected WorkflowRun",
    ),
    "stack-among-manifests": (
        "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: a}\n",
        "m.yaml:2:7: unknown kind 'Stack': expected WorkflowRun (a Stack belongs in the stack file",
    ),
    "unknown-api-version": (
        "apiVersion: reconciler/v2\nkind: WorkflowRun\n",
        "m.yaml:1:13: unknown apiVersion 'reconciler/v2': expected reconciler/v1",
    ),
    "missing-kind": ("apiVersion: reconciler/v1\nmetadata: {}\n", "m.yaml:1:1: missing kind"),
    "not-a-mapping": ("- a\n- b\n", "m.yaml:1:1: expected a WorkflowRun document (a mapping)"),
    "missing-workflow": (
        HEADER + "metadata: {name: a}\nspec: {parameters: {}}\n",
        "m.yaml:4:7: missing required field 'spec.workflow'",
    ),
    "bad-name": (
        HEADER + "metadata: {name: Web_01}\nspec: {workflow: w}\n",
        "m.yaml:3:18: metadata.name: 'Web_01' is not a valid run name",
    ),
    "label-must-be-string": (
        HEADER + "metadata: {name: a, labels: {on: true}}\nspec: {workflow: w}\n",
        "m.yaml:3:34: metadata.labels.on: Input should be a valid string (quote it to write a string)",
    ),
    "unsupported-tag": (run_doc("a", "parameters: {x: !custom 1}\n"), "m.yaml:7:19: unsupported YAML tag '!custom'"),
    "unknown-reference": (run_doc("a", "parameters: {x: 'id-${foo}'}\n"), "m.yaml:7:23: unknown reference '${foo}'"),
    "unterminated-reference": (
        run_doc("a", "parameters:\n  x: a-${var.owner\n"),
        "m.yaml:8:10: unterminated reference",
    ),
    "undeclared-variable": (
        run_doc("a", "parameters:\n  x: ${var.nope}\n"),
        "m.yaml:8:8: undeclared variable 'nope'",
    ),
    "variable-without-value": (
        run_doc("a", "parameters:\n  x: zone-${var.zone}\n"),
        "m.yaml:8:13: variable 'zone' has no value",
    ),
    "each-outside-foreach": (
        run_doc("a", "parameters:\n  x: ${each.key}\n"),
        "m.yaml:8:8: ${each.key} is only available",
    ),
    "run-output-in-workflow": (
        run_doc("a", workflow="${runs.b.outputs.id}"),
        "m.yaml:6:13: ${runs.b.outputs.id}: run outputs cannot be used here",
    ),
    "mapping-without-type": (
        run_doc("a", "parameters:\n  props: {a: 1}\n"),
        "m.yaml:8:12: parameter 'props': a mapping needs the explicit form",
    ),
    "explicit-extra-key": (
        run_doc("a", "parameters:\n  n: {type: number, value: 1, default: 2}\n"),
        "m.yaml:8:33: unknown field 'default' (expected one of: type, value, valueFrom, description)",
    ),
    "explicit-unknown-type": (
        run_doc("a", "parameters:\n  n: {type: integer, value: 1}\n"),
        "m.yaml:8:15: parameter 'n': unknown type 'integer'",
    ),
    "explicit-value-and-value-from": (
        run_doc("a", "parameters:\n  n: {type: number, value: 1, valueFrom: {env: N}}\n"),
        "m.yaml:8:8: parameter 'n' needs exactly one of value or valueFrom",
    ),
    "explicit-string-given-number": (
        run_doc("a", "parameters:\n  version: {type: string, value: 1.10}\n"),
        "m.yaml:8:36: parameter 'version': expected a string, got a number (quote it to write a string: \"1.10\")",
    ),
    "explicit-number-given-text": (
        run_doc("a", "parameters:\n  n: {type: number, value: eight}\n"),
        "m.yaml:8:30: parameter 'n': expected a number, got a string",
    ),
    "literal-secret": (
        run_doc("a", "parameters:\n  pw: {type: SecureString, value: hunter2}\n"),
        "m.yaml:8:37: parameter 'pw': a literal secret in a manifest; use valueFrom",
    ),
    "shorthand-mixed-list": (
        run_doc("a", "parameters:\n  xs: [a, 1]\n"),
        "m.yaml:8:9: parameter 'xs': shorthand needs a list of one kind of scalar",
    ),
    "shorthand-null": (run_doc("a", "parameters:\n  x:\n"), "m.yaml:8:5: parameter 'x' has no value"),
    "missing-env": (
        run_doc("a", "parameters:\n  pw: {type: SecureString, valueFrom: {env: PW}}\n"),
        "m.yaml:8:47: parameter 'pw': environment variable 'PW' is not set",
    ),
    "missing-file": (
        run_doc("a", "parameters:\n  pw: {type: SecureString, valueFrom: {file: pw.txt}}\n"),
        "m.yaml:8:48: parameter 'pw': cannot read file 'pw.txt': No such file or directory",
    ),
    "value-from-both": (
        run_doc("a", "parameters:\n  pw: {type: string, valueFrom: {env: A, file: b}}\n"),
        "m.yaml:8:35: valueFrom: needs exactly one of env or file",
    ),
    "unknown-run-in-depends-on": (
        run_doc("a", "dependsOn: [net-1]\n") + "---\n" + run_doc("net-a"),
        "m.yaml:7:15: unknown run 'net-1' (did you mean 'net-a'?)",
    ),
    "unknown-run-in-reference": (
        run_doc("a", "parameters:\n  n: x-${runs.b.outputs.id}\n"),
        "m.yaml:8:10: unknown run 'b'",
    ),
    "self-dependency": (run_doc("a", "dependsOn: [a]\n"), "m.yaml:7:15: run 'a' depends on itself"),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_problem_is_reported_at_its_location(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_not_only_the_first() -> None:
    bad = {
        "a.yaml": run_doc("a", "revision: 0\ntimeout: soon\n"),
        "b.yaml": "x: [\n",
        "c.yaml": run_doc("c", "parameters:\n  x: ${var.nope}\n") + "---\n" + run_doc("d", "unknown: 1\n"),
    }
    found = problems(bad, variables={"undeclared": "1"})
    assert [p.split(": ")[0] for p in found] == [
        "--var undeclared",
        "a.yaml:7:13",
        "a.yaml:8:12",
        "b.yaml:2:1",
        "c.yaml:8:8",
        "c.yaml:16:3",
    ]


def test_duplicate_run_names_name_the_first_declaration() -> None:
    found = problems({"a.yaml": run_doc("web"), "b.yaml": "# two\n" + run_doc("web")})
    assert found == ["b.yaml:5:3: duplicate run name 'web' (first declared at a.yaml:4:3)"]


def test_stack_problems_are_reported_with_manifest_problems() -> None:
    stack = STACK.replace("spec:\n", "spec:\n  paralelism: 3\n")
    found = problems(run_doc("a", "revision: 0\n"), stack=stack)
    assert found[0].startswith("m.yaml:7:13:")
    assert found[1].startswith("reconciler.yaml:5:3: unknown field 'paralelism' (did you mean 'parallelism'?")


def test_a_reference_in_a_flow_mapping_says_to_quote_it() -> None:
    found = problems(run_doc("a", "parameters:\n  size: {type: number, value: ${var.n}}\n"))
    assert len(found) == 1 and "YAML syntax error" in found[0], found
    assert 'must be quoted, e.g. {type: number, value: "${each.value}"}' in found[0], found


def test_other_flow_errors_get_no_quoting_hint() -> None:
    found = problems(run_doc("a", "parameters:\n  size: {type: number, value: 3\n"))
    assert len(found) == 1 and "must be quoted" not in found[0], found
