"""Variables from the environment, from var files with lists and maps, and from ``--var`` flow values."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired.variables import EnvironmentValue, environment_values

from .stacks import STACK, load, problems, run_doc

SOURCES_STACK = STACK + "    zones: {type: list, default: []}\n    sizes: {type: map}\n    anything: {}\n"
ECHO = run_doc(
    "a",
    "parameters:\n  owner: ${var.owner}\n  cpus: ${var.cpus}\n"
    "  zones: {type: Properties, value: {z: '${var.zones}'}}\n  anything: {type: Properties, value: {v: '${var.anything}'}}",
)
REQUIRED = {"zone": "z", "anything": "x"}


def inputs(**kwargs: Any) -> dict[str, Any]:
    variables = {**REQUIRED, **kwargs.pop("variables", {})}
    desired = load(ECHO, stack=SOURCES_STACK, variables=variables, **kwargs)
    return {k: v.value for k, v in desired.runs["a"].inputs.items()}


def test_environment_values_are_read_for_declared_names_only() -> None:
    environ = {"RECONCILER_VAR_owner": "ops", "RECONCILER_VAR_typo": "x", "OTHER": "y", "RECONCILER_VAR_cpus": "4"}
    assert environment_values(["owner", "cpus", "zone"], environ) == [
        EnvironmentValue("owner", "ops"),
        EnvironmentValue("cpus", "4"),
    ]


def test_precedence_defaults_then_environment_then_files_in_order_then_var() -> None:
    env = EnvironmentValue("owner", "from-env")
    assert inputs()["owner"] == "platform-team"
    assert inputs(var_files=[env])["owner"] == "from-env"
    first = ("a.auto.vars.yaml", "owner: from-auto\n")
    assert inputs(var_files=[env, first])["owner"] == "from-auto"
    second = ("prod.yaml", "owner: from-var-file\n")
    assert inputs(var_files=[env, first, second])["owner"] == "from-var-file"
    assert inputs(var_files=[env, first, second], variables={"owner": "from-var"})["owner"] == "from-var"


def test_environment_values_are_typed_like_var() -> None:
    got = inputs(var_files=[EnvironmentValue("cpus", "8"), EnvironmentValue("zones", '["a", "b"]')])
    assert got["cpus"] == 8
    assert got["zones"] == {"z": ["a", "b"]}


def test_var_files_and_var_take_lists_and_maps() -> None:
    file = ("prod.yaml", "zones: [a, b]\nsizes:\n  small: {cpu: 1}\n")
    assert inputs(var_files=[file])["zones"] == {"z": ["a", "b"]}
    assert inputs(variables={"zones": "[x, 'y']"})["zones"] == {"z": ["x", "y"]}
    assert inputs(variables={"anything": '{"k": [1, 2]}'})["anything"] == {"v": {"k": [1, 2]}}
    assert inputs(variables={"anything": "plain [text]"})["anything"] == {"v": "plain [text]"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (EnvironmentValue("cpus", "many"), "RECONCILER_VAR_cpus: variable 'cpus': 'many' is not a number"),
        (EnvironmentValue("zones", "[a"), "RECONCILER_VAR_zones: variable 'zones': "),
        (("prod.yaml", "zones: a\n"), "prod.yaml:1:8: variable 'zones' is declared type list, got 'a'"),
    ],
)
def test_a_bad_value_names_where_it_came_from(source: tuple[str, str], expected: str) -> None:
    found = problems(ECHO, stack=SOURCES_STACK, variables=REQUIRED, var_files=[source])
    assert len(found) == 1 and found[0].startswith(expected), found


def test_an_untyped_variable_given_broken_flow_text_says_how_to_keep_it_text() -> None:
    found = problems(ECHO, stack=SOURCES_STACK, variables={**REQUIRED, "anything": "[oops"})
    assert found[0].startswith("--var anything: variable 'anything': YAML syntax error"), found
    assert "declare the variable type: string to keep it as text" in found[0], found


def test_a_sensitive_variable_s_bad_value_is_not_echoed() -> None:
    stack = SOURCES_STACK + "    pin: {type: number, sensitive: true}\n"
    bad_env = problems(ECHO, stack=stack, variables=REQUIRED, var_files=[EnvironmentValue("pin", "s3cret-pin")])
    bad_file = problems(ECHO, stack=stack, variables=REQUIRED, var_files=[("f.yaml", "pin: s3cret-pin\n")])
    assert bad_env == ["RECONCILER_VAR_pin: variable 'pin': the value is not a valid number"]
    assert bad_file == ["f.yaml:1:6: variable 'pin' is declared type number, got a str"]
