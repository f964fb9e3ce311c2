"""Refreshing: bring recorded executions up to date from the server. Starts nothing.

Used by ``reconciler refresh`` (which records the result), ``apply`` (before it plans) and ``plan``
(which only shows it). Each execution still in progress, and each completed one whose outputs were
never read (a crash between recording the end and reading it), is read once, concurrently within
the request limit; a finished one has its end date, error and outputs recorded exactly as apply would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from reconciler.applying.engine import Api
from reconciler.applying.records import execution_record, vanished_unread
from reconciler.errors import NotFoundError
from reconciler.state.models import RunRecord


async def refresh_records(api: Api, runs: Mapping[str, RunRecord], parallelism: int) -> dict[str, RunRecord]:
    """The records that changed, by run name."""
    limit = asyncio.Semaphore(max(1, parallelism))

    async def one(name: str, record: RunRecord) -> tuple[str, RunRecord | None]:
        assert record.execution is not None
        async with limit:
            try:
                remote = await api.get_execution(record.workflow, record.execution.id)
            except NotFoundError:
                return name, _vanished(record)
        updated = execution_record(record, remote)
        return name, (updated if updated != record else None)

    results = await asyncio.gather(*(one(n, r) for n, r in runs.items() if r.needs_refresh()))
    return {n: r for n, r in results if r is not None}


def _vanished(record: RunRecord) -> RunRecord:
    assert record.execution is not None
    if record.outputs_unread():
        return vanished_unread(record)
    gone = record.execution.model_copy(update={"state": "canceled", "error": "execution no longer exists"})
    return record.model_copy(update={"execution": gone})
