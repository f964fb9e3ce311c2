"""The published JSON Schema accepts what the loader accepts and rejects unknown fields."""

from __future__ import annotations

import jsonschema
import pytest

from reconciler.manifest.parsing import parse_value
from reconciler.manifest.schema import SCHEMA_DIALECT, SCHEMA_ID, json_schema

RUN = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: web-01, labels: {tier: web}}
spec:
  workflow: 6b2e1c0a
  parameters:
    vmName: web-01
    cpuCount: 2
    tags: [prod, web]
    memoryGb: {type: number, value: 8}
    adminPassword: {type: SecureString, valueFrom: {env: WEB01_PASSWORD}}
  dependsOn: [net-a]
  timeout: 1h30m
  onFailure: retry
  maxAttempts: 3
  forEach: {a: 10.0.1.0/24}
"""
STACK = "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: demo}\nspec: {endpoint: {url: 'https://x', apiVersion: '37.1'}}\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_header() -> None:
    schema = json_schema()
    assert (schema["$schema"], schema["$id"]) == (SCHEMA_DIALECT, SCHEMA_ID)
    assert {"StackConfig", "WorkflowRun", "ExplicitParameter"} <= set(schema["$defs"])


@pytest.mark.parametrize("text", [RUN, STACK])
def test_valid_documents_validate(validator: jsonschema.Draft202012Validator, text: str) -> None:
    validator.validate(parse_value(text))


@pytest.mark.parametrize(
    "text",
    [
        RUN.replace("  dependsOn:", "  dependson:"),
        RUN.replace("timeout: 1h30m", "timeout: soon"),
        RUN.replace("memoryGb: {type: number, value: 8}", "memoryGb: {type: number, value: 8, x: 1}"),
        STACK.replace("kind: Stack", "kind: Stak"),
    ],
)
def test_invalid_documents_fail(validator: jsonschema.Draft202012Validator, text: str) -> None:
    assert not validator.is_valid(parse_value(text))


def test_the_schema_documents_run_defaults_and_the_give_up_time(validator: jsonschema.Draft202012Validator) -> None:
    defs = json_schema()["$defs"]
    assert defs["RunDefaults"]["properties"]["timeout"]["default"] == "1h"
    assert defs["Endpoint"]["properties"]["giveUpAfter"]["default"] == "5m"
    stack = STACK.replace("spec: {", "spec: {defaults: {timeout: 2h, onFailure: retry, maxAttempts: 2}, ")
    validator.validate(parse_value(stack))
    assert not validator.is_valid(parse_value(stack.replace("timeout: 2h", "timeout: later")))
