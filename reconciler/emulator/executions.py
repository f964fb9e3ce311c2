"""Executions: what a start creates, how its state follows the clock, and where they are kept.

Everything about an execution's future is decided when it starts (outputs, failure, hang, the
timeline of states), so reading it later is arithmetic on the clock: no background task per
execution, and the same inputs always give the same outputs. The store keeps executions per workflow
and per organisation, so listing one workflow's runs for one tenant never scans the others.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.emulator.catalog import User, Workflow
from reconciler.emulator.clock import iso_date
from reconciler.emulator.templates import TemplateError, parse_template

IN_PROGRESS = ("initializing", "running", "waiting", "waiting-signal", "suspended")
TERMINAL = ("completed", "failed", "canceled")


@dataclass(frozen=True)
class Snapshot:
    """The state of an execution at one moment."""

    state: str
    item: str | None = None
    ended_at: float | None = None
    content_exception: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Outcome:
    """How an execution ends: its terminal state, when (None: never), its outputs or its error."""

    state: str
    at: float | None
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


@dataclass
class Execution:
    """One started workflow run."""

    id: str
    workflow: Workflow
    user: User
    org: str
    started_at: float
    inputs: dict[str, Any]
    api_endpoint: str
    phases: list[tuple[float, str, str | None]]
    outcome: Outcome
    canceled_at: float | None = None

    @property
    def started_by(self) -> str:
        return f"{self.user.name}@{self.org}"

    @cached_property
    def start_date(self) -> str:
        """The ISO start date, formatted once: lists of thousands of executions read it often."""
        return iso_date(self.started_at)

    def snapshot(self, now: float) -> Snapshot:
        ends_at = None if self.outcome.at is None else self.started_at + self.outcome.at
        if self.canceled_at is not None and (ends_at is None or self.canceled_at < ends_at):
            return Snapshot("canceled", ended_at=self.canceled_at)
        if ends_at is not None and now >= ends_at:
            return Snapshot(self.outcome.state, ended_at=ends_at, content_exception=self.outcome.message)
        offsets = [offset for offset, _, _ in self.phases]
        index = max(bisect.bisect_right(offsets, now - self.started_at) - 1, 0)
        _, state, item = self.phases[index]
        return Snapshot(state, item=item)


def plan_execution(
    workflow: Workflow, inputs: dict[str, Any], context: dict[str, Any]
) -> tuple[list[tuple[float, str, str | None]], Outcome]:
    """The timeline and the outcome of a run of ``workflow`` with ``inputs`` (defaults applied)."""
    phases = _phases(workflow)
    total = workflow.duration + sum(w.seconds for w in workflow.wait_states)
    rule = next((r for r in workflow.fail_when if r.holds(inputs)), None)
    if rule is not None:
        message = parse_template(rule.message).render(context)
        return phases, Outcome("failed", total if rule.after is None else rule.after, message=message)
    if any(r.holds(inputs) for r in workflow.hang_when):
        return [*phases, (total, "running", workflow.running_item or workflow.name)], Outcome("running", None)
    try:
        outputs = compute_outputs(workflow, inputs, context)
    except (TemplateError, KeyError) as exc:
        return phases, Outcome("failed", total, message=f"Error computing outputs: {exc}")
    return phases, Outcome("completed", total, outputs=outputs)


def _phases(workflow: Workflow) -> list[tuple[float, str, str | None]]:
    initializing = min(workflow.initializing, workflow.duration)
    phases: list[tuple[float, str, str | None]] = []
    if initializing > 0:
        phases.append((0.0, "initializing", None))
    phases.append((initializing, "running", workflow.running_item or workflow.name))
    offset = workflow.duration
    for wait in workflow.wait_states:
        phases.append((offset, wait.state, wait.item))
        offset += wait.seconds
    return phases


def compute_outputs(workflow: Workflow, inputs: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Outputs as plain values; an output copied from an input without value is left out."""
    outputs: dict[str, Any] = {}
    for spec in workflow.outputs:
        if spec.template is not None:
            outputs[spec.name] = spec.parsed_template().render(context)
        elif spec.from_ is not None:
            if inputs.get(spec.from_) is not None:
                outputs[spec.name] = inputs[spec.from_]
        else:
            outputs[spec.name] = spec.value
    return outputs


class ExecutionStore:
    """Every execution, indexed by id, by workflow, and by workflow and organisation."""

    def __init__(self) -> None:
        self._by_id: dict[str, Execution] = {}
        self._by_workflow: dict[str, dict[str, Execution]] = {}
        self._by_workflow_org: dict[tuple[str, str], dict[str, Execution]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, execution: Execution) -> None:
        self._by_id[execution.id] = execution
        self._by_workflow.setdefault(execution.workflow.id, {})[execution.id] = execution
        key = (execution.workflow.id, execution.org.lower())
        self._by_workflow_org.setdefault(key, {})[execution.id] = execution

    def get(self, workflow_id: str, execution_id: str) -> Execution | None:
        execution = self._by_id.get(execution_id)
        return execution if execution is not None and execution.workflow.id == workflow_id else None

    def remove(self, execution: Execution) -> None:
        del self._by_id[execution.id]
        del self._by_workflow[execution.workflow.id][execution.id]
        del self._by_workflow_org[(execution.workflow.id, execution.org.lower())][execution.id]

    def of_workflow(self, workflow_id: str, org: str | None = None) -> Iterator[Execution]:
        """Executions of one workflow in start order; only those of ``org`` when given."""
        if org is None:
            return iter(list(self._by_workflow.get(workflow_id, {}).values()))
        return iter(list(self._by_workflow_org.get((workflow_id, org.lower()), {}).values()))

    def all(self) -> Iterator[Execution]:
        return iter(list(self._by_id.values()))
