"""Refreshing: bring recorded in-progress executions up to date from the server. Starts nothing.

Used by ``reconciler refresh`` (which records the result) and by ``plan`` (which only shows it).
Each in-progress execution is read once, concurrently within the request limit; a finished one has
its end date, error and outputs recorded exactly as apply would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from reconciler.applying.engine import Api, execution_record
from reconciler.errors import NotFoundError
from reconciler.state.models import IN_PROGRESS, RunRecord


async def refresh_records(api: Api, runs: Mapping[str, RunRecord], parallelism: int) -> dict[str, RunRecord]:
    """The records that changed, by run name."""
    limit = asyncio.Semaphore(max(1, parallelism))
    stale = {n: r for n, r in runs.items() if r.execution is not None and r.execution.state in IN_PROGRESS}

    async def one(name: str, record: RunRecord) -> tuple[str, RunRecord | None]:
        assert record.execution is not None
        async with limit:
            try:
                remote = await api.get_execution(record.workflow, record.execution.id)
            except NotFoundError:
                gone = record.execution.model_copy(update={"state": "canceled", "error": "execution no longer exists"})
                return name, record.model_copy(update={"execution": gone})
        updated = execution_record(record, remote)
        return name, (updated if updated != record else None)

    results = await asyncio.gather(*(one(n, r) for n, r in stale.items()))
    return {n: r for n, r in results if r is not None}
