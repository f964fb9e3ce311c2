"""The JSON bodies of workflow answers: WsWorkflowExecution, ExecutionSummary, Presentation.

The unset fields of an execution (``endDate`` while running, ``contentException`` unless failed,
``currentItemDisplayName`` once ended, ``businessState``) are left out: the definitions type them as
plain strings and Swagger 2.0 has no "nullable", so a null would break a client generated from them.
With ``nulls=True`` (``EmulatorOptions.nulls``, ``--nulls``) they are sent as JSON null instead, as
real VCD answers are known to do in places, so that clients can be tested against both.
Secure-string inputs are echoed masked (``********``), as vRO
never hands a secret back; secure-string *outputs* are sent in clear, since the caller needs them.
The ``_vcd_*`` parameters VCD injects come back with ``scope: token``; the session token among them
is masked too.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.auth import stable_id
from reconciler.emulator.catalog import InputSpec, OutputSpec, Workflow
from reconciler.emulator.clock import iso_date
from reconciler.emulator.executions import Execution, Snapshot
from reconciler.emulator.wire import MASK, ValueFormat, encode


def ws_parameter(
    name: str, type_name: str, value: Any, fmt: ValueFormat, *, scope: str = "local", mask: bool = False
) -> dict[str, Any]:
    """A WsParameter; ``value`` None leaves the value out."""
    parameter: dict[str, Any] = {"name": name, "type": type_name, "scope": scope, "encryptValue": False}
    if value is not None:
        parameter["value"] = encode(type_name, value, fmt, mask=mask)
    return parameter


def token_parameters(execution: Execution, fmt: ValueFormat) -> list[dict[str, Any]]:
    """The ``_vcd_*`` request-context parameters VCD adds to every execution."""
    admin = "true" if execution.user.is_admin else "false"
    values = {
        "_vcd_orgName": execution.org,
        "_vcd_orgId": stable_id("org", execution.org),
        "_vcd_userName": execution.user.name,
        "_vcd_isAdmin": admin,
        "_vdc_isAdmin": admin,
        "_vdc_userName": execution.user.name,
        "_vcd_apiEndpoint": execution.api_endpoint,
        "_vcd_sessionToken": MASK,
    }
    return [ws_parameter(name, "string", value, fmt, scope="token") for name, value in values.items()]


def execution_body(
    execution: Execution, snapshot: Snapshot, fmt: ValueFormat, *, nulls: bool = False
) -> dict[str, Any]:
    """A WsWorkflowExecution as of ``snapshot``; unset fields left out, or null with ``nulls``."""
    workflow = execution.workflow
    inputs = [
        ws_parameter(spec.name, spec.type, execution.inputs.get(spec.name), fmt, mask=True)
        for spec in workflow.inputs
        if spec.name in execution.inputs
    ]
    body: dict[str, Any] = {
        "id": execution.id,
        "name": workflow.name,
        "state": snapshot.state,
        "startDate": execution.start_date,
        "startedBy": execution.started_by,
        "inputParameters": [*inputs, *token_parameters(execution, fmt)],
        "outputParameters": _outputs(execution, snapshot, fmt),
        "relations": {"total": 0, "start": 0, "link": []},
    }
    unset: dict[str, str | None] = {
        "businessState": None,
        "endDate": None if snapshot.ended_at is None else iso_date(snapshot.ended_at),
        "currentItemDisplayName": snapshot.item,
        "contentException": snapshot.content_exception,
    }
    body.update((key, value) for key, value in unset.items() if value is not None or nulls)
    return body


def _outputs(execution: Execution, snapshot: Snapshot, fmt: ValueFormat) -> list[dict[str, Any]]:
    if snapshot.state != "completed":
        return []
    specs = {spec.name: spec for spec in execution.workflow.outputs}
    return [ws_parameter(name, specs[name].type, value, fmt) for name, value in execution.outcome.outputs.items()]


def summary_body(execution: Execution, snapshot: Snapshot, *, nulls: bool = False) -> dict[str, Any]:
    """An ExecutionSummary, the item of the list answer; ``endDate`` left out (null with ``nulls``) while running."""
    summary: dict[str, Any] = {
        "id": execution.id,
        "name": execution.workflow.name,
        "state": snapshot.state,
        "startDate": execution.start_date,
        "startedBy": execution.started_by,
    }
    if snapshot.ended_at is not None or nulls:
        summary["endDate"] = None if snapshot.ended_at is None else iso_date(snapshot.ended_at)
    return summary


def presentation_body(workflow: Workflow, fmt: ValueFormat) -> dict[str, Any]:
    """A Presentation: the parameter definitions (defaults as values) and the input form.

    VCD says which inputs are mandatory only in the form: ``steps`` (``StepInfo``) hold elements,
    a ``Group`` holds one ``Field`` per input (``id`` = the parameter name), and a mandatory field's
    ``constraints`` hold ``{"constraintType": "Mandatory"}`` (VCD's ``Constraint`` subtypes are
    discriminated by ``constraintType``, elements by ``elementType``, with the definition's name).
    """
    return {
        "id": workflow.id,
        "vroId": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "inputParameters": [_definition(spec, fmt) for spec in workflow.inputs],
        "outputParameters": [_definition(spec, fmt) for spec in workflow.outputs],
        "steps": [_step(workflow)] if workflow.inputs else [],
    }


def _definition(spec: InputSpec | OutputSpec, fmt: ValueFormat) -> dict[str, Any]:
    default = spec.default if isinstance(spec, InputSpec) else None
    parameter = ws_parameter(spec.name, spec.type, default, fmt, mask=True)
    if spec.description:
        parameter["description"] = spec.description
    return parameter


def _step(workflow: Workflow) -> dict[str, Any]:
    """The one form step: a group with a field per input."""
    group = _element("Group", "inputs", "Inputs") | {"fields": [_field(spec) for spec in workflow.inputs]}
    return _element("StepInfo", "step-1", workflow.name, workflow.description) | {
        "readOnly": False,
        "elements": [group],
    }


def _field(spec: InputSpec) -> dict[str, Any]:
    constraints = [{"constraintType": "Mandatory"}] if spec.mandatory else []
    field = _element("Field", spec.name, spec.name, spec.description)
    return field | {"type": spec.type, "constraints": constraints, "decorators": []}


def _element(kind: str, element_id: str, display_name: str, description: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {
        "elementType": kind,
        "id": element_id,
        "displayName": display_name,
        "hidden": False,
        "messages": [],
    }
    if description:
        element["description"] = description
    return element
