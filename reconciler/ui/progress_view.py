"""Apply progress: a live status line on a terminal, plain lines in CI logs, JSON lines for machines.

The engine calls the view for every event; the live line is redrawn at most a few times a second
(drawing it must not steal the CPU the requests need on a 2-core runner).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from rich.live import Live
from rich.markup import escape
from rich.text import Text

from reconciler.applying.reports import ApplyEvent, ApplyReport, Outcome, RunResult
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


class ProgressView:
    """Prints one line per meaningful event; on a terminal also keeps a live summary line."""

    def __init__(self, ui: Ui, total: int) -> None:
        self.ui = ui
        self.total = total
        self.counts: Counter[str] = Counter()
        self.began = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> ProgressView:
        return self

    def start(self) -> None:
        """Begin showing progress (after approval: the live line must not sit under the prompt)."""
        self.began = time.monotonic()
        if self.ui.interactive and self._live is None:
            self._live = Live(self._status(), console=self.ui.out, refresh_per_second=4, transient=True)
            self._live.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def __call__(self, event: ApplyEvent) -> None:
        self.counts[event.kind] += 1
        if not event.run:  # the endpoint's: unreachable / answers again (one line per outage, on stderr)
            self._endpoint_line(event)
        elif event.kind != "waiting":
            self.ui.out.print(self._line(event))
        if self._live is not None:
            self._live.update(self._status())

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

    def _status(self) -> Text:
        c = self.counts
        running = c["started"] + c["adopted"] - c["completed"] - c["failed"] - c["timed_out"] - c["interrupted"]
        elapsed = time.monotonic() - self.began
        return Text(
            f"started {c['started']}/{self.total}, running {max(running, 0)}, done {c['completed']}, "
            f"failed {c['failed'] + c['timed_out']}, skipped {c['skipped']}  [{elapsed:.0f}s]",
            style="bold",
        )


class JsonLines:
    """``apply --json``: one JSON object per line, flushed at once."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    def __call__(self, event: ApplyEvent) -> None:
        doc: dict[str, Any] = {"type": f"run_{event.kind}", "run": event.run} if event.run else {"type": event.kind}
        for key in ("workflow", "execution", "message", "outputs"):
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
        self.ui.raw(json.dumps(doc))


def _result_document(result: RunResult) -> dict[str, str]:
    return {"run": result.run, "outcome": result.outcome.value, "message": result.message}


def summary_lines(report: ApplyReport) -> list[str]:
    parts = [f"{report.count(o)} {o.value}" for o in Outcome if report.count(o)]
    head = "[bold green]Apply complete![/]" if report.ok else "[bold red]Apply finished with problems.[/]"
    lines = [f"{head} {', '.join(parts)} in {report.elapsed:.1f}s."]
    for r in report.problems():
        lines.append(f"  [red]{escape(r.run)}[/]: {escape(r.outcome.value)} - {escape(r.message)}")
    for r in report.warnings():
        lines.append(f"  [yellow]{escape(r.run)}[/]: {escape(r.outcome.value)} (a warning) - {escape(r.message)}")
    return lines
