"""``WorkflowClient.presentation`` against the emulator (in process and over a socket), and the
presentation reader: mandatory flags from VCD's form (and vRO's), explicit flags, malformed answers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from reconciler.definitions import WorkflowDefinition
from reconciler.emulator import running_server
from reconciler.emulator.clock import ManualClock
from reconciler.errors import CodecError, NotFoundError, PermanentRemoteError
from reconciler.remote.client import WorkflowClient
from reconciler.remote.executions import read_presentation

from .emulated import CREATE_NETWORK, PROVISION_VM, REGISTER_DNS, DropsAsHttpx, make_app, provider, tenant
from .scripted_vcd import ScriptedVcd

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def mandatory(definition: WorkflowDefinition) -> dict[str, bool | None]:
    return {p.name: p.mandatory for p in definition.inputs}


async def test_the_client_reads_every_demo_presentation_from_the_emulator() -> None:
    app = make_app(ManualClock())
    async with WorkflowClient(tenant(), transport=DropsAsHttpx(app)) as client:
        vm = await client.presentation(PROVISION_VM)
        network = await client.presentation(CREATE_NETWORK)
        dns = await client.presentation(f"urn:vcloud:serviceItem:{REGISTER_DNS}")
    assert (vm.workflow_id, vm.name) == (PROVISION_VM, "Provision VM")
    assert mandatory(vm) == {
        "vmName": True,
        "cpuCount": True,
        "memoryGb": True,
        "powerOn": False,
        "tags": False,
        "network": True,
        "adminPassword": True,
        "owner": False,
    }
    assert {p.name: p.default for p in vm.inputs if p.default is not None} == {
        "powerOn": True,
        "tags": [],
        "owner": "platform-team",
    }
    password = vm.input("adminPassword")
    assert password is not None and password.type == "SecureString" and password.default is None
    assert all(p.description for p in (*vm.inputs, *vm.outputs, *network.inputs, *network.outputs, *dns.outputs))
    assert [(p.name, p.type, p.direction) for p in network.outputs] == [
        ("networkId", "string", "output"),
        ("gateway", "string", "output"),
    ]
    assert mandatory(dns) == {"hostname": True, "ip": True, "zone": False}


async def test_an_unknown_workflow_is_not_found_with_the_servers_message() -> None:
    app = make_app(ManualClock())
    async with WorkflowClient(tenant(), transport=DropsAsHttpx(app)) as client:
        with pytest.raises(NotFoundError) as raised:
            await client.presentation("nope")
    assert raised.value.status == 403
    assert raised.value.minor_code == "ACCESS_TO_RESOURCE_IS_FORBIDDEN"
    assert raised.value.server_message == "Workflow nope not found or not accessible"
    assert "read the presentation of workflow nope: 403 Forbidden" in str(raised.value)


def test_the_client_reads_a_presentation_over_a_socket() -> None:
    async def read(url: str) -> tuple[WorkflowDefinition, NotFoundError]:
        async with WorkflowClient(provider(url)) as client:
            definition = await client.presentation(REGISTER_DNS)
            try:
                await client.presentation("missing")
            except NotFoundError as exc:
                return definition, exc
        raise AssertionError("no error for a missing workflow")

    with running_server(make_app(ManualClock(), missing_status=404)) as url:
        definition, missing = asyncio.run(read(url))
    assert mandatory(definition) == {"hostname": True, "ip": True, "zone": False}
    assert definition.read_at is not None
    assert (missing.status, missing.minor_code) == (404, "RESOURCE_NOT_FOUND")


async def test_a_malformed_answer_is_a_permanent_error_naming_the_workflow() -> None:
    vcd = ScriptedVcd()
    path = "/cloudapi/workflows/wf-bad/presentation"
    vcd.default("GET", path, httpx.Response(200, json={"inputParameters": [{"name": "a", "value": {"x": 1}}]}))
    async with WorkflowClient(provider("https://vcd.scripted"), transport=vcd.transport()) as client:
        with pytest.raises(PermanentRemoteError) as raised:
            await client.presentation("wf-bad")
    assert raised.value.status == 200
    assert "read the presentation of workflow wf-bad" in str(raised.value)
    assert "default of input parameter 'a'" in str(raised.value)
    assert isinstance(raised.value.__cause__, CodecError)


# ------------------------------------------------------------------------------------- the reader

VCD_FORM: dict[str, Any] = {
    "inputParameters": [
        {"name": "a", "type": "string"},
        {"name": "b", "type": "number"},
        {"name": "c", "type": "boolean", "mandatory": False},
        {"name": "hidden", "type": "string"},
    ],
    "outputParameters": [{"name": "out", "type": "Array/string", "description": "the result"}],
    "steps": [
        {
            "elementType": "StepInfo",
            "elements": [
                {
                    "elementType": "Group",
                    "fields": [
                        {"elementType": "Field", "id": "a", "constraints": [{"constraintType": "Mandatory"}]},
                        {"elementType": "Field", "id": "b", "constraints": [{"constraintType": "NumberRange"}]},
                        {"elementType": "Field", "id": "c", "constraints": [{"constraintType": "Mandatory"}]},
                    ],
                }
            ],
        }
    ],
}

VRO_FORM: dict[str, Any] = {
    "input-parameters": [{"name": "businessUnit", "type": "string"}, {"name": "runlist", "type": "Array/string"}],
    "steps": [
        {
            "step": {
                "elements": [
                    {
                        "@type": "group",
                        "fields": [
                            {"@type": "field", "id": "businessUnit", "constraints": [{"@type": "mandatory"}]},
                            {"@type": "field", "id": "runlist", "constraints": []},
                        ],
                    }
                ]
            }
        }
    ],
}


def test_mandatory_flags_come_from_vcds_form_and_an_explicit_flag_wins() -> None:
    definition = read_presentation("wf", VCD_FORM)
    assert mandatory(definition) == {"a": True, "b": False, "c": False, "hidden": None}
    assert [(p.name, p.type, p.description) for p in definition.outputs] == [("out", "Array/string", "the result")]


def test_vros_form_spelling_is_read_too() -> None:
    definition = read_presentation("wf", {**VRO_FORM, "inputParameters": VRO_FORM["input-parameters"]})
    assert mandatory(definition) == {"businessUnit": True, "runlist": False}


def test_without_a_form_or_a_flag_mandatory_is_unknown() -> None:
    body = {"inputParameters": [{"name": "a", "type": "string"}, {"name": "b", "type": "string", "required": True}]}
    assert mandatory(read_presentation("wf", body)) == {"a": None, "b": True}


def test_secret_defaults_are_not_kept() -> None:
    secret = {"name": "pw", "type": "SecureString", "value": {"inputType": "secureString", "value": "s3cret"}}
    plain = {"name": "n", "type": "number", "value": {"inputType": "number", "value": 2.0}}
    definition = read_presentation("wf", {"inputParameters": [secret, plain]})
    assert [(p.name, p.default) for p in definition.inputs] == [("pw", None), ("n", 2)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([], "expected a JSON object"),
        ({"inputParameters": [{"type": "string"}]}, "input parameter .* has no name"),
        ({"outputParameters": [{"name": ""}]}, "output parameter .* has no name"),
        ({"inputParameters": [{"name": "a", "type": 3}]}, "input parameter 'a' has type 3"),
        ({"steps": {"a": 1}}, "steps is dict, not a list"),
        ({"steps": [{"elements": [{"fields": "x"}]}]}, r"steps\[0\]\.elements\[0\]\.fields is str, not a list"),
        ({"steps": [{"elements": [{"id": "a", "constraints": 5}]}]}, r"constraints is int, not a list"),
        ({"steps": [7]}, r"steps\[0\] is int, not an object"),
    ],
)
def test_a_malformed_presentation_says_what_is_wrong(body: Any, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        read_presentation("wf", body)
