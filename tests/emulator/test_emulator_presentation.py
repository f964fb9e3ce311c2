"""``GET .../presentation`` over a real socket: declared inputs and outputs, mandatory flags in VCD's
form shape, and the 403/404 answers for a workflow that is unknown or not readable by the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from reconciler.emulator import running_server
from reconciler.emulator.catalog import Catalog, parse_catalog

from . import swagger_schema
from .emulator_helpers import ACCEPT, DNS, NETWORK, VM, basic, openapi

pytestmark = pytest.mark.timeout(60)

TIMEOUT = httpx.Timeout(5.0)
RESTRICTED = "restricted-1"
CATALOG = f"""
workflows:
  - id: {RESTRICTED}
    name: Restricted
    orgs: [Acme]
    inputs:
      - {{name: a, type: string, description: first}}
      - {{name: b, type: number, required: true, default: 3}}
      - {{name: c, type: SecureString, required: false}}
    outputs:
      - {{name: out, type: string, template: "x-${{inputs.a}}", description: the result}}
  - id: open-1
    name: Open
users:
  - {{name: admin, org: System, password: admin}}
  - {{name: deployer, org: acme, password: deployer}}
  - {{name: other, org: globex, password: other}}
"""


def login(client: httpx.Client, user: str, org: str) -> None:
    path = "/cloudapi/1.0.0/sessions/provider" if org == "System" else "/cloudapi/1.0.0/sessions"
    response = client.post(path, headers={"Authorization": basic(user, org, user), "Accept": ACCEPT})
    response.raise_for_status()
    token = response.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
    client.headers.update({"Authorization": f"Bearer {token}", "Accept": ACCEPT})


@pytest.fixture
def served(make_app: Callable[..., Any]) -> Callable[..., Any]:
    """A context manager: a logged-in client of an emulator served over a socket."""

    @contextmanager
    def serve(user: str = "admin", org: str = "System", **options: Any) -> Iterator[httpx.Client]:
        with running_server(make_app(**options)) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            login(client, user, org)
            yield client

    return serve


def fields_of(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Field id -> its constraints, through steps / elements / fields."""
    found: dict[str, list[dict[str, Any]]] = {}
    for step in body["steps"]:
        for element in step["elements"]:
            for field in element.get("fields", []):
                found[field["id"]] = field["constraints"]
    return found


def mandatory_names(body: dict[str, Any]) -> set[str]:
    return {name for name, constraints in fields_of(body).items() if {"constraintType": "Mandatory"} in constraints}


def test_every_demo_workflow_declares_described_inputs_and_outputs_and_mandatory_ones(
    served: Callable[..., Any], catalog: Catalog
) -> None:
    with served() as client:
        for workflow in catalog.workflows:
            response = client.get(f"/cloudapi/workflows/{workflow.id}/presentation")
            assert response.status_code == 200, response.text
            body = response.json()
            swagger_schema.validate(body, "Presentation")
            inputs = {p["name"]: p for p in body["inputParameters"]}
            outputs = {p["name"]: p for p in body["outputParameters"]}
            assert list(inputs) == [spec.name for spec in workflow.inputs]
            assert list(outputs) == [spec.name for spec in workflow.outputs]
            assert all(p.get("description") for p in [*inputs.values(), *outputs.values()]), workflow.name
            assert set(fields_of(body)) == set(inputs)
            expected = {s.name for s in workflow.inputs if s.required and s.default is None}
            assert mandatory_names(body) == expected


def test_mandatory_flags_of_provision_vm(served: Callable[..., Any]) -> None:
    with served() as client:
        body = client.get(f"/cloudapi/workflows/{VM}/presentation").json()
    assert mandatory_names(body) == {"vmName", "cpuCount", "memoryGb", "network", "adminPassword"}
    types = {p["name"]: p["type"] for p in body["inputParameters"]}
    assert types["tags"] == "Array/string" and types["adminPassword"] == "SecureString"
    defaults = {p["name"]: p["value"] for p in body["inputParameters"] if "value" in p}
    assert defaults == {
        "powerOn": {"inputType": "boolean", "value": True},
        "tags": {"inputType": "array", "value": []},
        "owner": {"inputType": "string", "value": "platform-team"},
    }
    step = body["steps"][0]
    assert (step["elementType"], step["elements"][0]["elementType"]) == ("StepInfo", "Group")


def test_the_mandatory_inputs_are_exactly_those_a_start_may_not_leave_out(served: Callable[..., Any]) -> None:
    with served() as client:
        body = client.get(f"/cloudapi/workflows/{DNS}/presentation").json()
        assert mandatory_names(body) == {"hostname", "ip"}
        started = client.post(
            f"/cloudapi/workflows/{DNS}/executions", json={"parameters": [openapi("hostname", "string", "h")]}
        )
        assert started.status_code == 400
        assert "ip" in started.json()["message"]
        complete = [openapi("hostname", "string", "h"), openapi("ip", "string", "10.0.0.1")]
        assert client.post(f"/cloudapi/workflows/{DNS}/executions", json={"parameters": complete}).status_code == 201


def test_vro_value_format_for_defaults(served: Callable[..., Any]) -> None:
    with served(output_format="vro") as client:
        body = client.get(f"/cloudapi/workflows/{DNS}/presentation").json()
    swagger_schema.validate(body, "Presentation", "vro")
    zone = next(p for p in body["inputParameters"] if p["name"] == "zone")
    assert zone["value"] == {"string": {"value": "demo.internal"}}


@pytest.mark.parametrize(
    ("options", "status", "minor"),
    [({}, 403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN"), ({"missing_status": 404}, 404, "RESOURCE_NOT_FOUND")],
)
def test_an_unknown_workflow_gets_what_vcd_answers(
    served: Callable[..., Any], options: dict[str, Any], status: int, minor: str
) -> None:
    with served(**options) as client:
        response = client.get("/cloudapi/workflows/no-such-workflow/presentation")
    assert response.status_code == status
    body = response.json()
    swagger_schema.validate(body, "Error")
    assert body["minorErrorCode"] == minor
    assert "no-such-workflow" in body["message"]


def restricted_catalog() -> Catalog:
    return parse_catalog(CATALOG)


@pytest.mark.parametrize(("user", "org"), [("admin", "System"), ("deployer", "acme")])
def test_a_restricted_workflow_is_readable_by_its_orgs_and_the_provider(
    served: Callable[..., Any], user: str, org: str
) -> None:
    with served(user, org, catalog=restricted_catalog()) as client:
        response = client.get(f"/cloudapi/workflows/{RESTRICTED}/presentation")
    assert response.status_code == 200
    body = response.json()
    swagger_schema.validate(body, "Presentation")
    assert mandatory_names(body) == {"a"}  # b has a default, c is not required
    assert [p["name"] for p in body["outputParameters"]] == ["out"]
    assert "value" not in next(p for p in body["inputParameters"] if p["name"] == "c")


def test_a_restricted_workflow_is_hidden_from_other_tenants_on_every_call(served: Callable[..., Any]) -> None:
    with served("other", "globex", catalog=restricted_catalog()) as client:
        base = f"/cloudapi/workflows/{RESTRICTED}"
        answers = [
            client.get(f"{base}/presentation"),
            client.get(f"{base}/executions"),
            client.post(f"{base}/executions", json={"parameters": [openapi("a", "string", "x")]}),
            client.get(f"{base}/executions/e-1"),
        ]
        open_workflow = client.get("/cloudapi/workflows/open-1/presentation")
    for response in answers:
        assert response.status_code == 403, response.text
        assert response.json()["minorErrorCode"] == "ACCESS_TO_RESOURCE_IS_FORBIDDEN"
        assert RESTRICTED in response.json()["message"]
    assert open_workflow.status_code == 200
    assert open_workflow.json()["steps"] == []  # no inputs, no form


def test_restricted_org_names_match_case_insensitively() -> None:
    workflow = restricted_catalog().workflow(RESTRICTED)
    assert workflow is not None
    assert workflow.readable_by("ACME", provider=False)
    assert not workflow.readable_by("globex", provider=False)
    assert workflow.readable_by("globex", provider=True)


def test_network_presentation_names_its_outputs(served: Callable[..., Any]) -> None:
    with served("deployer", "acme") as client:
        body = client.get(f"/cloudapi/workflows/{NETWORK}/presentation").json()
    assert [(p["name"], p["type"]) for p in body["outputParameters"]] == [
        ("networkId", "string"),
        ("gateway", "string"),
    ]
