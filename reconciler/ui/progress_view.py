"""Apply progress: a live status line on a terminal, plain lines in CI logs, JSON lines for machines.

The engine calls the view for every event, so what it does per event must cost next to nothing (on
a 2-core runner it takes its CPU from the requests): when stdout is not a terminal a line is plain
text written as it is (no markup parsed, no rich rendering); only on a terminal are lines rendered
with colour and the live status line drawn, at most four times a second, from the counts as they
are then (nothing is built per event for it).

In a CI log a long workflow would be minutes of silence, so off a terminal a heartbeat line is written
every 30 s while runs are still going (``RECONCILER_PROGRESS_EVERY``: a duration, ``0`` for none),
with the counts and the run that has been going longest.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.live import Live
from rich.markup import escape
from rich.text import Text

from reconciler.applying.reports import ApplyEvent, ApplyReport, Outcome, RunResult
from reconciler.errors import ConfigError
from reconciler.manifest.durations import duration_seconds
from reconciler.ui.console import Ui
from reconciler.ui.plan_view import value_text

LINE_STYLE = {
    "started": "green",
    "adopted": "cyan",
    "completed": "green",
    "failed": "red",
    "not_retried": "yellow",
    "timed_out": "red",
    "skipped": "yellow",
    "deleted": "red",
    "canceled": "yellow",
    "unchanged": "dim",
    "interrupted": "yellow",
}


HEARTBEAT_ENV = "RECONCILER_PROGRESS_EVERY"
DEFAULT_HEARTBEAT = "30s"
_GOING = ("started", "adopted")  # a run's execution is going; any other event of the run ends that


def heartbeat_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """How often the heartbeat line is written off a terminal (0: never)."""
    text = environ.get(HEARTBEAT_ENV, DEFAULT_HEARTBEAT).strip()
    try:
        return float(duration_seconds(text))
    except ValueError:
        raise ConfigError(
            f"{HEARTBEAT_ENV} must be a duration such as 30s or 2m (0: no heartbeat), got {text!r}"
        ) from None


class ProgressView:
    """Prints one line per meaningful event; on a terminal also keeps a live summary line, off one a
    heartbeat line every `heartbeat_seconds` while runs are going."""

    def __init__(self, ui: Ui, total: int, heartbeat: float | None = None) -> None:
        self.ui = ui
        self.total = total
        self.counts: Counter[str] = Counter()
        self.began = time.monotonic()
        self._live: Live | None = None
        self._plain = not ui.interactive
        self._every = heartbeat_seconds() if heartbeat is None else heartbeat
        self._going: dict[str, float] = {}  # run -> when its execution was seen going
        self._lock = threading.Lock()  # the heartbeat's thread and the events share the output
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> ProgressView:
        return self

    def start(self) -> None:
        """Begin showing progress (after approval: the live line must not sit under the prompt)."""
        self.began = time.monotonic()
        if self.ui.interactive and self._live is None:
            self._live = Live(_Status(self), console=self.ui.out, refresh_per_second=4, transient=True)
            self._live.__enter__()
        if self._plain and self._every > 0 and self._beat is None:
            self._beat = threading.Thread(target=self._heartbeats, name="progress-heartbeat", daemon=True)
            self._beat.start()

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)

    def _heartbeats(self) -> None:
        while not self._stop.wait(self._every):
            with self._lock:
                if self._going:
                    self.ui.raw(self.heartbeat_line(time.monotonic()))

    def heartbeat_line(self, now: float) -> str:
        """``still going: ...`` with the counts and the longest-going run (call with ``_going`` not empty)."""
        run, since = min(self._going.items(), key=lambda item: item[1])
        c = self.counts
        return (
            f"still going: {len(self._going)} run(s) in progress, {c['completed']} done, "
            f"{c['failed'] + c['timed_out']} failed, started {c['started'] + c['adopted']}/{self.total} "
            f"[{now - self.began:.0f}s]; longest: {run} ({_duration(now - since)})"
        )

    def __call__(self, event: ApplyEvent) -> None:
        self.counts[event.kind] += 1
        if event.kind in ("waiting", "limit_changed"):  # a workflow's limits: in the summary (they change often)
            return
        if not event.run:  # the endpoint's: unreachable / answers again (one line per outage, on stderr)
            self._endpoint_line(event)
        elif self._plain:
            with self._lock:
                if event.kind in _GOING:
                    self._going[event.run] = time.monotonic()
                else:
                    self._going.pop(event.run, None)
                self.ui.raw(_plain_line(event))
        else:
            self.ui.out.print(self._line(event))

    def _endpoint_line(self, event: ApplyEvent) -> None:
        message = event.message or event.kind
        if event.kind == "endpoint_unreachable":
            self.ui.warn(message)
        else:
            self.ui.err.print(escape(message))

    def _line(self, event: ApplyEvent) -> str:
        style = LINE_STYLE.get(event.kind, "white")
        what = event.kind.replace("_", " ")
        line = f"[{style}]{escape(event.run)}: {what}[/]"
        if event.execution:
            line += f" [dim]({escape(event.execution)})[/]"
        if event.message and event.kind not in ("completed", "started"):
            line += f" - {escape(event.message)}"
        if event.outputs:
            shown = ", ".join(f"{k}={value_text(v)}" for k, v in event.outputs.items())
            line += f" [dim]{escape(shown)}[/]"
        return line

    def status(self) -> Text:
        c = self.counts
        running = c["started"] + c["adopted"] - c["completed"] - c["failed"] - c["timed_out"] - c["interrupted"]
        elapsed = time.monotonic() - self.began
        return Text(
            f"started {c['started']}/{self.total}, running {max(running, 0)}, done {c['completed']}, "
            f"failed {c['failed'] + c['timed_out']}, skipped {c['skipped']}  [{elapsed:.0f}s]",
            style="bold",
        )


class _Status:
    """The live line's renderable: drawn from the view's counts whenever rich refreshes it."""

    def __init__(self, view: ProgressView) -> None:
        self._view = view

    def __rich__(self) -> Text:
        return self._view.status()


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def _plain_line(event: ApplyEvent) -> str:
    """`ProgressView._line` as plain text: what it shows, without markup."""
    line = f"{event.run}: {event.kind.replace('_', ' ')}"
    if event.execution:
        line += f" ({event.execution})"
    if event.message and event.kind not in ("completed", "started"):
        line += f" - {event.message}"
    if event.outputs:
        line += " " + ", ".join(f"{k}={value_text(v)}" for k, v in event.outputs.items())
    return line


class JsonLines:
    """``apply --json``: one JSON object per line, flushed at once."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    def __call__(self, event: ApplyEvent) -> None:
        doc: dict[str, Any] = {"type": f"run_{event.kind}", "run": event.run} if event.run else {"type": event.kind}
        for key in ("workflow", "execution", "message", "outputs", "limit"):
            value = getattr(event, key)
            if value is not None:
                doc[key] = value
        self.ui.raw(json.dumps(doc))

    def summary(self, report: ApplyReport | None, plan_summary: dict[str, int]) -> None:
        doc: dict[str, Any] = {"type": "summary", "plan": plan_summary}
        if report is not None:
            doc.update(
                ok=report.ok,
                interrupted=report.interrupted,
                elapsed=round(report.elapsed, 3),
                results={o.value: report.count(o) for o in Outcome},
                problems=[_result_document(r) for r in report.problems()],
                warnings=[_result_document(r) for r in report.warnings()],
            )
            if report.limits:  # workflows the server pushed back on: their requests in flight
                doc["limits"] = {
                    workflow: {"lowest": s.lowest, "current": s.current, "max": s.maximum}
                    for workflow, s in report.limits.items()
                }
        self.ui.raw(json.dumps(doc))


def _result_document(result: RunResult) -> dict[str, str]:
    return {"run": result.run, "outcome": result.outcome.value, "message": result.message}


def summary_lines(report: ApplyReport) -> list[str]:
    parts = [f"{report.count(o)} {o.value}" for o in Outcome if report.count(o)]
    head = "[bold green]Apply complete![/]" if report.ok else "[bold red]Apply finished with problems.[/]"
    lines = [f"{head} {', '.join(parts)} in {report.elapsed:.1f}s."]
    for workflow, s in report.limits.items():
        lines.append(
            f"  workflow {escape(workflow)}: the server pushed back (429/503); requests at once went down to "
            f"{s.lowest} and are at {s.current} of {s.maximum}"
        )
    for r in report.problems():
        lines.append(f"  [red]{escape(r.run)}[/]: {escape(r.outcome.value)} - {escape(r.message)}")
    for r in report.warnings():
        lines.append(f"  [yellow]{escape(r.run)}[/]: {escape(r.outcome.value)} (a warning) - {escape(r.message)}")
    return lines
