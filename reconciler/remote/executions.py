"""What the client hands back: small frozen records read from the API's JSON, never raw dicts.

Why a reading layer: the server's JSON varies (camelCase in VCD, kebab-case and epoch milliseconds in
older vRO, ``value`` encodings in two formats). Reading it once here means the applier works with
`Execution` / `ExecutionSummary` objects whose dates are aware datetimes and whose parameters are
decoded plain values, and no other layer ever looks at wire shapes.

Inputs of scope ``token`` (the ``_vcd_*`` parameters VCD injects: org, user, session token...) are kept
apart in ``token_inputs``: they are not the user's inputs, and they may hold a session token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.definitions import ParameterDefinition, WorkflowDefinition
from reconciler.errors import CodecError
from reconciler.parameters import ParamType
from reconciler.remote.codecs import TypedValue, decode_parameter

TERMINAL_STATES = ("completed", "failed", "canceled")
_TOKEN_PREFIXES = ("_vcd_", "_vdc_")
_EPOCH_SECONDS_LIMIT = 100_000_000_000  # numbers above this are epoch milliseconds

Parameters = Mapping[str, TypedValue]


@dataclass(frozen=True)
class ExecutionSummary:
    """One row of ``GET .../executions``."""

    id: str
    name: str | None
    state: str
    start_date: datetime | None
    end_date: datetime | None
    started_by: str | None

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class Execution:
    """One workflow execution with its decoded parameters: name -> (vRO type, plain value)."""

    id: str
    workflow_id: str
    name: str | None
    state: str
    start_date: datetime | None
    end_date: datetime | None
    started_by: str | None
    business_state: str | None = None
    current_item: str | None = None
    content_exception: str | None = None
    inputs: Parameters = field(default_factory=dict)
    outputs: Parameters = field(default_factory=dict)
    token_inputs: Parameters = field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def summary(self) -> ExecutionSummary:
        return ExecutionSummary(self.id, self.name, self.state, self.start_date, self.end_date, self.started_by)


def read_execution(workflow_id: str, body: Any) -> Execution:
    """An `Execution` from a ``WsWorkflowExecution`` document."""
    doc = _document(body, "workflow execution")
    inputs, token_inputs = _split_token_inputs(_field(doc, "inputParameters", "input-parameters") or [])
    return Execution(
        id=_id(doc),
        workflow_id=workflow_id,
        name=_text(_field(doc, "name")),
        state=read_state(_field(doc, "state")),
        start_date=parse_date(_field(doc, "startDate", "start-date", "StartDate")),
        end_date=parse_date(_field(doc, "endDate", "end-date", "EndDate")),
        started_by=_text(_field(doc, "startedBy", "started-by")),
        business_state=_text(_field(doc, "businessState", "business-state")),
        current_item=_text(_field(doc, "currentItemDisplayName", "current-item-display-name")),
        content_exception=_text(_field(doc, "contentException", "content-exception")),
        inputs=inputs,
        outputs=_parameters(_field(doc, "outputParameters", "output-parameters") or []),
        token_inputs=token_inputs,
    )


def read_summaries(body: Any) -> list[ExecutionSummary]:
    """The rows of a ``PresentationExecutionsList`` (``{total, start, executions}``)."""
    doc = _document(body, "execution list")
    rows = _field(doc, "executions")
    if rows is None:
        rows = _relation_rows(doc)
    return [read_summary(row) for row in rows or []]


def read_summary(row: Any) -> ExecutionSummary:
    doc = _document(row, "execution summary")
    return ExecutionSummary(
        id=_id(doc),
        name=_text(_field(doc, "name")),
        state=read_state(_field(doc, "state")),
        start_date=parse_date(_field(doc, "startDate", "start-date", "StartDate")),
        end_date=parse_date(_field(doc, "endDate", "end-date", "EndDate")),
        started_by=_text(_field(doc, "startedBy", "started-by")),
    )


def read_state(body: Any) -> str:
    """An execution state, bare (``"running"``, VCD) or wrapped (``{"value": "running"}``, vRO)."""
    if isinstance(body, Mapping):
        body = body.get("value")
    if not isinstance(body, str) or not body:
        raise CodecError(f"unreadable execution state {body!r}")
    return body.strip().lower().replace(" ", "-")


def read_presentation(workflow_id: str, body: Any, read_at: datetime | None = None) -> WorkflowDefinition:
    """A workflow's definition from a ``Presentation`` document (inputs, outputs, mandatory flags).

    VCD marks mandatory inputs only in the form (``steps``): a field (``id`` = the parameter's name)
    whose ``constraints`` include ``{"constraintType": "Mandatory"}`` (vRO spells it ``{"@type":
    "mandatory"}``, and wraps each step in ``{"step": ...}``; both are read). An explicit
    ``mandatory`` / ``required`` boolean on a parameter wins; an input with neither is ``None``.
    Defaults of secret types are dropped (a mask at best, never worth keeping).
    """
    doc = _document(body, "presentation")
    mandatory = _mandatory_fields(doc)
    inputs = tuple(_definition(ws, "input", mandatory) for ws in _list(doc, "inputParameters"))
    outputs = tuple(_definition(ws, "output", {}) for ws in _list(doc, "outputParameters"))
    return WorkflowDefinition(
        workflow_id=workflow_id,
        name=_text(_field(doc, "name")),
        inputs=inputs,
        outputs=outputs,
        read_at=read_at,
        description=_text(_field(doc, "description")),
    )


def parse_date(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 (``Z``, ``+00:00``, with or without millis) or epoch (ms or s)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_SECONDS_LIMIT else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_token_parameter(name: str, scope: Any) -> bool:
    return scope == "token" or name.startswith(_TOKEN_PREFIXES)


def _split_token_inputs(items: list[Any]) -> tuple[dict[str, TypedValue], dict[str, TypedValue]]:
    local: dict[str, TypedValue] = {}
    token: dict[str, TypedValue] = {}
    for ws in items:
        name = str(ws.get("name"))
        target = token if is_token_parameter(name, ws.get("scope")) else local
        target[name] = decode_parameter(ws)
    return local, token


def _parameters(items: list[Any]) -> dict[str, TypedValue]:
    return {str(ws.get("name")): decode_parameter(ws) for ws in items}


def _definition(ws: Any, direction: str, form: Mapping[str, bool]) -> ParameterDefinition:
    if not isinstance(ws, Mapping) or not isinstance(ws.get("name"), str) or not ws.get("name"):
        raise CodecError(f"unreadable presentation: {direction} parameter {ws!r} has no name")
    name = ws["name"]
    type_name = ws.get("type") or "string"
    if not isinstance(type_name, str):
        raise CodecError(f"unreadable presentation: {direction} parameter {name!r} has type {type_name!r}")
    explicit = _field(ws, "mandatory", "required")
    default = None
    if ws.get("value") is not None and not ParamType(type_name).is_sensitive:
        try:
            default = decode_parameter(ws)[1]
        except CodecError as exc:
            raise CodecError(f"unreadable presentation: default of {direction} parameter {name!r}: {exc}") from exc
    return ParameterDefinition(
        name=name,
        type=type_name,
        direction=direction,
        description=_text(ws.get("description")),
        mandatory=explicit if isinstance(explicit, bool) else form.get(name),
        default=default,
    )


def _mandatory_fields(doc: Mapping[str, Any]) -> dict[str, bool]:
    """Field id -> whether the form marks it mandatory, for every field of every step."""
    found: dict[str, bool] = {}
    pending = [(f"steps[{i}]", step) for i, step in enumerate(_list(doc, "steps"))]
    while pending:
        where, element = pending.pop()
        if not isinstance(element, Mapping):
            raise CodecError(f"unreadable presentation: {where} is {type(element).__name__}, not an object")
        if isinstance(element.get("step"), Mapping):  # vRO wraps each step
            element = element["step"]
        for key in ("elements", "fields"):
            children = _list(element, key, where)
            pending += [(f"{where}.{key}[{i}]", child) for i, child in enumerate(children)]
        constraints = _list(element, "constraints", where)
        if isinstance(element.get("id"), str) and (constraints or _kind(element) == "field"):
            found[element["id"]] = found.get(element["id"], False) or any(
                isinstance(c, Mapping) and _kind(c) == "mandatory" for c in constraints
            )
    return found


def _kind(element: Mapping[str, Any]) -> str:
    kind = _field(element, "elementType", "constraintType", "@type")
    return str(kind).lower() if kind is not None else ""


def _list(doc: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    items = _field(doc, key) or []
    if not isinstance(items, list):
        place = f"{where}.{key}" if where else key
        raise CodecError(f"unreadable presentation: {place} is {type(items).__name__}, not a list")
    return items


def _relation_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """vRO 7's list shape: ``relations.link[].attributes[{name, value}]``."""
    links = (_field(doc, "relations") or {}).get("link") or []
    return [{a.get("name"): a.get("value") for a in link.get("attributes") or []} for link in links]


def _document(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise CodecError(f"unreadable {what}: expected a JSON object, got {type(body).__name__}")
    return body


def _id(doc: Mapping[str, Any]) -> str:
    value = _field(doc, "id")
    if value is None or value == "":
        raise CodecError("unreadable execution: it has no id")
    return str(value)


def _field(doc: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if doc.get(key) is not None:
            return doc[key]
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
