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
import logging
import random
import urllib.request
from collections.abc import Callable, Collection, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from reconciler.definitions import WorkflowDefinition
from reconciler.errors import (
    AuthError,
    CodecError,
    NotFoundError,
    PermanentRemoteError,
    TemporaryRemoteError,
    VersionNotSupportedError,
)
from reconciler.redaction import Redactor
from reconciler.remote.auth import Login, TokenKeeper, accept, log_in, read_offered
from reconciler.remote.codecs import ws_parameter
from reconciler.remote.exactly_once import ExactlyOnce, Fence, Gate, Inputs, LookupPolicy
from reconciler.remote.executions import (
    TERMINAL_STATES,
    Execution,
    ExecutionSummary,
    read_execution,
    read_presentation,
    read_state,
    read_summaries,
)
from reconciler.remote.failures import (
    NOT_PROCESSED_STATUSES,
    error_from_response,
    error_from_transport,
    retry_after,
    unreadable_answer,
)
from reconciler.remote.reachability import Reachability
from reconciler.remote.retrying import Pushback, RetryPolicy, Sleep, retrying
from reconciler.remote.settings import ApiSettings, ValueFormat
from reconciler.remote.tls import Certificate, peer_certificate
from reconciler.remote.transport import ConnectionSlots, StaleCheckError, sent_by
from reconciler.remote.versions import OfferedVersion

log = logging.getLogger("reconciler.remote")
URL_CACHE = 4096  # paths whose parsed URL is kept (a URL is parsed in ~30 us: 5 % of apply's CPU at P = 200)
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


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
        self._offered: tuple[OfferedVersion, ...] = ()  # /api/versions, once read (`versions`)
        # secrets the server may echo (the command's secret inputs, our credentials): never passed on
        self._redact = redactor.with_values([settings.password, settings.api_token])
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._lookup = lookup or LookupPolicy()
        self._rng = rng or random.Random()
        self._http = _http_client(settings, transport, max_connections)
        # the URL of a call, as httpx joins it to its base (which ends with "/"): joined here, parsed once
        # per path (a workflow's starts share one, an execution's reads another): `_url`
        self._base = str(self._http.base_url).rstrip("/") + "/"
        self._urls: dict[str, httpx.URL] = {}
        self._keeper = TokenKeeper(self._log_in)
        self._exactly_once = ExactlyOnce(self, self._lookup, sleep, self._retry_delay)
        self.reachability = Reachability(settings.url, settings.give_up_after)
        self.pushback = Pushback()  # every 429 / 503 of a workflow's call (the engine's pacing listens)

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

    @property
    def api_version(self) -> str:
        """The API version requests use (with ``apiVersion: auto``, the one chosen at login)."""
        return self._http.headers["Accept"].partition("version=")[2]

    async def login(self) -> str | None:
        """Log in now (otherwise the first call does); returns the identity."""
        return (await self.session()).identity

    async def session(self) -> Login:
        """Log in now and say how: identity, API version (chosen with ``auto``), token expiry."""
        return await retrying(self._keeper.force, self._retry, self._patient_sleep, self._rng)

    async def versions(self) -> tuple[tuple[OfferedVersion, ...], Certificate | None]:
        """The API versions the server offers (``/api/versions``, no login needed) and the server's
        certificate as verified on that connection (None for plain HTTP or verification off)."""
        seen: list[httpx.Response] = []

        async def send(request: httpx.Request, operation: str) -> httpx.Response:
            seen.append(await self._exchange(request, operation))
            return seen[-1]

        self._offered = await read_offered(self._http.build_request, send)
        return self._offered, peer_certificate(seen[-1])

    async def whoami(self) -> str | None:
        """The identity, logging in first when not logged in yet."""
        await self._keeper.token()
        return self.identity

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

    async def list_states(self, workflow_id: str) -> dict[str, str]:
        """``GET .../executions`` read as execution id -> state, all watching needs (a list of 20,000
        rows reads in ~10 ms this way, ~60 ms as full summaries with their dates)."""
        operation = f"list executions of workflow {workflow_id}"
        response = await self._call("GET", _executions(workflow_id), operation)
        return self._read(operation, response, _states_of)

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

    async def presentation(self, workflow_id: str) -> WorkflowDefinition:
        """The workflow's declared inputs and outputs (404 and 403 both mean: not available to you)."""
        operation = f"read the presentation of workflow {workflow_id}"
        path = f"/cloudapi/workflows/{_segment(workflow_id)}/presentation"
        response = await self._call("GET", path, operation)
        read_at = datetime.now(UTC)
        return self._read(operation, response, lambda body: read_presentation(workflow_id, body, read_at))

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        return self._retry.delay(attempt, retry_after, self._rng)

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
        exclude: Collection[str] = (),
    ) -> Execution | None:
        """`ExactlyOnce.find_started`."""
        return await self._exactly_once.find_started(workflow_id, inputs, since, user, exclude=exclude)

    async def find_started_many(
        self,
        workflow_id: str,
        wanted: Sequence[tuple[K, Inputs, datetime]],
        *,
        user: str | None = None,
        exclude: Collection[str] = (),
        gate: Gate | None = None,
    ) -> dict[K, Execution | None]:
        """`ExactlyOnce.find_started_many`."""
        return await self._exactly_once.find_started_many(workflow_id, wanted, user=user, exclude=exclude, gate=gate)

    async def start_exactly_once(
        self,
        workflow_id: str,
        inputs: Inputs,
        since: datetime,
        *,
        exclude: Collection[str] = (),
        fence: Fence | None = None,
    ) -> Execution:
        """`ExactlyOnce.start`: start, and when the answer is lost adopt the execution it created.

        ``exclude`` (executions never adopted) is read only after a lost answer, as it is then: apply
        passes its live set of every id the state accounts for, never a copy per start."""
        return await self._exactly_once.start(workflow_id, inputs, since, exclude=exclude, fence=fence)

    # ------------------------------------------------------------------------------------- transport

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: Any = None,
        unsafe: bool = False,
        fence: Fence | None = None,
    ) -> httpx.Response:
        """One API call with login, one re-login on 401, and retries as its discipline allows.

        ``fence``: awaited before every send. A fenced request goes out only while that check is fresh
        (half the request timeout from when the check began, looked at as its first bytes are written:
        `transport.sent_by`); else it is checked again and sent then.
        """

        async def attempt() -> httpx.Response:
            checked = await fence() if fence is not None else None
            return await self._authorized(method, path, operation, json, unsafe, fence, checked)

        return await retrying(attempt, self._retry, self._patient_sleep, self._rng)

    async def _patient_sleep(self, delay: float) -> None:
        """A retry's pause, cut short when the endpoint's give-up time comes first (its next try then
        raises `EndpointUnreachableError`)."""
        left = self.reachability.time_left()
        await self._sleep(delay if left is None else max(0.0, min(delay, left)))

    async def _authorized(
        self,
        method: str,
        path: str,
        operation: str,
        json: Any,
        unsafe: bool,
        fence: Fence | None = None,
        checked: float | None = None,
    ) -> httpx.Response:
        token = await self._keeper.token()
        try:
            with self._fresh(checked):
                return await self._exchange(self._build(method, path, token, json), operation, unsafe)
        except AuthError:
            log.info("%s %s: unauthorized, logging in again", method, path)
        fresh = await self._keeper.renew(token)
        if fence is not None:
            checked = await fence()
        try:
            with self._fresh(checked):
                return await self._exchange(self._build(method, path, fresh, json), operation, unsafe)
        except AuthError as exc:
            raise AuthError(
                f"{exc} (still refused after logging in again)",
                status=exc.status,
                minor_code=exc.minor_code,
                server_message=exc.server_message,
                operation=operation,
            ) from exc

    def _fresh(self, checked: float | None) -> AbstractContextManager[None]:
        """A fenced request is sent only while its fence check (begun at ``checked``) is fresh."""
        return sent_by(checked + self.settings.request_timeout / 2) if checked is not None else nullcontext()

    def _build(self, method: str, path: str, token: str, json: Any) -> httpx.Request:
        headers = {"Authorization": f"Bearer {token}"}
        return self._http.build_request(method, self._url(path), json=json, headers=headers)

    def _url(self, path: str) -> httpx.URL:
        """``path`` joined to the base URL; parsed once (the cache starts anew when it holds `URL_CACHE` paths)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= URL_CACHE:
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self._base + path.lstrip("/"))
        return url

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
            if isinstance(exc.__cause__, StaleCheckError):  # held back by this client: says nothing of the server
                raise TemporaryRemoteError(f"{operation}: {exc}", operation=operation) from exc
            error = error_from_transport(operation, exc, unsafe=unsafe)
            reachability.failed(str(error), sent_at)
            raise error from exc
        # read whole by now; httpx's stream wrapper and the response refer to each other, a cycle only
        # the garbage collector would free (~17 objects per request): the content alone instead
        response.stream = httpx.ByteStream(response.content)
        log.debug("%s %s -> %d", request.method, request.url.path, response.status_code)
        if response.status_code >= 500:
            reachability.failed(f"{operation}: {response.status_code} {response.reason_phrase}", sent_at)
        else:
            reachability.answered()
        if response.status_code in NOT_PROCESSED_STATUSES:
            self.pushback.report(request.url.path, response.status_code, retry_after(response))
        if response.status_code >= 300:
            raise error_from_response(operation, response, unsafe=unsafe, redact=self._redact)
        return response

    async def _log_in(self) -> Login:
        login = await log_in(self.settings, self._http.build_request, self._exchange, self._offered)
        self._http.headers["Accept"] = accept(login.api_version)  # the version chosen (apiVersion: auto)
        if self.settings.api_version != login.api_version:  # chosen once: a re-login keeps it, reads nothing
            self.settings = replace(self.settings, api_version=login.api_version)
        return login


def _http_client(
    settings: ApiSettings, transport: httpx.AsyncBaseTransport | None, max_connections: int
) -> httpx.AsyncClient:
    timeout = settings.request_timeout
    verify = settings.tls_verification()
    client = httpx.AsyncClient(
        base_url=settings.url,
        # see remote/transport.py for why; through a proxy (HTTPS_PROXY...), httpx's own pool, which speaks to it
        transport=transport or (None if _behind_proxy(settings.url) else ConnectionSlots(max_connections, verify)),
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={
            "Accept": f"application/json;version={settings.api_version}",
            "User-Agent": settings.user_agent,
        },
        follow_redirects=False,
    )
    client._cookies = _Cookies()  # httpx has no public way to give a client its own Cookies class
    return client


class _Cookies(httpx.Cookies):
    """Cookies kept as httpx keeps them (a load balancer's sticky session, say), but an answer that sets
    none is not handed to the cookie jar: httpx's extraction builds a ``urllib`` request and response
    for every answer (7 % of apply's CPU at ``--parallelism 200``, bench/README.md) to find nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def _behind_proxy(url: str) -> bool:
    """Whether the standard proxy variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, not bypassed
    by ``NO_PROXY``) send requests to ``url`` through a proxy."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")  # NO_PROXY (read from the environment)


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


def _states_of(body: Any) -> dict[str, str]:
    """Execution id -> state of a list: VCD's rows read directly, any other shape as summaries."""
    rows = body.get("executions") if isinstance(body, dict) else None
    if isinstance(rows, list) and all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rows):
        return {r["id"]: read_state(r.get("state")) for r in rows}
    return {row.id: row.state for row in read_summaries(body)}


def _segment(value: str) -> str:
    return quote(value, safe=":")


def _executions(workflow_id: str) -> str:
    return f"/cloudapi/workflows/{_segment(workflow_id)}/executions"


def _execution(workflow_id: str, execution_id: str) -> str:
    return f"{_executions(workflow_id)}/{_segment(execution_id)}"
