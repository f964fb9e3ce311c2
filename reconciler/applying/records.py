"""The run records apply writes, as pure functions of records and what the server said (no I/O).

`started_record` is a run's record once its start is answered (or found after a lost answer),
`execution_record` once its execution is read, `vanished_unread` when it vanished before its outputs
were read, `with_state` when only its state is known. The scheduling around them is `engine.Engine`.
"""

from __future__ import annotations

from typing import Any

from reconciler.parameters import SENSITIVE_MARK, ParamType
from reconciler.remote.executions import Execution as RemoteExecution
from reconciler.state.models import Execution, PendingStart, RunRecord

HISTORY_KEPT = 20


def recorded_execution(remote: RemoteExecution) -> Execution:
    """What the state keeps of an execution the server described."""
    return Execution(
        id=remote.id,
        state=remote.state,
        start_date=remote.start_date.isoformat() if remote.start_date else None,
        end_date=remote.end_date.isoformat() if remote.end_date else None,
        started_by=remote.started_by,
        error=remote.content_exception if remote.state in ("failed", "canceled") else None,
    )


def execution_record(record: RunRecord, remote: RemoteExecution) -> RunRecord:
    """``record`` updated with what the server says of its execution (read with `get_execution`): its
    outputs once it completed (then ``outputs_read``), none once it failed or was canceled."""
    update: dict[str, Any] = {"execution": recorded_execution(remote)}
    if remote.state == "completed":
        update["outputs"] = {n: v for n, (t, v) in remote.outputs.items() if not ParamType(t).is_sensitive}
        update["sensitive_outputs"] = sorted(n for n, (t, _) in remote.outputs.items() if ParamType(t).is_sensitive)
        update["output_types"] = {n: t for n, (t, _) in remote.outputs.items()}
        update["outputs_read"] = True
    elif remote.state in ("failed", "canceled"):
        update["outputs"], update["sensitive_outputs"], update["output_types"] = {}, [], {}
        update["outputs_read"] = False
    return record.model_copy(update=update)


def vanished_unread(record: RunRecord) -> RunRecord:
    """A completed record whose execution vanished from the server before its outputs were read.

    Written before ``outputsRead`` existed: taken as read, as that code did (most likely a workflow
    without outputs, purged since). Otherwise its outputs are lost for good: recorded as canceled, so
    it is retried or reported as failed, never taken as done."""
    assert record.execution is not None
    if record.outputs_read is None:
        return record.model_copy(update={"outputs_read": True})
    why = "completed, but the execution no longer exists on the server: its outputs could not be read"
    gone = record.execution.model_copy(update={"state": "canceled", "error": why})
    return record.model_copy(update={"execution": gone})


def shown_outputs(record: RunRecord) -> dict[str, Any]:
    """The recorded outputs as they may be shown: sensitive ones as ``(sensitive)``."""
    shown = {n: SENSITIVE_MARK if n in record.sensitive_outputs else record.outputs.get(n) for n in record.output_types}
    return shown or dict(record.outputs)


def started_record(
    prior: RunRecord | None,
    workflow: str,
    key: str,
    pending: PendingStart,
    started: RemoteExecution,
    revision: int,
    attempts: int,
    depends_on: list[str],
) -> RunRecord:
    """The record of a run whose start ``started`` answered (the one before, ``prior``, goes to history)."""
    history = list(prior.history) if prior else []
    if prior is not None and prior.execution is not None and prior.execution.id != started.id:
        history = [*history, prior.execution][-HISTORY_KEPT:]
    return RunRecord(
        workflow=workflow,
        key=key,
        inputs=pending.inputs,
        revision=revision,
        execution=recorded_execution(started),
        history=history,
        attempts=attempts,
        depends_on=depends_on,
        outputs_read=False,  # the start answer (or lookup) is not taken for the outputs: `_await` reads them
    )


def with_state(record: RunRecord, state: str) -> RunRecord:
    """``record`` with its execution's state changed to ``state`` (all else as recorded)."""
    assert record.execution is not None
    return record.model_copy(update={"execution": record.execution.model_copy(update={"state": state})})
