"""Workflow definitions: what a workflow declares it takes and gives, as read from its presentation.

VCD publishes each workflow's parameters at ``GET /cloudapi/workflows/{workflowId}/presentation``
(SPEC 5). The planner checks every run against these definitions before anything starts (unknown
parameters, wrong types, missing mandatory inputs, references to undeclared outputs, unknown
workflows); the definitions last read are kept so that offline commands can check too.

This module is the shared vocabulary: ``reconciler.remote`` reads definitions off the wire, the
backends keep them, ``reconciler.planning`` checks runs against them. It does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ParameterDefinition:
    """One declared parameter of a workflow (an input or an output)."""

    name: str
    type: str  # a vRO type string: string, number, Array/string, VC:VirtualMachine, ...
    direction: str  # "input" or "output"
    description: str | None = None
    mandatory: bool | None = None  # None: the server did not say
    default: Any = None  # a plain value (see reconciler.parameters), or None


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A workflow's declared inputs and outputs, and when and where they were read."""

    workflow_id: str
    name: str | None
    inputs: tuple[ParameterDefinition, ...]
    outputs: tuple[ParameterDefinition, ...]
    read_at: datetime | None = None  # when this definition was read from the server
    description: str | None = None

    def input(self, name: str) -> ParameterDefinition | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> ParameterDefinition | None:
        return next((p for p in self.outputs if p.name == name), None)

    def signature(self) -> tuple[tuple[str, str, str, bool | None], ...]:
        """What a check depends on (names, types, mandatory), for comparing two readings."""
        return tuple((p.direction, p.name, p.type, p.mandatory) for p in (*self.inputs, *self.outputs))


@dataclass(frozen=True, slots=True)
class WorkflowUnavailable:
    """A workflow the server says does not exist or the user cannot read (404 and 403 alike)."""

    workflow_id: str
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Definitions:
    """The definitions a command has for the workflows its manifests use.

    ``known`` holds what was read (now or earlier); ``unavailable`` the workflows the server refused;
    ``unread`` the workflows whose definitions could not be read at all (server does not serve
    presentations, unreachable, malformed answer), with why: their checks are skipped with a warning.
    ``source`` says where the definitions came from: "server" (read in this command) or "cache".
    """

    known: Mapping[str, WorkflowDefinition] = field(default_factory=dict)
    unavailable: Mapping[str, WorkflowUnavailable] = field(default_factory=dict)
    unread: Mapping[str, str] = field(default_factory=dict)
    source: str = "server"
