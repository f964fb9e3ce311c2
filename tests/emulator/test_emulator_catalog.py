"""The catalog format: the demo catalog, clear errors, templates, rules."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.emulator import CatalogError, load_catalog, parse_catalog
from reconciler.emulator.catalog import DEMO_CATALOG_PATH
from reconciler.emulator.executions import compute_outputs, plan_execution
from reconciler.emulator.templates import TemplateError, parse_template
from reconciler.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def test_examples_copy_is_identical_to_the_packaged_demo_catalog() -> None:
    assert (REPO / "examples" / "catalog" / "demo.yaml").read_bytes() == DEMO_CATALOG_PATH.read_bytes()


def test_demo_catalog_contents() -> None:
    catalog = load_catalog()
    assert [w.name for w in catalog.workflows] == ["Create network", "Provision VM", "Register DNS"]
    assert catalog.user("admin", "system") is not None
    assert catalog.user("deployer", "acme") is not None
    assert [t.token for t in catalog.api_tokens if t.user == "admin"] == ["demo-token"]
    for workflow in catalog.workflows:
        assert 1 <= workflow.duration <= 2


def test_demo_outputs_are_deterministic() -> None:
    network = load_catalog().workflows[0]
    inputs = {"name": "net-a", "cidr": "10.0.1.0/24"}
    context = {"inputs": inputs, "workflow": {}, "execution": {"id": "x"}}
    outputs = compute_outputs(network, inputs, context)
    assert outputs["gateway"] == "10.0.1.1"
    assert outputs["networkId"].startswith("net-") and len(outputs["networkId"]) == 12
    assert outputs == compute_outputs(network, dict(inputs), {**context, "execution": {"id": "y"}})


def _workflow(**fields: Any) -> str:
    workflow = {"id": "w1", "name": "W", **fields}
    return yaml.safe_dump({"workflows": [workflow]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("workflows: [{id: w, name: W, colour: red}]", "workflows[0].colour: Extra inputs are not permitted"),
        (_workflow(inputs=[{"name": "a", "type": "strng"}]), "unknown parameter type 'strng'"),
        (_workflow(inputs=[{"name": "a", "type": "number", "default": "x"}]), "default of 'a'"),
        (_workflow(outputs=[{"name": "o", "type": "string"}]), "exactly one of template, from, value"),
        (_workflow(outputs=[{"name": "o", "type": "string", "template": "${inputs.zz}"}]), "unknown inputs ['zz']"),
        (_workflow(outputs=[{"name": "o", "type": "string", "template": "${nope}"}]), "unknown reference"),
        (_workflow(outputs=[{"name": "o", "type": "string", "template": "${inputs|sha}"}]), "unknown filter 'sha'"),
        (_workflow(outputs=[{"name": "o", "type": "number", "template": "1"}]), "template needs type string"),
        (_workflow(outputs=[{"name": "o", "type": "string", "from": "a"}]), "copies unknown input 'a'"),
        (_workflow(failWhen=[{"equals": 1}]), "needs 'input'"),
        (_workflow(failWhen=[{"input": "a", "equals": 1}]), "unknown input 'a'"),
        (_workflow(duration=-1), "greater than or equal to 0"),
        (_workflow(duration="2"), "valid number"),
        (_workflow(waitStates=[{"state": "sleeping", "seconds": 1}]), "waiting"),
        ("users: [{name: a, org: o, password: p}, {name: a, org: O, password: q}]", "duplicate user"),
        ("apiTokens: [{token: t, user: a, org: o}]", "unknown user a@o"),
        ("- just a list", "expected a mapping"),
        ("workflows: [", "not valid YAML"),
    ],
)
def test_catalog_errors_are_clear(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "cat.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("cat.yaml")
    assert isinstance(caught.value, UserError)


def test_missing_catalog_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "absent.yaml")


def test_a_catalog_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(_workflow(inputs=[{"name": "a", "type": "Array/number"}]), encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog.workflows[0].inputs[0].required
    assert catalog.api_versions == ["36.3", "37.0", "37.1", "37.2", "38.0"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("$${literal}", "${literal}"),
        ("${inputs.name|upper}-${inputs.n}", "WEB-2"),
        ("${inputs.cidr|firstHost}", "192.168.4.1"),
        ("${inputs.name|hash:4}", hashlib.sha256(b"web").hexdigest()[:4]),
        ("${execution.id}", "e-1"),
        ("${inputs.flags}", "[true,false]"),
    ],
)
def test_templates(template: str, expected: str) -> None:
    context = {"inputs": {"name": "web", "n": 2.0, "cidr": "192.168.4.0/22", "flags": [True, False]}}
    context["execution"] = {"id": "e-1"}
    assert parse_template(template).render(context) == expected


def test_octet_stays_in_range() -> None:
    template = parse_template("${inputs.x|octet}")
    values = {int(template.render({"inputs": {"x": f"host-{i}"}})) for i in range(300)}
    assert min(values) >= 1 and max(values) <= 254


def test_bad_cidr_fails_the_execution_not_the_server() -> None:
    network = load_catalog().workflows[0]
    inputs = {"name": "n", "cidr": "not-a-cidr"}
    _, outcome = plan_execution(network, inputs, {"inputs": inputs, "workflow": {}, "execution": {}})
    assert outcome.state == "failed"
    assert outcome.message is not None and "firstHost" in outcome.message
    with pytest.raises(TemplateError):
        parse_template("${inputs.x|hash:0}")


def test_rules_and_waits_shape_the_timeline() -> None:
    text = _workflow(
        inputs=[{"name": "a", "type": "string"}],
        duration=2,
        initializing=0.5,
        waitStates=[{"state": "suspended", "seconds": 3, "item": "Paused"}],
        failWhen=[{"input": "a", "in": ["x", "y"], "after": 1, "message": "bad ${inputs.a}"}],
    )
    workflow = parse_catalog(text).workflows[0]
    phases, completed = plan_execution(workflow, {"a": "ok"}, {"inputs": {"a": "ok"}})
    assert [state for _, state, _ in phases] == ["initializing", "running", "suspended"]
    assert (completed.state, completed.at) == ("completed", 5)
    _, failed = plan_execution(workflow, {"a": "y"}, {"inputs": {"a": "y"}})
    assert (failed.state, failed.at, failed.message) == ("failed", 1, "bad y")
