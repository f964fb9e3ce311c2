"""The emulator's world: catalog, clock, sessions, executions and options, shared by every handler.

One object per app (``app.state.emulator``), so two apps in one test process never share state, and a
test can reach in (``emulator_of(app)``) to move the clock or queue a fault.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from reconciler.emulator.answers import CloudApiError, check_version
from reconciler.emulator.auth import Principal, Sessions
from reconciler.emulator.catalog import Catalog, Workflow
from reconciler.emulator.clock import Clock
from reconciler.emulator.executions import Execution, ExecutionStore
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.options import EmulatorOptions


@dataclass(frozen=True)
class StartRecord:
    """One accepted start, as the admin view lists it."""

    workflow_id: str
    execution_id: str
    received_at: float
    user: str
    inputs: dict[str, Any]


@dataclass
class Emulator:
    """Everything one emulator instance knows."""

    catalog: Catalog
    clock: Clock
    options: EmulatorOptions = field(default_factory=EmulatorOptions)
    sessions: Sessions = field(init=False)
    executions: ExecutionStore = field(default_factory=ExecutionStore)
    starts: list[StartRecord] = field(default_factory=list)
    faults: FaultPolicy = field(default_factory=FaultPolicy)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.catalog, self.clock, self.options.session_idle_timeout)
        seed = self.options.seed
        self._ids = random.Random(None if seed is None else seed + 1)
        self._workflows = {w.id: w for w in self.catalog.workflows}

    def new_execution_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def guard(self, request: Request) -> Principal:
        """Version check (406) then bearer check (401), VCD's order."""
        check_version(request, self.catalog.api_versions)
        _, principal = self.sessions.authenticate(request.headers)
        return principal

    def workflow(self, workflow_id: str) -> Workflow:
        """The workflow of a path id (bare id or service-item URN); 403/404 when unknown."""
        workflow = self._workflows.get(workflow_id.removeprefix("urn:vcloud:serviceItem:"))
        if workflow is None:
            raise self.missing(f"Workflow {workflow_id} not found or not accessible")
        return workflow

    def execution(self, principal: Principal, workflow: Workflow, execution_id: str) -> Execution:
        """An execution the caller may see; 403/404 otherwise (VCD hides what you may not read)."""
        execution = self.executions.get(workflow.id, execution_id)
        if execution is None or not visible(principal, execution):
            raise self.missing(f"Workflow execution {execution_id} not found or not accessible")
        return execution

    def missing(self, message: str) -> CloudApiError:
        if self.options.missing_status == 404:
            return CloudApiError(404, "RESOURCE_NOT_FOUND", message)
        return CloudApiError(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", message)


def visible(principal: Principal, execution: Execution) -> bool:
    """Provider users see every execution; tenant users those started in their organisation."""
    return principal.is_provider or execution.org.lower() == principal.org.lower()


def emulator_of(app_or_request: Starlette | Request) -> Emulator:
    """The Emulator behind an app (for tests) or a request (for handlers)."""
    emulator = app_or_request.app.state.emulator if isinstance(app_or_request, Request) else None
    if emulator is None:
        emulator = app_or_request.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator
