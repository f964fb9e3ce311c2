"""The journal's group lines: written without a dict round trip, the same JSON as the JSON-mode dump of
each event (floats may be spelled differently, ``1e-7`` for ``1e-07``), and read back as the same events."""

from __future__ import annotations

import json

import pytest

from reconciler.backends.journal import group_lines, header_line, read_journal
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import Execution, PendingStart, RecordedInput, RunRecord


def _reference(events: list[PutRun | RemoveRun], serial: int) -> bytes:
    """The lines as the journal wrote them before: the event's JSON-mode dump, encoded by `json`."""
    lines = [
        json.dumps(
            {"serial": serial, "part": i, "of": len(events), "event": e.model_dump(mode="json", by_alias=True)},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for i, e in enumerate(events, start=1)
    ]
    return ("\n".join(lines) + "\n").encode()


FULL = RunRecord(
    workflow="wf-1",
    key="k" * 64,
    inputs={
        "name": RecordedInput(type="string", value='vm-\u00e9\u4e2d\U0001f600 "quoted" \\ \n tab\t'),
        "n": RecordedInput(type="number", value=2.5),
        "big": RecordedInput(type="number", value=10**30),
        "secret": RecordedInput(type="SecureString", sensitive=True, hash="hmac-sha256:00"),
        "list": RecordedInput(type="Array/string", value=["a", None, {"x": [1, 2.0, True]}]),
    },
    revision=3,
    execution=Execution(id="e-2", state="completed", start_date="2026-01-01T00:00:00+00:00", error=None),
    history=[Execution(id="e-1", state="failed", error="quota \u2013 exceeded")],
    attempts=2,
    outputs={"vmId": "vm-1", "f": 1e16, "tiny": 1e-7, "neg": -0.0, "nested": {"a": [None, False]}},
    output_types={"vmId": "string", "f": "number"},
    sensitive_outputs=["password"],
    depends_on=["net", "db"],
    pending=PendingStart(key="k2", requested_at="2026-01-01T00:00:00+00:00", user="a@b", lock_id="l-1"),
    outputs_read=True,
)


@pytest.mark.parametrize(
    "events",
    [
        [PutRun(run="a", record=RunRecord(workflow="wf", key="k"))],
        [PutRun(run='run \u00e9 "1"', record=FULL), RemoveRun(run="gone"), PutRun(run="b", record=FULL)],
        [RemoveRun(run="only")],
    ],
)
def test_lines_hold_the_json_of_the_json_mode_dump(events: list[PutRun | RemoveRun]) -> None:
    written, reference = group_lines(events, 8), _reference(events, 8)
    assert written.endswith(b"\n") and written.count(b"\n") == len(events)
    assert [json.loads(line) for line in written.splitlines()] == [json.loads(line) for line in reference.splitlines()]


def test_lines_without_floats_are_the_same_bytes() -> None:
    events: list[PutRun | RemoveRun] = [
        PutRun(run="a \u00e9", record=RunRecord(workflow="wf", key="k")),
        RemoveRun(run="b"),
    ]
    assert group_lines(events, 3) == _reference(events, 3)


def test_lines_read_back_as_the_events() -> None:
    events: list[PutRun | RemoveRun] = [PutRun(run="a", record=FULL), RemoveRun(run="b")]
    data = header_line("lineage-1", 7, "sha") + group_lines(events, 8)
    replay = read_journal(data, "state.journal")
    assert replay.serial == 8
    assert replay.events == events
