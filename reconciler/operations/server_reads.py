"""`ServerReads`: the reads ``plan`` makes of the server (the workflow definitions, then the
executions in progress) through one client, so one login, whatever needs reading; ``init
--workflow`` reads a definition through it too (`read_definitions`).

The client is opened at the first read, on an event loop kept for the command (`asyncio.Runner`), and
closed with the session; a plan that reads nothing opens nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from reconciler.definitions import Definitions
from reconciler.desired.runs import DesiredStack
from reconciler.errors import ConfigError
from reconciler.operations.project import Project
from reconciler.redaction import Redactor
from reconciler.state.models import State

if TYPE_CHECKING:
    from reconciler.remote.client import WorkflowClient

T = TypeVar("T")


class ServerReads:
    """``with ServerReads(project, desired) as server:`` then `definitions` and `refreshed`. The secret
    inputs of ``desired`` are redacted from what the server says; reads go ``parallelism`` at a time
    (default: the stack's)."""

    def __init__(self, project: Project, desired: DesiredStack | None = None, parallelism: int | None = None) -> None:
        self._project = project
        self._desired = desired
        self._parallelism = parallelism or project.stack.spec.parallelism
        self._runner: asyncio.Runner | None = None
        self._client: WorkflowClient | None = None

    def __enter__(self) -> ServerReads:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._runner is not None:
            try:
                if self._client is not None:
                    self._runner.run(self._client.aclose())
            finally:
                self._runner.close()

    def definitions(self, workflows: Iterable[str]) -> Definitions:
        """The definitions of ``workflows`` read from the server (`read_definitions_with`); settings that
        do not allow contacting it make every workflow ``unread`` with that reason."""
        from reconciler.operations.definitions import read_definitions_with

        wanted = sorted(set(workflows))
        if not wanted:
            return Definitions()
        try:
            client = self._opened()
        except ConfigError as exc:
            return Definitions(unread=dict.fromkeys(wanted, f"the server cannot be contacted: {exc}"))
        return self._run(read_definitions_with(client, wanted, self._parallelism))

    def refreshed(self, state: State) -> State:
        """In-progress executions (and completed ones with outputs unread) read from the server, in
        memory only (nothing is written). Contacts the server only when there are any."""
        from reconciler.applying.refreshing import refresh_records

        if not state.has_work_in_progress():
            return state
        changed = self._run(refresh_records(self._opened(), state.runs, self._parallelism))
        return state.model_copy(update={"runs": {**state.runs, **changed}})

    def _opened(self) -> WorkflowClient:
        if self._client is None:
            from reconciler.operations.endpoint import api_settings, redactor_of
            from reconciler.remote.client import WorkflowClient

            settings = api_settings(self._project)  # ConfigError before anything is opened
            self._runner = self._runner or asyncio.Runner()
            redactor = redactor_of(self._desired) if self._desired is not None else Redactor()
            self._client = WorkflowClient(settings, max_connections=self._parallelism + 2, redactor=redactor)
        return self._client

    def _run(self, work: Coroutine[object, object, T]) -> T:
        assert self._runner is not None
        return self._runner.run(work)
