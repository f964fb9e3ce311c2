"""`reconciler init`'s texts (reconciler.manifest.scaffold), read back by the real loaders: a scaffolded
manifest loads with every input of its declared type and value, and a scaffolded stack file loads with
the answers given and names its secrets' variables only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from reconciler.definitions import ParameterDefinition, WorkflowDefinition
from reconciler.desired.loading import load_stack, parse_stack
from reconciler.desired.runs import DesiredInput
from reconciler.errors import InvalidValueError
from reconciler.manifest.scaffold import (
    PLACEHOLDER,
    PLACEHOLDER_DATE,
    RunScaffold,
    StackAnswers,
    answers_problems,
    run_manifest,
    run_name_for,
    secret_env_name,
    stack_text,
)

BARE_STACK = "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: t}\n"
WORKFLOW = "6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a"


def _input(
    name: str, type_name: str, mandatory: bool | None = True, default: Any = None, **more: Any
) -> ParameterDefinition:
    return ParameterDefinition(name, type_name, "input", mandatory=mandatory, default=default, **more)


def _definition(*inputs: ParameterDefinition, name: str | None = "Provision VM", **more: Any) -> WorkflowDefinition:
    outputs = (ParameterDefinition("vmId", "string", "output"), ParameterDefinition("token", "SecureString", "output"))
    return WorkflowDefinition(WORKFLOW, name, tuple(inputs), outputs, **more)


def _load(scaffold: RunScaffold, environ: Mapping[str, str] | None = None) -> dict[str, DesiredInput]:
    env = dict.fromkeys(scaffold.secret_envs, "s3cret") if environ is None else environ
    _, desired = load_stack(BARE_STACK, "reconciler.yaml", [("m.yaml", scaffold.text)], {}, [], env, _no_file)
    (run,) = desired.runs.values()
    assert run.name == scaffold.run_name and run.workflow == WORKFLOW
    return dict(run.inputs)


def _no_file(path: str) -> str:
    raise FileNotFoundError(path)


def _line_of(text: str, key: str) -> str:
    (line,) = [line for line in text.splitlines() if line.lstrip().startswith(f"{key}:")]
    return line


# ---------------------------------------------------------------- manifests


def test_every_type_reads_back_as_declared_with_its_default() -> None:
    defaults: dict[str, tuple[str, Any]] = {
        "host": ("string", "web-01"),
        "cpus": ("number", 2),
        "ratio": ("number", 0.5),
        "power": ("boolean", True),
        "when": ("Date", "2026-01-31T10:00:00.000Z"),
        "tags": ("Array/string", ["a", "b"]),
        "sizes": ("Array/number", [1, 2]),
        "none": ("Array/number", []),
        "props": ("Properties", {"k": "v", "n": 1}),
        "vm": ("VC:VirtualMachine", {"id": "vm-42", "href": "https://vcd/vm-42"}),
    }
    scaffold = run_manifest(_definition(*(_input(n, t, False, v) for n, (t, v) in defaults.items())), "web-01")
    inputs = _load(scaffold)
    assert {n: (i.type, i.value) for n, i in inputs.items()} == defaults
    for name in ("host", "cpus", "ratio", "power", "tags", "sizes"):  # shorthand reads back as the declared type
        assert "type:" not in _line_of(scaffold.text, name), name
    for name in ("when", "none", "props", "vm"):  # it would not: the explicit form
        assert "{type: " in _line_of(scaffold.text, name), name
    assert scaffold.placeholders == () and scaffold.commented == ()


def test_a_mandatory_input_without_default_gets_a_placeholder_of_its_type_marked_required() -> None:
    types = ["string", "number", "boolean", "Date", "Array/string", "Array/number", "Properties", "VC:VirtualMachine"]
    scaffold = run_manifest(_definition(*(_input(f"p{i}", t) for i, t in enumerate(types))), "web-01")
    inputs = _load(scaffold)
    expected = [PLACEHOLDER, 0, False, PLACEHOLDER_DATE, [], [], {}, {"id": PLACEHOLDER}]
    assert [(inputs[f"p{i}"].type, inputs[f"p{i}"].value) for i in range(len(types))] == list(
        zip(types, expected, strict=True)
    )
    assert scaffold.placeholders == tuple(f"p{i}" for i in range(len(types)))
    for i, type_name in enumerate(types):
        assert _line_of(scaffold.text, f"p{i}").endswith(f"# {type_name}, required: edit")


def test_a_mandatory_input_with_a_default_takes_it_and_is_still_marked_required() -> None:
    scaffold = run_manifest(_definition(_input("zone", "string", True, "demo.internal")), "dns")
    assert _load(scaffold)["zone"].value == "demo.internal"
    assert "required" in _line_of(scaffold.text, "zone") and scaffold.placeholders == ()


def test_descriptions_become_comments_above_their_input() -> None:
    described = _input("vmName", "string", description="Name of the VM\n\nwithout the domain  ")
    scaffold = run_manifest(_definition(described, description="Clone a VM.\nThen power it on."), "web-01")
    lines = scaffold.text.splitlines()
    at = lines.index(_line_of(scaffold.text, "vmName"))
    assert lines[at - 3 : at] == ["    # Name of the VM", "    #", "    # without the domain"]
    assert "# Clone a VM." in lines and "# Then power it on." in lines
    assert "# Outputs, read elsewhere as ${runs.web-01.outputs.NAME}: vmId (string), token (SecureString)" in lines
    _load(scaffold)


def test_comments_never_break_the_yaml() -> None:
    odd = "bell \x07, NUL \x00, DEL \x7f\r\nsecond: line # not a key\n- nor: an item"
    scaffold = run_manifest(_definition(_input("x", "string", description=odd), name=odd, description=odd), "r")
    assert set(_load(scaffold)) == {"x"}


def test_a_secure_string_is_read_from_the_environment_never_written() -> None:
    scaffold = run_manifest(
        _definition(
            _input("adminPassword", "SecureString", True, default="leaked-default"),
            _input("keys", "Array/SecureString", False),
        ),
        "web-01",
    )
    assert "leaked-default" not in scaffold.text
    assert scaffold.secret_envs == ("WEB_01_ADMIN_PASSWORD", "WEB_01_KEYS")
    inputs = _load(scaffold, {"WEB_01_ADMIN_PASSWORD": "pw", "WEB_01_KEYS": "[k1, k2]"})
    assert (inputs["adminPassword"].source, inputs["adminPassword"].sensitive) == ("env:WEB_01_ADMIN_PASSWORD", True)
    assert inputs["keys"].value == ["k1", "k2"]
    assert "required: set WEB_01_ADMIN_PASSWORD" in _line_of(scaffold.text, "adminPassword")
    assert "optional: set WEB_01_KEYS in the environment, or delete this line" in _line_of(scaffold.text, "keys")


def test_an_optional_input_without_default_is_written_commented_out() -> None:
    scaffold = run_manifest(_definition(_input("name", "string"), _input("note", "number", False)), "r")
    assert set(_load(scaffold)) == {"name"}
    assert "    # note: 0  # number, optional, no default: uncomment to set it" in scaffold.text.splitlines()
    assert scaffold.commented == ("note",)


def test_when_the_server_does_not_say_an_input_without_default_gets_a_placeholder() -> None:
    scaffold = run_manifest(_definition(_input("a", "string", None), _input("b", "number", None, 3)), "r")
    inputs = _load(scaffold)
    assert (inputs["a"].value, inputs["b"].value) == (PLACEHOLDER, 3)
    assert "does not say" in _line_of(scaffold.text, "a") and scaffold.placeholders == ("a",)


def test_a_type_reconciler_cannot_send_is_a_comment_naming_it() -> None:
    scaffold = run_manifest(_definition(_input("x", "Any"), _input("y", "string")), "r")
    assert set(_load(scaffold)) == {"y"}
    assert "cannot send an input of type 'Any'" in scaffold.text and scaffold.commented == ("x",)


def test_a_default_that_does_not_fit_its_type_is_replaced_by_a_placeholder() -> None:
    scaffold = run_manifest(_definition(_input("n", "number", True, "four")), "r")
    assert _load(scaffold)["n"].value == 0 and scaffold.placeholders == ("n",)


def test_no_input_at_all() -> None:
    assert _load(run_manifest(_definition(), "r")) == {}


TRICKY = [
    "${var.owner}",
    "${runs.net.outputs.id}",
    "a$${b",
    "$$",
    "yes",
    "No",
    "on",
    "true",
    "null",
    "~",
    "",
    "1e5",
    "0o17",
    "0x1F",
    "0755",
    "1_000",
    "12:30",
    "2026-01-31",
    ".inf",
    " leading space",
    "trailing space ",
    "a: b",
    "#hash",
    "x # y",
    "[a]",
    "{a: 1}",
    "-",
    "- x",
    "@at",
    "`tick",
    "!tag",
    "&anchor",
    "*alias",
    "%percent",
    "|",
    ">",
    "'single'",
    '"double"',
    "back\\slash",
    "multi\nline",
    "tab\there",
    "Zürich",
    "\u2028",
    "\x85",
    "\x7f",
    "emoji \U0001f600",
]


@pytest.mark.parametrize("text", TRICKY)
def test_a_string_keeps_its_exact_value(text: str) -> None:
    definition = _definition(
        _input("s", "string", False, text),
        _input("items", "Array/string", False, [text, "plain"]),
        _input("props", "Properties", False, {"key": text}),
    )
    scaffold = run_manifest(definition, "r")
    inputs = _load(scaffold)
    assert (inputs["s"].type, inputs["s"].value) == ("string", text)
    # other tools read YAML 1.1 (``yes`` a boolean, ``1_000`` a number): they see the same string
    assert yaml.safe_load(scaffold.text)["spec"]["parameters"]["s"] == text.replace("${", "$${")
    assert inputs["items"].value == [text, "plain"]
    assert inputs["props"].value == {"key": text}


@pytest.mark.parametrize("number", [0, -3, 10**20, 1.5, -0.25, 1e-7, 1e300])
def test_a_number_keeps_its_value(number: float) -> None:
    assert _load(run_manifest(_definition(_input("n", "number", False, number)), "r"))["n"].value == number


def test_parameter_names_that_need_quoting_are_quoted() -> None:
    scaffold = run_manifest(_definition(_input("true", "string"), _input("a b", "number", False, 1)), "r")
    assert set(_load(scaffold)) == {"true", "a b"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Provision VM", "provision-vm"),
        ("  Create  network (v2)!  ", "create-network-v2"),
        ("Ünïcode only: ÄÖÜ", "n-code-only"),
        ("---", "run"),
        ("", "run"),
        (None, "run"),
        ("x" * 300, "x" * 253),
    ],
)
def test_run_name_from_the_workflow_name(name: str | None, expected: str) -> None:
    assert run_name_for(_definition(name=name)) == expected


def test_an_invalid_run_name_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        run_manifest(_definition(), "Not_Valid")


@pytest.mark.parametrize(
    ("run", "parameter", "expected"),
    [
        ("web-01", "adminPassword", "WEB_01_ADMIN_PASSWORD"),
        ("db", "api.key", "DB_API_KEY"),
        ("01-vm", "pw", "RUN_01_VM_PW"),
        ("a", "HTTPToken", "A_HTTPTOKEN"),
    ],
)
def test_secret_env_names(run: str, parameter: str, expected: str) -> None:
    assert secret_env_name(run, parameter) == expected


def test_two_secrets_that_would_share_a_variable_get_their_own() -> None:
    scaffold = run_manifest(_definition(_input("api-key", "SecureString"), _input("api_key", "SecureString")), "r")
    assert scaffold.secret_envs == ("R_API_KEY", "R_API_KEY_2")
    assert _load(scaffold).keys() == {"api-key", "api_key"}


# ---------------------------------------------------------------- stack files


def _answers(**changes: Any) -> StackAnswers:
    base: dict[str, Any] = {
        "name": "demo",
        "url": "https://vcd.example.com/",
        "api_version": "37.10",
        "org": "acme",
        "auth": "session",
        "secret_env": "VCD_PASSWORD",
        "username": "deployer",
    }
    return StackAnswers(**{**base, **changes})


def test_a_session_stack_loads_with_the_answers() -> None:
    stack = parse_stack(stack_text(_answers()), "reconciler.yaml")
    endpoint = stack.spec.endpoint
    assert endpoint is not None and endpoint.auth is not None
    assert (endpoint.url, endpoint.api_version, endpoint.org) == ("https://vcd.example.com", "37.10", "acme")
    assert endpoint.auth.username == "deployer" and endpoint.auth.password_from is not None
    assert endpoint.auth.password_from.env == "VCD_PASSWORD" and endpoint.auth.api_token_from is None
    assert (stack.metadata.name, stack.spec.manifests, endpoint.verify_tls) == ("demo", ["manifests"], True)
    assert (stack.spec.backend.type, stack.spec.backend.path) == ("local", "reconciler.state.json")


def test_a_token_stack_on_postgres_loads_with_the_answers() -> None:
    answers = _answers(
        auth="token",
        secret_env="ACME_TOKEN",
        username=None,
        backend="postgres",
        dsn_env="PG_DSN",
        workspace="prod",
        verify_tls=False,
        ca_file="ca.pem",
        manifests="runs",
        org="System",
        name="yes",
    )
    stack = parse_stack(stack_text(answers), "reconciler.yaml")
    endpoint = stack.spec.endpoint
    assert endpoint is not None and endpoint.auth is not None and endpoint.auth.api_token_from is not None
    assert endpoint.auth.api_token_from.env == "ACME_TOKEN" and endpoint.auth.username is None
    assert (endpoint.verify_tls, endpoint.ca_file, endpoint.org) == (False, "ca.pem", "System")
    backend = stack.spec.backend
    assert backend.dsn_from is not None
    assert (backend.type, backend.dsn_from.env, backend.workspace) == ("postgres", "PG_DSN", "prod")
    assert (stack.metadata.name, stack.spec.manifests) == ("yes", ["runs"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"url": "vcd.example.com"}, "not an endpoint URL"),
        ({"url": "ftp://vcd"}, "not an endpoint URL"),
        ({"url": "https://vcd/?x=1"}, "no query"),
        ({"secret_env": "hunter 2!"}, "never the password itself"),
        ({"auth": "token", "secret_env": "9TOKEN", "username": None}, "never the API token itself"),
        ({"backend": "postgres", "dsn_env": "postgresql://u@h/db"}, "never the PostgreSQL connection string"),
        ({"username": None}, "needs a username"),
        ({"org": " "}, "org is empty"),
    ],
)
def test_bad_answers_are_refused_with_why(changes: dict[str, Any], expected: str) -> None:
    answers = _answers(**changes)
    assert any(expected in p for p in answers_problems(answers)), answers_problems(answers)
    with pytest.raises(InvalidValueError, match=expected):
        stack_text(answers)
