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
    NOT_RETRIED = "not retried"  # plan action `failed`: failed earlier (or blocked behind that), a warning
    TIMED_OUT = "timed out"
    SKIPPED = "skipped"  # a dependency did not complete
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM before it could finish

    @property
    def ok(self) -> bool:
        return self in (Outcome.COMPLETED, Outcome.UNCHANGED, Outcome.DELETED)


@dataclass(frozen=True)
class ApplyEvent:
    """One thing that happened to one run. ``kind``: started, adopted, waiting, completed, failed,
    not_retried, timed_out, skipped, deleted, canceled, unchanged, interrupted; and, with an empty
    ``run``, the endpoint's: endpoint_unreachable (an outage began), endpoint_reachable (it ended);
    and a workflow's: limit_changed (its requests in flight were cut after a 429/503, or are back to
    the full ``--parallelism``: ``limit``)."""

    kind: str
    run: str
    workflow: str | None = None
    execution: str | None = None
    message: str | None = None
    outputs: Mapping[str, Any] | None = None  # redacted
    limit: int | None = None  # limit_changed: the workflow's requests allowed in flight now


Listener = Callable[[ApplyEvent], None]


@dataclass(frozen=True)
class RunResult:
    """How one run ended. ``this_apply`` False: it did not complete, but not through a failure of
    this apply (it failed in an earlier one and is not retried, or this apply had no change to make to
    it and skipped it behind a dependency that did not complete): a warning, exit code 0 (SPEC 3.2)."""

    run: str
    outcome: Outcome
    message: str = ""
    execution: str | None = None
    this_apply: bool = True


@dataclass(frozen=True)
class LimitSummary:
    """A workflow's requests allowed in flight, for one that the server pushed back on (429/503)."""

    lowest: int
    current: int
    maximum: int


@dataclass
class ApplyReport:
    results: dict[str, RunResult] = field(default_factory=dict)
    elapsed: float = 0.0
    interrupted: bool = False
    limits: dict[str, LimitSummary] = field(default_factory=dict)  # by workflow: only those cut

    @property
    def ok(self) -> bool:
        """No run that this apply tried failed, timed out or was skipped (SPEC 3.2), nor was it interrupted."""
        return not self.interrupted and not self.problems()

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results.values() if r.outcome is outcome)

    def problems(self) -> list[RunResult]:
        """This apply's failures: they make apply exit 1."""
        return [r for r in self.results.values() if not r.outcome.ok and r.this_apply]

    def warnings(self) -> list[RunResult]:
        """Runs that did not complete through no failure of this apply (see `RunResult.this_apply`)."""
        return [r for r in self.results.values() if not r.outcome.ok and not r.this_apply]
