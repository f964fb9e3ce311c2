"""Sample states and events for the backend tests."""

from __future__ import annotations

import uuid

from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import Execution, PendingStart, RecordedInput, RunRecord, State


def record(workflow: str = "deploy", key: str = "k1", **changes: object) -> RunRecord:
    base = RunRecord(
        workflow=workflow,
        key=key,
        inputs={
            "size": RecordedInput(type="number", value=3),
            "password": RecordedInput(type="SecureString", sensitive=True, hash="hmac-sha256:ab"),
        },
        execution=Execution(id="e-1", state="completed", start_date="2025-01-01T00:00:00Z", started_by="me"),
        history=[Execution(id="e-0", state="failed", error="boom")],
        attempts=2,
        outputs={"ip": "10.0.0.1", "ports": [80, 443], "meta": {"ok": True}},
        output_types={"ip": "string"},
        sensitive_outputs=["token"],
        depends_on=["net"],
        pending=PendingStart(key="k1", requested_at="2025-01-01T00:00:00Z"),
    )
    return base.model_copy(update=changes)


def state(serial: int = 0, lineage: str | None = None, runs: int = 2) -> State:
    return State(
        serial=serial,
        lineage=lineage or str(uuid.uuid4()),
        salt="c2FsdA==",
        runs={f"run-{i}": record(key=f"k{i}") for i in range(runs)},
    )


def put(run: str, key: str = "k9") -> PutRun:
    return PutRun(run=run, record=record(key=key))


def remove(run: str) -> RemoveRun:
    return RemoveRun(run=run)
