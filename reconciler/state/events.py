"""State events: the unit of durable change during apply.

Apply does not rewrite the whole state for each thing that happens; it appends events to a journal
(the backend's) and replays them on load. An event replaces or removes one run's record, so replay is
a fold and the journal costs O(size of the changed records), not O(state) per event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from reconciler.state.models import RunRecord, State


class PutRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["put"] = "put"
    run: str
    record: RunRecord


class RemoveRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["remove"] = "remove"
    run: str


Event = Annotated[PutRun | RemoveRun, Field(discriminator="op")]
EVENT_ADAPTER: TypeAdapter[PutRun | RemoveRun] = TypeAdapter(Event)


def replay(state: State, events: Iterable[PutRun | RemoveRun], serial: int | None = None) -> State:
    """The state after ``events``, in order. The input state is not modified."""
    runs = dict(state.runs)
    for event in events:
        if isinstance(event, PutRun):
            runs[event.run] = event.record
        else:
            runs.pop(event.run, None)
    return state.model_copy(update={"runs": runs, "serial": state.serial if serial is None else serial})
