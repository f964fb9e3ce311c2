"""The state: what apply recorded about each run (SPEC section 4).

This is the file format (pydantic, camelCase on disk). Secrets are never here in clear: a sensitive
input is kept as ``{"type": ..., "sensitive": true, "hash": "hmac-sha256:..."}`` keyed with ``salt``,
and a sensitive output only as its name in ``sensitiveOutputs``.

A run's outputs (``outputs``, ``outputTypes``, ``sensitiveOutputs``) are those the server returned for
its current execution once it completed; ``outputsRead`` says whether they were read. A started
execution (whose answer may already say it finished) is first recorded with ``outputsRead: false``
and read next; one adopted after a crash was read by the lookup and is recorded with its outputs. So
a run is never taken as ``completed`` without its outputs, even after a crash between two writes
(the planner awaits it: read, never started again). A workflow may have no outputs at all, so empty
``outputs`` prove nothing; a record written before the flag existed (``outputsRead`` absent or null)
counts as read when it holds any output, else it is read once more (`RunRecord.outputs_unread`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

STATE_VERSION: Literal[1] = 1
IN_PROGRESS = frozenset({"initializing", "running", "waiting", "waiting-signal", "suspended"})
TERMINAL = frozenset({"completed", "failed", "canceled"})

_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _Model:
    """The pydantic model methods the state's classes are used with, over slotted pydantic dataclasses.

    A state holds tens of thousands of records: a dataclass with slots keeps each in about a third of a
    `pydantic.BaseModel`'s memory (no ``__dict__``, no set of the fields given). Validation and
    serialisation are pydantic's, from the same field definitions (`_adapter`).
    """

    __slots__ = ()

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        found: Self = _adapter(cls).validate_python(data)
        return found

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Self:
        found: Self = _adapter(cls).validate_json(data)
        return found

    def model_dump(
        self, *, mode: Literal["python", "json"] = "python", by_alias: bool = False, exclude: set[str] | None = None
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = _adapter(type(self)).dump_python(self, mode=mode, by_alias=by_alias, exclude=exclude)
        return dumped

    def model_dump_json(self, *, by_alias: bool = False, indent: int | None = None) -> str:
        return _adapter(type(self)).dump_json(self, by_alias=by_alias, indent=indent).decode()

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A shallow copy with the fields in ``update`` replaced (not validated, as pydantic's)."""
        copied = copy.copy(self)
        for name, value in (update or {}).items():
            setattr(copied, name, value)
        return copied


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    """pydantic's validator and serialiser of one of the state's classes, built on first use."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


@dataclass(slots=True, kw_only=True, config=_CONFIG)
class Execution(_Model):
    """One execution on the server, as last seen."""

    id: str
    state: str
    start_date: str | None = None
    end_date: str | None = None
    started_by: str | None = None
    error: str | None = None  # the execution's contentException when it failed


@dataclass(slots=True, kw_only=True, config=_CONFIG)
class RecordedInput(_Model):
    """An input as recorded: the plain value, or for a secret only its keyed hash."""

    type: str
    value: Any = None
    sensitive: bool = False
    hash: str | None = None


@dataclass(slots=True, kw_only=True, config=_CONFIG)
class PendingStart(_Model):
    """The durable intent to start, written before the request leaves (SPEC 5.4)."""

    key: str
    requested_at: str  # ISO 8601 UTC, compared with the server's startDate when adopting
    user: str | None = None
    inputs: dict[str, RecordedInput] = Field(default_factory=dict)
    # the lock (id) of the apply that wrote it: a later holder that finds another holder's intent
    # waits out that holder's request timeout before concluding it never started (fencing)
    lock_id: str | None = None


@dataclass(slots=True, kw_only=True, config=_CONFIG)
class RunRecord(_Model):
    workflow: str
    key: str
    inputs: dict[str, RecordedInput] = Field(default_factory=dict)
    revision: int = 1
    execution: Execution | None = None
    history: list[Execution] = Field(default_factory=list)
    attempts: int = 0
    outputs: dict[str, Any] = Field(default_factory=dict)
    output_types: dict[str, str] = Field(default_factory=dict)
    sensitive_outputs: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    pending: PendingStart | None = None
    outputs_read: bool | None = None  # None: written before this flag (see the module doc)

    def outputs_unread(self) -> bool:
        """Whether the execution completed but the outputs the server returned for it are not recorded."""
        execution = self.execution
        if execution is None or execution.state != "completed":
            return False
        if self.outputs_read is not None:
            return not self.outputs_read
        return not (self.outputs or self.output_types or self.sensitive_outputs)

    def needs_refresh(self) -> bool:
        """Whether the server may know more than this record: in progress, or completed with outputs unread."""
        execution = self.execution
        return execution is not None and (execution.state in IN_PROGRESS or self.outputs_unread())


@dataclass(slots=True, kw_only=True, config=_CONFIG)
class State(_Model):
    version: Literal[1] = STATE_VERSION
    serial: int = 0
    lineage: str
    salt: str  # key of the secrets' HMAC; random per lineage
    stack: str | None = None  # metadata.name of the stack that made it (None: a state from before)
    runs: dict[str, RunRecord] = Field(default_factory=dict)

    def has_work_in_progress(self) -> bool:
        """Whether any recorded execution is still in progress or has its outputs still to read (only
        then has a refresh work to do)."""
        return any(r.needs_refresh() for r in self.runs.values())
