"""`WorkflowClient`: the async VCD workflow-execution API (SPEC 5), one shared connection pool.

Why this shape (httpx's own split: policy above, transport below): the client is policy only —
authentication, versioned ``Accept``, retries, error mapping, decoding — over one `httpx.AsyncClient`
whose transport tests swap for the in-process emulator (``httpx.ASGITransport``) or a
``MockTransport``. Every request is built fresh per attempt so a re-login changes its bearer token.

Three request disciplines:

- reads and deletes (GET, DELETE) are retried on 429/5xx/transport errors (`retrying.RetryPolicy`);
- a start (``POST .../executions``) is retried only when the server provably did not process it
  (connection refused, 429, 503); otherwise its failure is `OutcomeUnknownError` and
  `start_exactly_once` looks the execution up before ever starting again;
- any call answered 401 logs in again once and is repeated once; a second 401 is `AuthError`.

Logging (logger ``reconciler.remote``, DEBUG): method, path and status only — never headers or bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from reconciler.errors import (
    AuthError,
    CodecError,
    EndpointUnreachableError,
    NotFoundError,
    OutcomeUnknownError,
    PermanentRemoteError,
    TemporaryRemoteError,
    VersionNotSupportedError,
)
from reconciler.redaction import Redactor
from reconciler.remote.auth import Login, TokenKeeper, log_in
from reconciler.remote.codecs import TypedValue, ws_parameter
from reconciler.remote.executions import (
    TERMINAL_STATES,
    Execution,
    ExecutionSummary,
    ParameterDefinition,
    read_execution,
    read_presentation,
    read_state,
    read_summaries,
)
from reconciler.remote.failures import error_from_response, error_from_transport, unreadable_answer
from reconciler.remote.matching import DEFAULT_CLOCK_SKEW, Wanted, assign, is_candidate
from reconciler.remote.reachability import Reachability
from reconciler.remote.retrying import RetryPolicy, Sleep, retrying
from reconciler.remote.settings import ApiSettings, ValueFormat

log = logging.getLogger("reconciler.remote")
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
Fence = Callable[[], Awaitable[None]]  # raises when a start must not be sent (again): the caller lost its lock
Inputs = Mapping[str, TypedValue]
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


class WorkflowClient:
    """Async client of ``/cloudapi/workflows/{id}/executions``; use as ``async with``."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        lookup: LookupPolicy | None = None,
        max_connections: int = 20,
        rng: random.Random | None = None,
        redactor: Redactor = Redactor(),
    ) -> None:
        self.settings = settings
        # secrets the server may echo (the command's secret inputs, our credentials): never passed on
        self._redact = redactor.with_values([settings.password, settings.api_token])
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._lookup = lookup or LookupPolicy()
        self._rng = rng or random.Random()
        self._http = _http_client(settings, transport, max_connections)
        self._keeper = TokenKeeper(self._log_in)
        self.reachability = Reachability(settings.url, settings.give_up_after)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def identity(self) -> str | None:
        """``user@org`` of the login (as the server spells it); None before the first login."""
        return self._keeper.identity

    # ------------------------------------------------------------------------------------ operations

    async def login(self) -> str | None:
        """Log in now (otherwise the first call does); returns the identity."""
        login = await retrying(self._keeper.force, self._retry, self._patient_sleep, self._rng)
        return login.identity

    async def start_execution(self, workflow_id: str, inputs: Inputs, *, fence: Fence | None = None) -> Execution:
        """``POST .../executions``; never repeated once it may have reached the server. ``fence``: awaited
        before each repeated send (raises to stop, e.g. when the caller lost its state lock)."""
        operation = f"start execution of workflow {workflow_id}"
        body = {"parameters": _ws_parameters(inputs, self.settings.value_format)}
        response = await self._call("POST", _executions(workflow_id), operation, json=body, unsafe=True, fence=fence)
        if not response.content and "Location" in response.headers:
            return await self.get_execution(workflow_id, response.headers["Location"].rstrip("/").split("/")[-1])
        return self._redacted(self._read(operation, response, lambda doc: read_execution(workflow_id, doc)))

    async def get_execution(self, workflow_id: str, execution_id: str) -> Execution:
        operation = f"read execution {execution_id} of workflow {workflow_id}"
        response = await self._call("GET", _execution(workflow_id, execution_id), operation)
        return self._redacted(self._read(operation, response, lambda doc: read_execution(workflow_id, doc)))

    async def list_executions(self, workflow_id: str) -> list[ExecutionSummary]:
        operation = f"list executions of workflow {workflow_id}"
        response = await self._call("GET", _executions(workflow_id), operation)
        return self._read(operation, response, read_summaries)

    async def get_state(self, workflow_id: str, execution_id: str) -> str:
        operation = f"read the state of execution {execution_id} of workflow {workflow_id}"
        response = await self._call("GET", _execution(workflow_id, execution_id) + "/state", operation)
        return self._read(operation, response, read_state)

    async def cancel(self, workflow_id: str, execution_id: str) -> None:
        """Cancel a running execution; one that already ended (a race, or a retried cancel) is fine."""
        operation = f"cancel execution {execution_id} of workflow {workflow_id}"
        try:
            await self._call("DELETE", _execution(workflow_id, execution_id) + "/state", operation)
        except PermanentRemoteError as refused:
            if isinstance(refused, NotFoundError | VersionNotSupportedError):
                raise
            if await self.get_state(workflow_id, execution_id) not in TERMINAL_STATES:
                raise
            log.debug("cancel of %s: already ended", execution_id)

    async def delete(self, workflow_id: str, execution_id: str) -> None:
        """Delete an execution record (the server may require it to have ended: cancel first)."""
        operation = f"delete execution {execution_id} of workflow {workflow_id}"
        await self._call("DELETE", _execution(workflow_id, execution_id), operation, gone_ok=True)

    async def presentation(self, workflow_id: str) -> list[ParameterDefinition]:
        """The workflow's declared input then output parameters."""
        operation = f"read the presentation of workflow {workflow_id}"
        path = f"/cloudapi/workflows/{_segment(workflow_id)}/presentation"
        response = await self._call("GET", path, operation)
        return self._read(operation, response, read_presentation)

    def _read(self, operation: str, response: httpx.Response, reader: Callable[[Any], T]) -> T:
        return _decode(operation, response, reader, self._redact)

    def _redacted(self, execution: Execution) -> Execution:
        """The execution with the server's free text cleared of known secrets (its parameters are
        values, not text: they are kept for matching, and secret ones are never stored)."""
        redact = self._redact
        if not redact.secrets:
            return execution
        return replace(
            execution,
            content_exception=redact.optional(execution.content_exception),
            business_state=redact.optional(execution.business_state),
            current_item=redact.optional(execution.current_item),
        )

    # ----------------------------------------------------------------------------------- exactly once

    async def find_started(
        self,
        workflow_id: str,
        inputs: Inputs,
        since: datetime,
        user: str | None = None,
        *,
        exclude: Iterable[str] = (),
    ) -> Execution | None:
        """The earliest execution of ``workflow_id`` started at/after ``since`` by ``user`` with ``inputs``.

        ``user`` None means this client's own identity; `ANY_USER` matches anyone. ``exclude``: ids
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
        exclude: Iterable[str] = (),
        gate: asyncio.Semaphore | None = None,
    ) -> dict[K, Execution | None]:
        """Recovery in one pass: list the workflow's executions once, read each candidate once
        (concurrently), and give each key its own execution (or None). See `matching.assign`.

        ``gate``: the caller's request limit, taken around each request (the list and every read);
        without it, reads go ``fetch_concurrency`` at a time."""
        who = await self._who(user)
        excluded = frozenset(exclude)
        wants = {key: Wanted(inputs, _aware(since), who, excluded) for key, inputs, since in wanted}
        skew = self._lookup.clock_skew
        async with gate or contextlib.nullcontext():
            rows = await self.list_executions(workflow_id)
        candidates = [row for row in rows if any(is_candidate(row, w, skew) for w in wants.values())]
        executions = await self._read_all(workflow_id, candidates, gate)
        return assign(wants, executions, skew)

    async def start_exactly_once(
        self,
        workflow_id: str,
        inputs: Inputs,
        since: datetime,
        *,
        exclude: Iterable[str] = (),
        fence: Fence | None = None,
    ) -> Execution:
        """Start, and when the answer is lost adopt the execution it created instead of starting twice.

        ``since``: a time taken *before* the first attempt (the applier's durable intent time). After a
        lost answer the execution is looked up (`find_started`); it is started again only when repeated
        looks, ``settle_delay`` apart, prove it absent, and at most ``max_restarts`` times. If the list
        cannot be read, or the last attempt is lost too, `OutcomeUnknownError` is raised: the caller must
        record the start as unknown and look again later (never start again blindly).

        ``fence``: awaited before every send but the first (which the caller checks itself): a
        restart, a retry of a refused start, a re-send after a re-login.
        """
        excluded = frozenset(exclude)
        lost: OutcomeUnknownError | None = None
        for restart in range(self._lookup.max_restarts + 1):
            if restart and fence is not None:
                await fence()
            try:
                return await self.start_execution(workflow_id, inputs, fence=fence)
            except OutcomeUnknownError as exc:
                lost = exc
                log.warning("start of workflow %s: answer lost; looking for the execution", workflow_id)
            found = await self._find_lost_start(workflow_id, inputs, since, excluded)
            if found is not None:
                return found
        raise OutcomeUnknownError(
            f"start execution of workflow {workflow_id}: the answer was lost and no execution shows up "
            f"yet; not starting it again ({lost})",
            status=lost.status if lost else None,
            operation=f"start execution of workflow {workflow_id}",
        ) from lost

    async def _find_lost_start(
        self, workflow_id: str, inputs: Inputs, since: datetime, exclude: frozenset[str]
    ) -> Execution | None:
        """Look, then re-look after ``settle_delay`` (a POST may still be in flight); None = proven absent."""
        for check in range(self._lookup.settle_checks + 1):
            if check:
                await self._sleep(self._lookup.settle_delay)
            found = await self._look_up(workflow_id, inputs, since, exclude)
            if found is not None:
                return found
        return None

    async def _look_up(
        self, workflow_id: str, inputs: Inputs, since: datetime, exclude: frozenset[str]
    ) -> Execution | None:
        """`find_started`, tolerating a temporarily failing list; gives up as `OutcomeUnknownError`."""
        attempts = self._lookup.list_attempts
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
                await self._sleep(self._retry.delay(attempt, exc.retry_after, self._rng))
        return None

    async def _who(self, user: str | None) -> str | None:
        if user == ANY_USER:
            return None
        if user:
            return user
        await self._keeper.token()  # log in, so the identity is known
        return self.identity

    async def _read_all(
        self, workflow_id: str, rows: Sequence[ExecutionSummary], gate: asyncio.Semaphore | None = None
    ) -> list[Execution]:
        """Each candidate read once, ``fetch_concurrency`` (or ``gate``) at a time; vanished ones are skipped."""
        gate = gate or asyncio.Semaphore(self._lookup.fetch_concurrency)

        async def read(row: ExecutionSummary) -> Execution | None:
            async with gate:
                try:
                    return await self.get_execution(workflow_id, row.id)
                except NotFoundError:
                    return None

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(read(row)) for row in rows]
        except ExceptionGroup as failed:
            raise _first_error(failed) from None
        return [e for e in (task.result() for task in tasks) if e is not None]

    # ------------------------------------------------------------------------------------- transport

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: Any = None,
        unsafe: bool = False,
        gone_ok: bool = False,
        fence: Fence | None = None,
    ) -> httpx.Response:
        """One API call with login, one re-login on 401, and retries as its discipline allows.

        ``gone_ok``: a 403/404 on a *repeated* attempt means an earlier attempt whose answer was lost
        did the job (a retried DELETE), so it counts as success. ``fence``: awaited before every send
        but the first.
        """
        tries = 0

        async def attempt() -> httpx.Response:
            nonlocal tries
            tries += 1
            if tries > 1 and fence is not None:
                await fence()
            try:
                return await self._authorized(method, path, operation, json, unsafe, fence)
            except NotFoundError:
                if gone_ok and tries > 1:
                    return httpx.Response(204)
                raise

        return await retrying(attempt, self._retry, self._patient_sleep, self._rng)

    async def _patient_sleep(self, delay: float) -> None:
        """A retry's pause, cut short when the endpoint's give-up time comes first (its next try then
        raises `EndpointUnreachableError`)."""
        left = self.reachability.time_left()
        await self._sleep(delay if left is None else max(0.0, min(delay, left)))

    async def _authorized(
        self, method: str, path: str, operation: str, json: Any, unsafe: bool, fence: Fence | None = None
    ) -> httpx.Response:
        token = await self._keeper.token()
        try:
            return await self._exchange(self._build(method, path, token, json), operation, unsafe)
        except AuthError:
            log.info("%s %s: unauthorized, logging in again", method, path)
        fresh = await self._keeper.renew(token)
        if fence is not None:
            await fence()
        try:
            return await self._exchange(self._build(method, path, fresh, json), operation, unsafe)
        except AuthError as exc:
            raise AuthError(
                f"{exc} (still refused after logging in again)",
                status=exc.status,
                minor_code=exc.minor_code,
                server_message=exc.server_message,
                operation=operation,
            ) from exc

    def _build(self, method: str, path: str, token: str, json: Any) -> httpx.Request:
        headers = {"Authorization": f"Bearer {token}"}
        return self._http.build_request(method, path, json=json, headers=headers)

    async def _exchange(self, request: httpx.Request, operation: str, unsafe: bool = False) -> httpx.Response:
        """Send once; map a missing answer or a status >= 300 to the project's errors. Nothing is sent
        once the endpoint's give-up time has passed; every answer or failure is reported to `reachability`."""
        reachability = self.reachability
        reachability.check(operation)
        sent_at = reachability.now()
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            log.debug("%s %s -> %s", request.method, request.url.path, type(exc).__name__)
            error = error_from_transport(operation, exc, unsafe=unsafe)
            reachability.failed(str(error), sent_at)
            raise error from exc
        log.debug("%s %s -> %d", request.method, request.url.path, response.status_code)
        if response.status_code >= 500:
            reachability.failed(f"{operation}: {response.status_code} {response.reason_phrase}", sent_at)
        else:
            reachability.answered()
        if response.status_code >= 300:
            raise error_from_response(operation, response, unsafe=unsafe, redact=self._redact)
        return response

    async def _log_in(self) -> Login:
        return await log_in(self.settings, self._http.build_request, self._exchange)


def _http_client(
    settings: ApiSettings, transport: httpx.AsyncBaseTransport | None, max_connections: int
) -> httpx.AsyncClient:
    timeout = settings.request_timeout
    return httpx.AsyncClient(
        base_url=settings.url,
        transport=transport,
        verify=settings.verify_tls,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={
            "Accept": f"application/json;version={settings.api_version}",
            "User-Agent": settings.user_agent,
        },
        follow_redirects=False,
    )


def _ws_parameters(inputs: Inputs, fmt: ValueFormat) -> list[dict[str, Any]]:
    parameters = []
    for name, (type_name, value) in inputs.items():
        try:
            parameters.append(ws_parameter(name, type_name, value, fmt))
        except CodecError as exc:
            raise CodecError(f"parameter {name!r}: {exc}") from exc
    return parameters


def _decode(operation: str, response: httpx.Response, reader: Callable[[Any], T], redact: Redactor) -> T:
    """Decode a success answer; an unreadable one is a `PermanentRemoteError` naming the operation
    (and quoting what it could not read, known secrets redacted)."""
    try:
        return reader(response.json())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable_answer(operation, response, redact(str(exc))) from exc


def _first_error(group: ExceptionGroup[Exception]) -> Exception:
    """One error of a failed concurrent read, so callers see our own error classes, not a group."""
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, ExceptionGroup) else first


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC (comparing naive with aware dates would raise)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _segment(value: str) -> str:
    return quote(value, safe=":")


def _executions(workflow_id: str) -> str:
    return f"/cloudapi/workflows/{_segment(workflow_id)}/executions"


def _execution(workflow_id: str, execution_id: str) -> str:
    return f"{_executions(workflow_id)}/{_segment(execution_id)}"
