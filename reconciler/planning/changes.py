"""What a plan is made of: actions, per-parameter changes, one change per run, the plan itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.desired.runs import DesiredInput
from reconciler.frozen import positional_constructor


class Action(StrEnum):
    START = "start"
    RERUN = "rerun"
    RETRY = "retry"
    AWAIT = "await"
    DELETE = "delete"
    NOOP = "noop"
    FAILED = "failed"

    # Both are asked of every change of a plan (10,000 in a large stack). Members are singletons, so
    # identity with the module-level aliases below says the same as ``in (...)`` without looking the
    # members up on the class (an enum class attribute costs ~75 ns in Python 3.11).

    @property
    def is_change(self) -> bool:
        """Whether this action counts as a change (``--detailed-exitcode`` 2)."""
        return self is not _NOOP and self is not _FAILED

    @property
    def starts(self) -> bool:
        return self is _START or self is _RERUN or self is _RETRY


_START, _RERUN, _RETRY, _NOOP, _FAILED = Action.START, Action.RERUN, Action.RETRY, Action.NOOP, Action.FAILED


@dataclass(frozen=True, slots=True)
class PlannedInput:
    """An input as apply will send it. ``value`` may be UNKNOWN; secrets are held in memory only."""

    type: str
    value: Any
    sensitive: bool = False
    source: str | None = None

    def __repr__(self) -> str:
        # A Change shows up in logs, tracebacks and assertion messages: never with a secret in clear.
        value = "'(sensitive)'" if self.sensitive else repr(self.value)
        return f"PlannedInput(type={self.type!r}, value={value}, sensitive={self.sensitive}, source={self.source!r})"


class PlannedInputs(Mapping[str, PlannedInput]):
    """A run's planned inputs, each `PlannedInput` built when it is read.

    Why: a plan of 10,000 runs holds ~40,000 inputs, and building each PlannedInput (a frozen
    dataclass) was a fifth of `make_plan`, although a noop change's inputs are never read by the
    text plan. This mapping keeps what they are made of instead: the run's desired inputs (a scalar
    template is its own value and keeps its desired type, the rule of `planner.planned_inputs`) and,
    for the others, the (type, value) they resolved to. Reading it gives exactly the PlannedInputs,
    in the same order, that the eager rule builds (tests check it); it compares equal to that dict
    and has its repr. Desired runs are frozen and never changed once loaded, so reading later gives
    what reading at plan time would have.
    """

    __slots__ = ("_desired", "_resolved")

    def __init__(self, desired: Mapping[str, DesiredInput], resolved: Mapping[str, tuple[str, Any]] | None) -> None:
        self._desired = desired
        self._resolved = resolved  # name -> (type, value) of the non-scalar inputs; None when there is none

    def __getitem__(self, name: str) -> PlannedInput:
        i = self._desired[name]
        resolved = self._resolved
        if resolved is not None and name in resolved:
            type_name, value = resolved[name]
            return PlannedInput(type_name, value, i.sensitive, i.source)
        return PlannedInput(i.type, i.value, i.sensitive, i.source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._desired)

    def __len__(self) -> int:
        return len(self._desired)

    def __contains__(self, name: object) -> bool:
        return name in self._desired

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def shown(self, show: Callable[[Any, bool], Any]) -> dict[str, Any]:
        """``{name: show(value, sensitive)}`` in order, without building the PlannedInputs: what
        ``plan --json`` and saved plans read of every change's inputs."""
        desired = self._desired
        shown = {name: show(i.value, i.sensitive) for name, i in desired.items()}
        if self._resolved is not None:  # a template's own value is replaced; the order is kept
            for name, (_, value) in self._resolved.items():
                shown[name] = show(value, desired[name].sensitive)
        return shown


@dataclass(frozen=True)
class ParamChange:
    """One line of a rerun's diff. ``before``/``after`` are display values (secrets redacted)."""

    name: str
    kind: str  # "added" | "removed" | "changed"
    before: Any = None
    after: Any = None
    details: tuple[str, ...] = ()  # nested paths that changed, for lists and mappings


@dataclass(frozen=True, slots=True)
class Change:
    run: str
    action: Action
    reason: str
    workflow: str
    inputs: Mapping[str, PlannedInput] = field(default_factory=dict)
    key: str | None = None  # None: known after apply (or a delete)
    depends_on: tuple[str, ...] = ()
    diff: tuple[ParamChange, ...] = ()
    execution_id: str | None = None  # the recorded execution, for await / delete / failed
    execution_state: str | None = None


# The planner builds one change per run: 10,000 in a large plan (`reconciler.frozen`).
new_change = positional_constructor(Change)


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    lineage: str
    serial: int
    salt: str
    state_exists: bool
    manifests_digest: str
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(c.action.is_change for c in self.changes)

    def summary(self) -> dict[str, int]:
        # list.count compares members by identity first, in C: hashing an enum member (to count
        # with a Counter) calls Enum.__hash__ in Python, once per change of a 10,000-run plan.
        actions = [c.action for c in self.changes]
        return {a.value: actions.count(a) for a in Action}

    def by_run(self) -> Mapping[str, Change]:
        return {c.run: c for c in self.changes}
