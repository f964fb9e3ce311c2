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
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import InvalidValueError
from reconciler.parameters import ParamType


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


# ------------------------------------------------------------------------------ plain JSON (the cache)


def definition_to_json(definition: WorkflowDefinition) -> dict[str, Any]:
    """A definition as plain JSON (camelCase keys), for keeping it beside the state.

    ``readAt`` is ISO 8601 UTC. Defaults of secret types are never written."""
    return {
        "workflowId": definition.workflow_id,
        "name": definition.name,
        "description": definition.description,
        "readAt": None if definition.read_at is None else definition.read_at.isoformat(),
        "inputs": [_parameter_to_json(p) for p in definition.inputs],
        "outputs": [_parameter_to_json(p) for p in definition.outputs],
    }


def definition_from_json(doc: Any) -> WorkflowDefinition:
    """The definition `definition_to_json` wrote; `InvalidValueError` saying what is wrong otherwise."""
    if not isinstance(doc, Mapping):
        raise InvalidValueError(f"a workflow definition must be a JSON object, not {type(doc).__name__}")
    workflow_id = doc.get("workflowId")
    if not isinstance(workflow_id, str) or not workflow_id:
        raise InvalidValueError("a workflow definition has no workflowId")
    where = f"definition of workflow {workflow_id}"
    return WorkflowDefinition(
        workflow_id=workflow_id,
        name=_optional_text(doc, "name", where),
        inputs=tuple(_parameter_from_json(p, "input", where) for p in _items(doc, "inputs", where)),
        outputs=tuple(_parameter_from_json(p, "output", where) for p in _items(doc, "outputs", where)),
        read_at=_moment(doc.get("readAt"), where),
        description=_optional_text(doc, "description", where),
    )


def _parameter_to_json(parameter: ParameterDefinition) -> dict[str, Any]:
    secret = ParamType(parameter.type).is_sensitive
    return {
        "name": parameter.name,
        "type": parameter.type,
        "description": parameter.description,
        "mandatory": parameter.mandatory,
        "default": None if secret else parameter.default,
    }


def _parameter_from_json(doc: Any, direction: str, where: str) -> ParameterDefinition:
    if not isinstance(doc, Mapping):
        raise InvalidValueError(f"{where}: an {direction} must be a JSON object")
    name, type_name = doc.get("name"), doc.get("type")
    if not isinstance(name, str) or not name or not isinstance(type_name, str) or not type_name:
        raise InvalidValueError(f"{where}: an {direction} has no name or no type")
    mandatory = doc.get("mandatory")
    if mandatory is not None and not isinstance(mandatory, bool):
        raise InvalidValueError(f"{where}: mandatory of {direction} {name!r} is not true, false or null")
    return ParameterDefinition(
        name=name,
        type=type_name,
        direction=direction,
        description=_optional_text(doc, "description", f"{where}, {direction} {name!r}"),
        mandatory=mandatory,
        default=doc.get("default"),
    )


def _items(doc: Mapping[str, Any], key: str, where: str) -> list[Any]:
    items = doc.get(key, [])
    if not isinstance(items, list):
        raise InvalidValueError(f"{where}: {key} must be a list")
    return items


def _optional_text(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidValueError(f"{where}: {key} must be a string")
    return value


def _moment(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidValueError(f"{where}: readAt {value!r} is not an ISO 8601 time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
