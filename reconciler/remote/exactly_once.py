"""Starting exactly once: the lookup of a start whose answer was lost (SPEC 5.4), over the client's calls.

A start (``POST .../executions``) whose answer is lost may have created an execution anyway. Before
ever starting again, the workflow's executions are listed and each candidate read once; `matching`
decides (pure) which one is ours. `ExactlyOnce` does the listing, reading, re-looking and restarting
through the plain calls of a client (`Calls`: `WorkflowClient` is one), and the client offers its
methods as ``start_exactly_once``, ``find_started`` and ``find_started_many``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from reconciler.errors import EndpointUnreachableError, NotFoundError, OutcomeUnknownError, TemporaryRemoteError
from reconciler.remote.codecs import TypedValue
from reconciler.remote.executions import Execution, ExecutionSummary
from reconciler.remote.matching import DEFAULT_CLOCK_SKEW, Wanted, assign, is_candidate
from reconciler.remote.retrying import Sleep

log = logging.getLogger("reconciler.remote")
K = TypeVar("K", bound=Hashable)
# Checks that a start may be sent: raises when the caller lost its lock, else returns the time.monotonic() at
# which its check began (its answer is as fresh as that, however long it took to come back).
Fence = Callable[[], Awaitable[float]]
Gate = Callable[[], contextlib.AbstractAsyncContextManager[object]]  # entered around one request
Inputs = Mapping[str, TypedValue]
RetryDelay = Callable[[int, float | None], float]  # (attempt, Retry-After) -> seconds to wait
ANY_USER = "*"


@dataclass(frozen=True)
class LookupPolicy:
    """How hard to look for an execution whose start answer was lost before starting it again."""

    clock_skew: timedelta = DEFAULT_CLOCK_SKEW  # server clock may lag ours by this much
    settle_delay: float = 2.0  # wait this long before re-checking a list that does not show it yet
    settle_checks: int = 2  # re-checks after the first look, before absence counts as proven
    list_attempts: int = 3  # looks at a failing list (each already retried) before giving up
    max_restarts: int = 1  # starts after the first one, each only after absence was proven
    fetch_concurrency: int = 10  # candidate executions read at once


class Calls(Protocol):
    """The client calls the lookup is built on."""

    async def start_execution(self, workflow_id: str, inputs: Inputs, *, fence: Fence | None = None) -> Execution: ...

    async def list_executions(self, workflow_id: str) -> list[ExecutionSummary]: ...

    async def get_execution(self, workflow_id: str, execution_id: str) -> Execution: ...

    async def whoami(self) -> str | None: ...


class ExactlyOnce:
    """Starts that are never repeated blindly, and the lookup of starts whose answer was lost."""

    def __init__(self, calls: Calls, policy: LookupPolicy, sleep: Sleep, retry_delay: RetryDelay) -> None:
        self._calls = calls
        self._policy = policy
        self._sleep = sleep
        self._retry_delay = retry_delay

    async def find_started(
        self,
        workflow_id: str,
        inputs: Inputs,
        since: datetime,
        user: str | None = None,
        *,
        exclude: Collection[str] = (),
    ) -> Execution | None:
        """The earliest execution of ``workflow_id`` started at/after ``since`` by ``user`` with ``inputs``.

        ``user`` None means the client's own identity; `ANY_USER` matches anyone. ``exclude``: ids
        of executions already accounted for (e.g. every id in the state), never adopted.
        """
        found = await self.find_started_many(workflow_id, [(0, inputs, since)], user=user, exclude=exclude)
        return found[0]

    async def find_started_many(
        self,
        workflow_id: str,
        wanted: Sequence[tuple[K, Inputs, datetime]],
        *,
        user: str | None = None,
        exclude: Collection[str] = (),
        gate: Gate | None = None,
    ) -> dict[K, Execution | None]:
        """Recovery in one pass: list the workflow's executions once, read each candidate once
        (concurrently), and give each key its own execution (or None). See `matching.assign`.

        ``gate``: the caller's request limit (apply's per-workflow pacing), entered around each request
        (the list and every read); without it, reads go ``fetch_concurrency`` at a time."""
        who = await self._who(user)
        wants = {key: Wanted(inputs, _aware(since), who, exclude) for key, inputs, since in wanted}
        skew = self._policy.clock_skew
        async with gate() if gate is not None else contextlib.nullcontext():
            rows = await self._calls.list_executions(workflow_id)
        candidates = [row for row in rows if any(is_candidate(row, w, skew) for w in wants.values())]
        executions = await self._read_all(workflow_id, candidates, gate)
        return assign(wants, executions, skew)

    async def start(
        self,
        workflow_id: str,
        inputs: Inputs,
        since: datetime,
        *,
        exclude: Collection[str] = (),
        fence: Fence | None = None,
    ) -> Execution:
        """Start, and when the answer is lost adopt the execution it created instead of starting twice.

        ``since``: a time taken *before* the first attempt (the applier's durable intent time). After a
        lost answer the execution is looked up (`find_started`); it is started again only when repeated
        looks, ``settle_delay`` apart, prove it absent, and at most ``max_restarts`` times. If the list
        cannot be read, or the last attempt is lost too, `OutcomeUnknownError` is raised: the caller must
        record the start as unknown and look again later (never start again blindly).

        ``fence``: awaited by the client before every send of the start (the first, a restart, a retry
        of a refused start, a re-send after a re-login).
        """
        lost: OutcomeUnknownError | None = None
        for _ in range(self._policy.max_restarts + 1):
            try:
                return await self._calls.start_execution(workflow_id, inputs, fence=fence)
            except OutcomeUnknownError as exc:
                lost = exc
                log.warning("start of workflow %s: answer lost; looking for the execution", workflow_id)
            found = await self._find_lost_start(workflow_id, inputs, since, exclude)
            if found is not None:
                return found
        raise OutcomeUnknownError(
            f"start execution of workflow {workflow_id}: the answer was lost and no execution shows up "
            f"yet; not starting it again ({lost})",
            status=lost.status if lost else None,
            operation=f"start execution of workflow {workflow_id}",
        ) from lost

    async def _find_lost_start(
        self, workflow_id: str, inputs: Inputs, since: datetime, exclude: Collection[str]
    ) -> Execution | None:
        """Look, then re-look after ``settle_delay`` (a POST may still be in flight); None = proven absent."""
        for check in range(self._policy.settle_checks + 1):
            if check:
                await self._sleep(self._policy.settle_delay)
            found = await self._look_up(workflow_id, inputs, since, exclude)
            if found is not None:
                return found
        return None

    async def _look_up(
        self, workflow_id: str, inputs: Inputs, since: datetime, exclude: Collection[str]
    ) -> Execution | None:
        """`find_started`, tolerating a temporarily failing list; gives up as `OutcomeUnknownError`."""
        attempts = self._policy.list_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.find_started(workflow_id, inputs, since, exclude=exclude)
            except TemporaryRemoteError as exc:
                if attempt == attempts or isinstance(exc, EndpointUnreachableError):
                    raise OutcomeUnknownError(
                        f"start execution of workflow {workflow_id}: the answer was lost and the lookup "
                        f"failed too ({exc}); not starting it again",
                        operation=f"start execution of workflow {workflow_id}",
                        status=exc.status,
                    ) from exc
                await self._sleep(self._retry_delay(attempt, exc.retry_after))
        return None

    async def _who(self, user: str | None) -> str | None:
        if user == ANY_USER:
            return None
        if user:
            return user
        return await self._calls.whoami()

    async def _read_all(
        self, workflow_id: str, rows: Sequence[ExecutionSummary], gate: Gate | None = None
    ) -> list[Execution]:
        """Each candidate read once, ``fetch_concurrency`` at a time (or within ``gate``); vanished ones
        are skipped."""
        if gate is None:
            limit = asyncio.Semaphore(self._policy.fetch_concurrency)
            gate = lambda: limit  # noqa: E731

        async def read(row: ExecutionSummary) -> Execution | None:
            async with gate():
                try:
                    return await self._calls.get_execution(workflow_id, row.id)
                except NotFoundError:
                    return None

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(read(row)) for row in rows]
        except ExceptionGroup as failed:
            raise _first_error(failed) from None
        return [e for e in (task.result() for task in tasks) if e is not None]


def _first_error(group: ExceptionGroup[Exception]) -> Exception:
    """One error of a failed concurrent read, so callers see our own error classes, not a group."""
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, ExceptionGroup) else first


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC (comparing naive with aware dates would raise)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
