"""Desired runs: what the manifests ask for, with variables, forEach and secrets resolved.

References to other runs' outputs cannot be resolved here (they depend on the state and on what
apply produces), so an input value is a *template*: a plain value tree whose leaves may be
`OutputRef` (a whole-value reference that keeps the referenced value's type) or `Interpolation`
(a string with references inside). `planning` resolves them against recorded outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.errors import SourceLocation


@dataclass(frozen=True, slots=True)
class OutputRef:
    """``${runs.RUN.outputs.PARAM}``."""

    run: str
    output: str

    def __str__(self) -> str:
        return f"${{runs.{self.run}.outputs.{self.output}}}"


@dataclass(frozen=True, slots=True)
class Interpolation:
    """A string made of literal parts and output references, e.g. ``"vm-${runs.a.outputs.id}"``."""

    parts: tuple[str | OutputRef, ...]

    def __str__(self) -> str:
        return "".join(p if isinstance(p, str) else str(p) for p in self.parts)


# Finding a location walks the YAML node tree: done only for the few that an error message needs.
Locator = Callable[[], SourceLocation]


def at(location: SourceLocation) -> Locator:
    """A locator for a location already known."""
    return lambda: location


# Where a field of a run's spec is written, given its path under ``spec`` (``("movedFrom", 1)``).
FieldLocator = Callable[[tuple[str | int, ...]], SourceLocation]


# Where a run's parameter is written, given its name: one per run, shared by all its inputs.
class ParameterLocator(Protocol):
    """Where parameter ``name`` is written; with ``text``, where that text is within its value."""

    def __call__(self, name: str, text: str = "") -> SourceLocation: ...


@dataclass(slots=True)
class DesiredInput:
    """One input parameter: its vRO type and its value template.

    For a sensitive input ``value`` holds the secret in clear (in memory only) and ``source`` says
    where it came from (``env:NAME``, ``file:PATH`` or ``var:NAME``) so that a saved plan can name it
    without it. ``type_inferred`` marks a shorthand parameter whose type was read off its value: for
    a whole `OutputRef` that type is a guess (``string``) the resolved output's own type may replace.
    ``locate`` is the run's parameter locator, called with ``name`` only when a location is asked for.
    Not ``frozen``, though nothing changes one once built: see `PlannedInput`.
    """

    type: str
    value: Any
    sensitive: bool = False
    source: str | None = None
    locate: ParameterLocator | None = field(default=None, compare=False, repr=False)
    type_inferred: bool = False
    name: str = field(default="", compare=False, repr=False)

    @property
    def location(self) -> SourceLocation | None:
        return self.locate(self.name) if self.locate is not None else None

    def location_of(self, text: str) -> SourceLocation | None:
        """Where ``text`` (e.g. a ``${runs...}`` reference) is written in this input's value; where the
        input is written when that text is not found as it is."""
        return self.locate(self.name, text) if self.locate is not None else None


@dataclass(frozen=True, slots=True)
class DesiredRun:
    """One declared run (one entry of a forEach counts as one run)."""

    name: str
    workflow: str
    inputs: Mapping[str, DesiredInput]
    revision: int = 1
    depends_on: frozenset[str] = frozenset()  # explicit dependsOn plus every referenced run
    timeout_seconds: float | None = None
    on_failure: str = "stop"  # "stop" | "retry"
    max_attempts: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    locate: Locator | None = field(default=None, compare=False, repr=False)
    moved_from: tuple[str, ...] = ()  # spec.movedFrom: earlier names its record may be recorded under
    ignore_changes: frozenset[str] = frozenset()  # spec.ignoreChanges: parameters kept out of the run key
    locate_field: FieldLocator | None = field(default=None, compare=False, repr=False)

    @property
    def location(self) -> SourceLocation | None:
        """Where the run is declared (its name); found in the YAML node tree only when asked for."""
        return self.locate() if self.locate is not None else None

    def field_location(self, *path: str | int) -> SourceLocation | None:
        """Where ``spec.<path>`` (e.g. ``("movedFrom", 0)``) is written; where the run is declared without it."""
        return self.locate_field(path) if self.locate_field is not None else self.location


@dataclass(frozen=True)
class DesiredStack:
    """Every desired run, keyed by name, in dependency order (dependencies first, then by name)."""

    runs: Mapping[str, DesiredRun]
    order: tuple[str, ...]
    manifests_digest: str  # sha256 over the manifest files' bytes, for saved-plan staleness
    # a forEach declaration's name -> the runs it expands to (``web`` -> ``web-a``, ``web-b``), so that
    # ``--target web`` means all of them, as ``dependsOn: [web]`` does
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def expand(self, name: str) -> Sequence[str]:
        """The runs ``name`` means: the run of that name, else every run of a forEach of that name."""
        if name in self.runs:
            return (name,)
        return self.groups.get(name, ())
