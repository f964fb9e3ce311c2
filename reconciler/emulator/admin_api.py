"""The read-only admin view under ``/_emulator``: what the emulator received, for tests and demos.

No authentication, no version header, no latency, never faulted: it is the tests' window on the
server, not part of the emulated API. ``/_emulator/starts`` lists every *accepted* start (refused ones
create nothing), including those whose execution was later deleted, so an exactly-once test can
count starts per input set even when the answer was lost. Secure-string inputs appear masked.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.answers import json_response
from reconciler.emulator.clock import iso_date
from reconciler.emulator.context import emulator_of


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def starts(request: Request) -> Response:
    emulator = emulator_of(request)
    body = [
        {
            "workflowId": record.workflow_id,
            "executionId": record.execution_id,
            "receivedAt": iso_date(record.received_at),
            "user": record.user,
            "inputs": record.inputs,
        }
        for record in emulator.starts
    ]
    return json_response(body)


async def executions(request: Request) -> Response:
    emulator = emulator_of(request)
    now = emulator.clock()
    body = []
    for execution in emulator.executions.all():
        snapshot = execution.snapshot(now)
        body.append(
            {
                "workflowId": execution.workflow.id,
                "executionId": execution.id,
                "state": snapshot.state,
                "startedBy": execution.started_by,
                "startDate": execution.start_date,
                "endDate": None if snapshot.ended_at is None else iso_date(snapshot.ended_at),
            }
        )
    return json_response(body)


async def faults(request: Request) -> Response:
    policy = emulator_of(request).faults
    return json_response({"rate": policy.rate, "kinds": list(policy.kinds), "injected": dict(policy.injected)})


async def sessions(request: Request) -> Response:
    return json_response({"opened": emulator_of(request).sessions.opened})


ROUTES = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/starts", starts, methods=["GET"]),
    Route("/_emulator/executions", executions, methods=["GET"]),
    Route("/_emulator/faults", faults, methods=["GET"]),
    Route("/_emulator/sessions", sessions, methods=["GET"]),
]
