"""What apply tells its listeners (progress view, ``--json`` lines) and its caller (the summary)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    COMPLETED = "completed"  # executed (or adopted / awaited) and recorded with its outputs
    UNCHANGED = "unchanged"  # nothing to do, or inputs turned out unchanged once known
    DELETED = "deleted"
    FAILED = "failed"  # the execution failed / was canceled, or the API refused
    TIMED_OUT = "timed out"
    SKIPPED = "skipped"  # a dependency did not complete
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM before it could finish

    @property
    def ok(self) -> bool:
        return self in (Outcome.COMPLETED, Outcome.UNCHANGED, Outcome.DELETED)


@dataclass(frozen=True)
class ApplyEvent:
    """One thing that happened to one run. ``kind``: started, adopted, waiting, completed, failed,
    timed_out, skipped, deleted, canceled, unchanged, interrupted."""

    kind: str
    run: str
    workflow: str | None = None
    execution: str | None = None
    message: str | None = None
    outputs: Mapping[str, Any] | None = None  # redacted


Listener = Callable[[ApplyEvent], None]


@dataclass(frozen=True)
class RunResult:
    run: str
    outcome: Outcome
    message: str = ""
    execution: str | None = None


@dataclass
class ApplyReport:
    results: dict[str, RunResult] = field(default_factory=dict)
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.outcome.ok for r in self.results.values())

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results.values() if r.outcome is outcome)

    def problems(self) -> list[RunResult]:
        return [r for r in self.results.values() if not r.outcome.ok]
