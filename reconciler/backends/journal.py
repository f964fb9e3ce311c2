"""The local journal's format: append-only JSON lines of what happened since the state file was written.

The first line names the state it continues, then one line per event, grouped by ``append()`` call::

    {"journal": 1, "lineage": "<the state's lineage>", "baseSerial": 7, "stateSha256": "<sha256 of the file>"}
    {"serial": 8, "part": 1, "of": 2, "event": {"op": "put", "run": "db", "record": {...}}}
    {"serial": 8, "part": 2, "of": 2, "event": {"op": "remove", "run": "old"}}

``serial`` is the state's serial once the group is applied. A group is written with one ``write``
and one ``fsync``; a group cut short by a crash (torn last line, missing parts) is ignored (and cut
off by the next append); a bad line before the end is a `StateError` naming the file and line.
A journal is matched to the state file by meaning, not by bytes (`Replay.continues`): its
``lineage`` must be the state's and its ``baseSerial`` the state's serial. ``stateSha256`` is
written for older versions only, which match by it; their journals (no ``lineage``) are matched by
serial. A journal whose groups all end at or below the state's serial is already merged
(`Replay.merged_into`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reconciler.backends.state_file import validation_summary
from reconciler.errors import StateError

if TYPE_CHECKING:
    from reconciler.state.events import PutRun, RemoveRun

JOURNAL_FORMAT = 1
_BLANK = b"\x00 \t\r\n"  # what a crash may leave at the end of a file


def header_line(lineage: str, base_serial: int, state_sha: str) -> bytes:
    doc = {"journal": JOURNAL_FORMAT, "lineage": lineage, "baseSerial": base_serial, "stateSha256": state_sha}
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


def group_lines(events: Sequence[PutRun | RemoveRun], serial: int) -> bytes:
    """One append's lines: every event with the serial the group produces and its place in it.

    A record goes to JSON in one call of pydantic's serialiser (no dict of it built and encoded
    again: ~8 us instead of ~50 us a record); the frame around it is written here, the same bytes as
    ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` of the event's JSON-mode dump."""
    from reconciler.state.events import PutRun

    record_json = _record_serializer()
    count = len(events)
    lines = []
    for part, event in enumerate(events, start=1):
        run = _text(event.run)
        if isinstance(event, PutRun):
            body = b'{"op":"put","run":' + run + b',"record":' + record_json(event.record, by_alias=True) + b"}"
        else:
            body = b'{"op":"remove","run":' + run + b"}"
        lines.append(b'{"serial":%d,"part":%d,"of":%d,"event":%s}\n' % (serial, part, count, body))
    return b"".join(lines)


def _text(value: str) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@functools.cache
def _record_serializer() -> Callable[..., bytes]:
    """pydantic's JSON serialiser of a run record (built on first use: ``plan`` never writes events)."""
    from pydantic import TypeAdapter

    from reconciler.state.models import RunRecord

    return TypeAdapter(RunRecord).dump_json


@dataclass
class _Line:
    number: int
    end: int  # offset just after this line
    text: bytes
    complete: bool  # ended by a newline


def split_lines(data: bytes) -> list[_Line]:
    lines: list[_Line] = []
    start = 0
    while start < len(data):
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline + 1
        lines.append(_Line(len(lines) + 1, end, data[start:end], newline >= 0))
        start = end
    return lines


@dataclass
class Replay:
    """What a journal adds to the state it continues, and where its last complete group ends."""

    events: list[PutRun | RemoveRun] = field(default_factory=list)
    serial: int | None = None  # the serial after the last complete group; None: no complete group
    valid_length: int = 0  # 0: no usable journal (the next append starts a new one with a header)
    base_serial: int = 0  # the state serial it continues (header ``baseSerial``)
    lineage: str | None = None  # the header's lineage (None in journals of earlier versions)

    def continues(self, lineage: str, serial: int) -> bool:
        """Whether this journal's changes follow the state of ``lineage`` and ``serial``."""
        return self.lineage in (None, lineage) and self.base_serial == serial

    def merged_into(self, lineage: str, serial: int) -> bool:
        """Whether the state of ``lineage`` and ``serial`` already holds every change of this journal."""
        return self.serial is None or (self.lineage in (None, lineage) and self.serial <= serial)

    def describe(self) -> str:
        of = f" of lineage {self.lineage}" if self.lineage else ""
        return f"changes up to serial {self.serial} made after serial {self.base_serial}{of}"


def read_journal(data: bytes, name: str) -> Replay:
    """The journal in ``data`` (the file ``name``): its complete groups; `StateError` for a bad line."""
    return _JournalReader(data, name).read()


class _JournalReader:
    """Parses a journal's bytes; see the module docstring for the format."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        self.lines = split_lines(data)
        self.serial = 0
        self.last_meaningful = max((i for i, line in enumerate(self.lines) if line.text.strip(_BLANK)), default=-1)
        self.result = Replay()
        self.pending: list[PutRun | RemoveRun] = []

    def fail(self, line: _Line, what: str) -> StateError:
        return StateError(f"{self.name}:{line.number}: corrupt journal line ({what}); the file was left as it is")

    def parse(self, index: int) -> dict[str, Any] | None:
        """The line as a JSON object; None for a torn last line."""
        line = self.lines[index]
        try:
            doc = json.loads(line.text) if line.complete else None
        except ValueError:
            doc = None
        if doc is None:
            if index >= self.last_meaningful:
                return None
            raise self.fail(line, "not a complete JSON line")
        if not isinstance(doc, dict):
            raise self.fail(line, "not a JSON object")
        return doc

    def read(self) -> Replay:
        if not self.lines:
            return self.result
        header = self.parse(0)
        if header is None:
            return self.result  # torn header: the first append never completed
        if header.get("journal") != JOURNAL_FORMAT:
            raise self.fail(self.lines[0], f"unknown journal format {header.get('journal')!r}")
        base, lineage = header.get("baseSerial"), header.get("lineage")
        if not isinstance(base, int) or isinstance(base, bool) or not isinstance(lineage, str | None):
            raise self.fail(self.lines[0], "baseSerial must be an integer and lineage a string")
        self.serial = self.result.base_serial = base
        self.result.lineage = lineage
        self.result.valid_length = self.lines[0].end
        for index in range(1, len(self.lines)):
            doc = self.parse(index)
            if doc is None:
                break
            self.take(self.lines[index], doc)
        return self.result  # a group still pending here was cut short by a crash: ignored

    def take(self, line: _Line, doc: dict[str, Any]) -> None:
        serial, part, of = doc.get("serial"), doc.get("part"), doc.get("of")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (serial, part, of)):
            raise self.fail(line, "serial, part and of must be integers")
        assert isinstance(serial, int) and isinstance(part, int) and isinstance(of, int)
        if part != len(self.pending) + 1 or part > of:
            raise self.fail(line, f"part {part} of {of} out of order (an earlier group is incomplete?)")
        if serial <= self.serial:
            raise self.fail(line, f"serial {serial} does not follow {self.serial}")
        from reconciler.state.events import EVENT_ADAPTER  # built only when a journal has events (not for plan)

        try:
            self.pending.append(EVENT_ADAPTER.validate_python(doc.get("event")))
        except ValidationError as exc:
            raise self.fail(line, f"invalid event:\n{validation_summary(exc)}") from exc
        if part == of:
            self.result.events.extend(self.pending)
            self.pending = []
            self.serial = self.result.serial = serial
            self.result.valid_length = line.end
