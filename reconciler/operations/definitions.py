"""Workflow definitions for a command: read from the server, or the ones kept from the last reading.

``read_definitions`` reads the presentation (``GET /cloudapi/workflows/{id}/presentation``) of each
workflow the desired runs use, once per workflow and command, concurrently within the stack's
parallelism, through one client. What the server answers decides where a workflow lands in the
`Definitions`:

- a presentation: ``known`` (with ``read_at``);
- 403 or 404: ``unavailable`` (VCD answers both for a workflow that does not exist or that the user
  cannot read), with the status and the server's message;
- anything that is no answer about the workflow: ``unread``, with why, and its checks are skipped:
  a malformed presentation (naming the workflow and what was wrong), a server that does not serve
  presentations (405, 501, 400 "not supported", any other 4xx or 5xx), or a server that cannot be
  reached or refuses the login (then the workflows not read yet are not tried: one reason for all).

``cached_definitions`` is what ``validate`` and ``plan --no-refresh`` use instead: the definitions
kept beside the state (`reconciler.backends.definitions_store`) for the stack's endpoint, without
contacting the server. ``keep_definitions`` stores what ``init --workflow`` read; ``apply`` and
``refresh``, which hold the state's backend and the client's settings already, write theirs with
``StateBackend.write_definitions`` (keyed by the same URL); ``plan`` never writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.backends.base import StateBackend
from reconciler.backends.definitions_store import endpoint_key
from reconciler.definitions import Definitions, WorkflowDefinition, WorkflowUnavailable
from reconciler.errors import (
    AuthError,
    CodecError,
    ConfigError,
    NotFoundError,
    RemoteError,
    VersionNotSupportedError,
)
from reconciler.operations.project import Project

if TYPE_CHECKING:
    from reconciler.remote.client import WorkflowClient

log = logging.getLogger("reconciler.definitions")


def read_definitions(project: Project, workflows: Iterable[str], parallelism: int | None = None) -> Definitions:
    """The definitions of ``workflows`` read from the stack's endpoint (``source="server"``), at most
    ``parallelism`` reads at a time (default: the stack's). Settings that do not allow contacting the
    server (no endpoint, no credentials) make every workflow ``unread`` with that reason."""
    from reconciler.operations.server_reads import ServerReads

    with ServerReads(project, parallelism=parallelism) as server:
        return server.definitions(workflows)


async def read_definitions_with(client: WorkflowClient, workflows: Iterable[str], parallelism: int) -> Definitions:
    """`read_definitions` through an open client (``apply`` reads them with the client it applies with)."""
    import asyncio

    gate = asyncio.Semaphore(max(1, parallelism))
    known: dict[str, WorkflowDefinition] = {}
    unavailable: dict[str, WorkflowUnavailable] = {}
    unread: dict[str, str] = {}
    server_down: list[str] = []  # set once: why no further read is tried

    async def read_one(workflow_id: str) -> None:
        async with gate:
            if server_down:
                unread[workflow_id] = server_down[0]
                return
            try:
                known[workflow_id] = await client.presentation(workflow_id)
            except NotFoundError as exc:
                message = exc.server_message or str(exc)
                unavailable[workflow_id] = WorkflowUnavailable(workflow_id, exc.status or 0, message)
            except RemoteError as exc:
                why = _why_unread(workflow_id, exc)
                if _whole_server(exc):
                    server_down.append(why)
                unread[workflow_id] = why

    await asyncio.gather(*(read_one(w) for w in sorted(set(workflows))))
    return Definitions(known=known, unavailable=unavailable, unread=unread, source="server")


def _whole_server(exc: RemoteError) -> bool:
    """A failure that is about the server, not this workflow: no answer at all, login, API version."""
    return exc.status is None or isinstance(exc, AuthError | VersionNotSupportedError)


def _why_unread(workflow_id: str, exc: RemoteError) -> str:
    if exc.status is not None and exc.status < 300:  # an answer, but not a presentation this client reads
        cause = exc.__cause__
        what = str(cause) if isinstance(cause, CodecError | ValueError) else str(exc)
        return f"the presentation of workflow {workflow_id} is malformed: {what}"
    if _whole_server(exc):
        return f"the server could not be used: {exc}"
    return f"the server did not serve it: {exc}"


def cached_definitions(project: Project, workflows: Iterable[str] | None = None) -> Definitions:
    """The definitions kept for the stack's endpoint (``source="cache"``), each with its ``read_at``;
    only those of ``workflows`` when given. Never contacts the server; an unreadable cache is a
    warning (logged by the backend) and gives no definitions; so does a stack without an endpoint, and
    a backend that cannot be opened (a warning: ``validate`` may run where the state's DSN is not set)."""
    endpoint = endpoint_url(project)
    if endpoint is None:
        return Definitions(source="cache")
    wanted = None if workflows is None else set(workflows)
    try:
        backend = project.backend()
    except ConfigError as exc:  # e.g. `validate` without the postgres DSN: nothing kept to read
        log.warning("the kept workflow definitions cannot be read: %s", exc)
        return Definitions(source="cache")
    kept = backend.read_definitions()
    known = {
        workflow_id: definition
        for (url, workflow_id), definition in kept.items()
        if url == endpoint and (wanted is None or workflow_id in wanted)
    }
    return Definitions(known=known, source="cache")


def keep_definitions(project: Project, definitions: Definitions, backend: StateBackend | None = None) -> None:
    """Store what was read from the server (``known`` of a ``source="server"`` reading) beside the
    state, for the stack's endpoint. A cache write never fails the command (the backend warns)."""
    endpoint = endpoint_url(project)
    if endpoint is None or definitions.source != "server" or not definitions.known:
        return
    target = backend or project.backend()
    target.write_definitions(endpoint, [definitions.known[w] for w in sorted(definitions.known)])


def endpoint_url(project: Project) -> str | None:
    """The endpoint URL the cache is keyed by (``RECONCILER_ENDPOINT`` over ``spec.endpoint.url``, as
    the client resolves it); None when neither is set. Needs no credentials."""
    endpoint = project.stack.spec.endpoint
    url = project.environ.get("RECONCILER_ENDPOINT") or (endpoint.url if endpoint is not None else None)
    return endpoint_key(url) if url else None
