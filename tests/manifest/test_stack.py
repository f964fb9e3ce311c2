"""The stack file: defaults for a minimal stack, and its problems with their locations."""

from __future__ import annotations

import warnings

import pytest

from reconciler.desired.loading import load_stack
from reconciler.errors import ManifestError
from reconciler.manifest.documents import parse_stack
from reconciler.manifest.models import StackConfig

MINIMAL = "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: demo}\n"

FULL = """\
apiVersion: reconciler/v1
kind: Stack
metadata:
  name: demo
spec:
  endpoint:
    url: https://vcd.example.com
    apiVersion: 37.1
    org: acme
    auth:
      username: deployer
      passwordFrom: {env: VCD_PASSWORD}
    verifyTls: false
    valueFormat: vro
  backend:
    type: postgres
    dsnFrom: {env: RECONCILER_PG_DSN}
    workspace: prod
  manifests: [manifests, extra.yaml]
  parallelism: 4
  variables:
    owner: {default: platform-team, description: who}
    count: {type: number}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_stack(text, "reconciler.yaml")
    return [str(p) for p in caught.value.problems]


def test_minimal_stack_defaults() -> None:
    stack = parse_stack(MINIMAL, "reconciler.yaml")
    assert stack.spec.endpoint is None
    assert (stack.spec.backend.type, stack.spec.backend.path) == ("local", "reconciler.state.json")
    assert (stack.spec.manifests, stack.spec.parallelism, stack.spec.variables) == (["manifests"], 10, {})


def test_full_stack() -> None:
    stack: StackConfig = parse_stack(FULL, "reconciler.yaml")
    endpoint = stack.spec.endpoint
    assert endpoint is not None and endpoint.auth is not None and endpoint.auth.password_from is not None
    assert endpoint.api_version == "37.1"  # the source text, not the float 37.1
    assert (endpoint.verify_tls, endpoint.value_format, endpoint.auth.password_from.env) == (
        False,
        "vro",
        "VCD_PASSWORD",
    )
    assert stack.spec.backend.dsn_from is not None and stack.spec.backend.workspace == "prod"
    assert stack.spec.variables["owner"].has_default and not stack.spec.variables["count"].has_default


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "  endpoint: {verifyTls: yes}\n",
            "reconciler.yaml:5:25: spec.endpoint.verifyTls: Input should be a valid boolean ('yes' is a string in YAML 1.2: write true or false)",
        ),
        (
            "  endpoint:\n    auth: {username: u, apiTokenFrom: {env: T}}\n",
            "reconciler.yaml:6:11: spec.endpoint.auth: use either username/passwordFrom or apiTokenFrom, not both",
        ),
        (
            "  backend: {type: postgres}\n",
            "reconciler.yaml:5:12: spec.backend: the postgres backend needs dsnFrom: {env: NAME}",
        ),
        ("  backend: {type: s3}\n", "reconciler.yaml:5:19: spec.backend.type: Input should be 'local' or 'postgres'"),
        ("  parallelism: 0\n", "reconciler.yaml:5:16: spec.parallelism: Input should be greater than or equal to 1"),
        (
            "  endpoint: {requestTimeout: soon}\n",
            "reconciler.yaml:5:30: spec.endpoint.requestTimeout: 'soon' is not a duration: write e.g. 30s, 30m, 2h, 1h30m or 45 (seconds)",
        ),
        (
            "  endpoint: {giveUpAfter: 0}\n",
            "reconciler.yaml:5:27: spec.endpoint.giveUpAfter: 0 is not a positive duration: write e.g. 30s, 5m, 1h30m or 45 (seconds)",
        ),
        (
            "  endpoint: {url: x, password: y}\n",
            "reconciler.yaml:5:22: unknown field 'password' (expected one of: url, apiVersion, org, auth, verifyTls, caFile, valueFormat, requestTimeout, giveUpAfter)",
        ),
        (
            "  variables: {owner: {default: a, secret: true}}\n",
            "reconciler.yaml:5:35: unknown field 'secret' (expected one of: default, description, type, sensitive)",
        ),
    ],
)
def test_stack_problems(spec: str, expected: str) -> None:
    assert problems(MINIMAL + "spec:\n" + spec) == [expected]


def test_variable_default_of_the_wrong_type() -> None:
    text = MINIMAL + "spec:\n  variables: {n: {type: number, default: two}}\n"
    with pytest.raises(ManifestError) as caught:  # checked when variables are resolved
        load_stack(text, "reconciler.yaml", [], {}, [], {}, lambda path: "")
    assert [str(p) for p in caught.value.problems] == [
        "reconciler.yaml:5:42: variable 'n' is declared type number, got 'two'"
    ]


def test_stack_kind_and_documents() -> None:
    assert problems("apiVersion: reconciler/v1\nkind: WorkflowRun\n") == [
        "reconciler.yaml:2:7: unknown kind 'WorkflowRun': expected Stack "
        "(a WorkflowRun belongs in a manifest file, not in the stack file)"
    ]
    assert problems("") == ["reconciler.yaml: the stack file is empty: expected kind: Stack"]
    assert problems(MINIMAL + "---\n" + MINIMAL) == ["reconciler.yaml:5:1: the stack file holds one document only"]
    assert problems("apiVersion: reconciler/v1\nkind: Stack\n") == [
        "reconciler.yaml:1:1: missing required field 'metadata'"
    ]


def test_the_postgres_schema_is_part_of_the_backend() -> None:
    text = MINIMAL + "spec:\n  backend: {type: postgres, dsnFrom: {env: PG}, schema: team_a}\n"
    assert parse_stack(text, "reconciler.yaml").spec.backend.schema_ == "team_a"
    bad = MINIMAL + "spec:\n  backend: {type: postgres, dsnFrom: {env: PG}, schema: 'a; drop'}\n"
    assert len(problems(bad)) == 1 and "spec.backend.schema" in problems(bad)[0]


def test_a_whole_number_of_seconds_dumps_without_a_serializer_warning() -> None:
    text = MINIMAL + "spec:\n  endpoint: {requestTimeout: 3, giveUpAfter: 90}\n"
    endpoint = parse_stack(text, "reconciler.yaml").spec.endpoint
    assert endpoint is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic warns when a value does not fit the field's type
        dumped = endpoint.model_dump(by_alias=True, exclude_none=True)
    assert (dumped["requestTimeout"], dumped["giveUpAfter"]) == (3.0, 90.0)
