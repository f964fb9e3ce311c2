"""The seven workflow calls of SPEC 5.2, as VCD answers them.

Choices where VCD's documents are silent (documented in docs/emulator-catalog.md too):

- Unknown workflow or execution, or one of another tenant (a workflow whose catalog ``orgs`` do not
  list the caller's org, an execution started in another org): 403 ACCESS_TO_RESOURCE_IS_FORBIDDEN
  (VCD's habit), or 404 RESOURCE_NOT_FOUND with ``EmulatorOptions(missing_status=404)``; the same
  answer for every call under ``/cloudapi/workflows/{id}``, the presentation included.
- Cancel (``DELETE .../state``) of a finished execution: 400, as vRO answers. Cancel is 204.
- Delete of an execution still in progress: 400 (cancel it first). Delete is 204.
- ``GET .../state``: a JSON string (``"running"``), or ``{"value": "running"}`` with
  ``EmulatorOptions(state_format="object")`` (the vRO shape).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.answers import bad_request, empty_response, json_response, versioned_media
from reconciler.emulator.auth import Principal
from reconciler.emulator.bodies import execution_body, presentation_body, summary_body
from reconciler.emulator.catalog import Workflow, is_secret_type
from reconciler.emulator.context import Emulator, StartRecord, emulator_of
from reconciler.emulator.executions import Execution, plan_execution
from reconciler.emulator.inputs import read_inputs
from reconciler.emulator.intake import read_json_body
from reconciler.emulator.wire import MASK

_BASE = "/cloudapi/workflows/{workflowId}"


async def start_execution(request: Request) -> Response:
    emulator = emulator_of(request)
    principal = emulator.guard(request)
    workflow = _workflow(emulator, principal, request)
    inputs = read_inputs(workflow, await read_json_body(request))
    now = emulator.clock()
    execution_id = emulator.new_execution_id()
    context = {
        "inputs": inputs,
        "workflow": {"id": workflow.id, "name": workflow.name},
        "execution": {
            "id": execution_id,
            "user": principal.user.name,
            "org": principal.org,
            "startedBy": principal.qualified_name,
        },
    }
    phases, outcome = plan_execution(workflow, inputs, context)
    execution = Execution(
        id=execution_id,
        workflow=workflow,
        user=principal.user,
        org=principal.org,
        started_at=now,
        inputs=inputs,
        api_endpoint=str(request.base_url).rstrip("/") + "/api",
        phases=phases,
        outcome=outcome,
    )
    emulator.executions.add(execution)
    emulator.starts.append(_start_record(execution))
    location = str(request.url).rstrip("/") + "/" + execution_id
    body = execution_body(
        execution, execution.snapshot(now), emulator.options.output_format, nulls=emulator.options.nulls
    )
    return json_response(body, 201, {"Location": location, "Content-Location": location}, versioned_media(request))


def _start_record(execution: Execution) -> StartRecord:
    types = {spec.name: spec.type for spec in execution.workflow.inputs}
    inputs = {name: MASK if is_secret_type(types[name]) else value for name, value in execution.inputs.items()}
    return StartRecord(execution.workflow.id, execution.id, execution.started_at, execution.started_by, inputs)


async def list_executions(request: Request) -> Response:
    emulator = emulator_of(request)
    principal = emulator.guard(request)
    workflow = _workflow(emulator, principal, request)
    now = emulator.clock()
    org = None if principal.is_provider else principal.org
    summaries = [
        summary_body(e, e.snapshot(now), nulls=emulator.options.nulls)
        for e in emulator.executions.of_workflow(workflow.id, org)
    ]
    body = {"total": len(summaries), "start": 0, "executions": summaries}
    return json_response(body, media_type=versioned_media(request))


async def get_execution(request: Request) -> Response:
    emulator, execution = _located(request)
    snapshot = execution.snapshot(emulator.clock())
    body = execution_body(execution, snapshot, emulator.options.output_format, nulls=emulator.options.nulls)
    return json_response(body, media_type=versioned_media(request))


async def get_state(request: Request) -> Response:
    emulator, execution = _located(request)
    state = execution.snapshot(emulator.clock()).state
    body: Any = {"value": state} if emulator.options.state_format == "object" else state
    return json_response(body, media_type=versioned_media(request))


async def cancel_execution(request: Request) -> Response:
    emulator, execution = _located(request)
    now = emulator.clock()
    snapshot = execution.snapshot(now)
    if snapshot.terminal:
        raise bad_request(f"Workflow execution {execution.id} is already {snapshot.state} and cannot be canceled")
    execution.canceled_at = now
    return empty_response(204)


async def delete_execution(request: Request) -> Response:
    emulator, execution = _located(request)
    snapshot = execution.snapshot(emulator.clock())
    if not snapshot.terminal:
        raise bad_request(f"Workflow execution {execution.id} is {snapshot.state}; cancel it before deleting it")
    emulator.executions.remove(execution)
    return empty_response(204)


async def get_presentation(request: Request) -> Response:
    emulator = emulator_of(request)
    principal = emulator.guard(request)
    workflow = _workflow(emulator, principal, request)
    body = presentation_body(workflow, emulator.options.output_format)
    return json_response(body, media_type=versioned_media(request))


def _located(request: Request) -> tuple[Emulator, Execution]:
    emulator = emulator_of(request)
    principal = emulator.guard(request)
    workflow = _workflow(emulator, principal, request)
    return emulator, emulator.execution(principal, workflow, request.path_params["executionId"])


def _workflow(emulator: Emulator, principal: Principal, request: Request) -> Workflow:
    """The path's workflow, if the caller may read it; else the answer for an unknown one."""
    workflow_id = request.path_params["workflowId"]
    workflow = emulator.workflow(workflow_id)
    if not workflow.readable_by(principal.org, provider=principal.is_provider):
        raise emulator.missing(f"Workflow {workflow_id} not found or not accessible")
    return workflow


ROUTES = [
    Route(f"{_BASE}/executions", start_execution, methods=["POST"]),
    Route(f"{_BASE}/executions", list_executions, methods=["GET"]),
    Route(f"{_BASE}/executions/{{executionId}}", get_execution, methods=["GET"]),
    Route(f"{_BASE}/executions/{{executionId}}", delete_execution, methods=["DELETE"]),
    Route(f"{_BASE}/executions/{{executionId}}/state", get_state, methods=["GET"]),
    Route(f"{_BASE}/executions/{{executionId}}/state", cancel_execution, methods=["DELETE"]),
    Route(f"{_BASE}/presentation", get_presentation, methods=["GET"]),
]
