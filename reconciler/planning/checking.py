"""Checking desired runs against their workflows' definitions, before anything starts (SPEC 3.2).

`check_runs` reports every problem at once, each placed where it is written: unknown parameter names
(with a did-you-mean), values that do not fit the declared type (`reconciler.parameters.check_value`,
the one type rule; a ``SecureString`` only from ``valueFrom`` or a sensitive variable), mandatory
inputs left out, references to outputs the upstream run's workflow does not declare, and workflows
the server says are not available. A reference carries the type its output is declared with: a
``number`` output fed into a ``string`` input is a type error.

A shorthand value is checked against the declared type, never silently kept as the type read off it
(``cpuCount: "4"`` against ``number`` is an error). The type a shorthand is sent with (and enters the
run key with) is not changed here: run keys stored in users' states keep their value; a shorthand
whose own type differs from the declared one, while its value would fit, is an error that names the
explicit form to write.

Runs whose workflow could not be read are not checked; each such workflow gives one warning saying
which checks were skipped and why. `definition_changes` compares two readings of the definitions,
for the plan to show what changed on the server. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.definitions import Definitions, ParameterDefinition, WorkflowDefinition
from reconciler.desired.runs import DesiredInput, DesiredRun, DesiredStack, Interpolation, OutputRef
from reconciler.errors import Problem, SourceLocation, closest
from reconciler.parameters import SENSITIVE_MARK, ParamType, check_value, is_sensitive_type

# The types a text built around references (``"vm-${runs.a.outputs.id}"``) may be sent as.
_TEXT_TYPES = ("string", "date", "securestring")
_NAMES_SHOWN = 10  # runs named in one message before "and N more"


@dataclass(frozen=True)
class CheckReport:
    """What `check_runs` found: errors (located), and warnings about checks that were skipped."""

    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    checked: tuple[str, ...] = ()  # the workflows whose runs were checked
    skipped: tuple[str, ...] = ()  # the workflows whose runs were not (unread, or no definition)


def check_runs(desired: DesiredStack, definitions: Definitions) -> CheckReport:
    """Every problem of every run of ``desired`` against ``definitions``, and what was not checked."""
    problems: list[Problem] = []
    warnings: list[str] = []
    checked: list[str] = []
    no_definition: list[str] = []
    lookup = _Lookup(desired, definitions)
    for workflow, runs in _runs_by_workflow(desired).items():
        if workflow in definitions.unavailable:
            problems.append(_unavailable(workflow, runs, definitions))
        elif workflow in definitions.unread:
            warnings.append(_unread_warning(workflow, runs, definitions.unread[workflow]))
        elif workflow not in definitions.known:
            no_definition.append(workflow)
        else:
            checked.append(workflow)
            declared = lookup.declared(workflow)
            assert declared is not None
            for run in runs:
                problems += _run_problems(run, declared, lookup)
    if no_definition:
        warnings.append(_no_definition_warning(no_definition, definitions.source))
    skipped = [w for w in _runs_by_workflow(desired) if w in definitions.unread or w in no_definition]
    return CheckReport(tuple(problems), tuple(warnings), tuple(checked), tuple(skipped))


def unchecked_problems(desired: DesiredStack, definitions: Definitions) -> list[Problem]:
    """``--require-definitions``: one error per workflow whose runs could not be checked, at its first run."""
    problems = []
    for workflow, runs in _runs_by_workflow(desired).items():
        if workflow in definitions.unavailable or workflow in definitions.known:
            continue
        why = definitions.unread.get(workflow)
        if why is None:
            why = "it is not in the cache" if definitions.source == "cache" else "it was not read"
        message = (
            f"the definition of workflow {workflow!r} (used by {_named([r.name for r in runs])}) could not be "
            f"read: {why}; --require-definitions makes this an error"
        )
        problems.append(Problem(_run_location(runs[0]), message))
    return problems


def _runs_by_workflow(desired: DesiredStack) -> dict[str, list[DesiredRun]]:
    by_workflow: dict[str, list[DesiredRun]] = {}
    for name in desired.order:
        run = desired.runs[name]
        by_workflow.setdefault(run.workflow, []).append(run)
    return by_workflow


def _named(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _unavailable(workflow: str, runs: Sequence[DesiredRun], definitions: Definitions) -> Problem:
    refused = definitions.unavailable[workflow]
    used_by = _named([r.name for r in runs])
    message = (
        f"workflow {workflow!r} does not exist or is not available to you "
        f"(HTTP {refused.status}: {refused.message}); used by {used_by}"
    )
    return Problem(_run_location(runs[0]), message)


def _unread_warning(workflow: str, runs: Sequence[DesiredRun], why: str) -> str:
    return (
        f"the definition of workflow {workflow!r} could not be read ({why}): the parameters of "
        f"{_named([r.name for r in runs])} (names, types, mandatory inputs) and the references to "
        f"their outputs were not checked"
    )


def _no_definition_warning(workflows: Sequence[str], source: str) -> str:
    where = "in the cache" if source == "cache" else "for"
    return (
        f"no workflow definition {where} {', '.join(repr(w) for w in workflows)}: their runs were not "
        "checked (apply and refresh keep the definitions they read)"
    )


def _run_location(run: DesiredRun) -> SourceLocation:
    return run.location or SourceLocation("manifests")


def _label(definition: WorkflowDefinition) -> str:
    return f"workflow {definition.name!r}" if definition.name else f"workflow {definition.workflow_id!r}"


@dataclass(frozen=True, slots=True)
class _Declared:
    """A workflow's definition with its parameters by name (looked up once per parameter of every run)."""

    definition: WorkflowDefinition
    inputs: Mapping[str, ParameterDefinition]
    outputs: Mapping[str, ParameterDefinition]


@dataclass
class _Lookup:
    """The runs and the definitions, each workflow's parameters indexed by name once."""

    desired: DesiredStack
    definitions: Definitions
    _declared: dict[str, _Declared | None] = field(default_factory=dict)

    def declared(self, workflow: str) -> _Declared | None:
        if workflow not in self._declared:
            found = self.definitions.known.get(workflow)
            self._declared[workflow] = (
                None
                if found is None
                else _Declared(found, {p.name: p for p in found.inputs}, {p.name: p for p in found.outputs})
            )
        return self._declared[workflow]


def _run_problems(run: DesiredRun, declared: _Declared, lookup: _Lookup) -> list[Problem]:
    """A location is looked up (in the YAML node tree) only for a parameter that has a problem."""
    definition = declared.definition
    problems: list[Problem] = []
    for name, given in run.inputs.items():
        parameter = declared.inputs.get(name)
        refs = _references(given.value)
        if parameter is None:
            whys = [_unknown_parameter(name, definition)]
        else:
            whys = _type_problems(name, given, parameter, definition, bool(refs))
        if whys:
            location = given.location or _run_location(run)
            problems += [Problem(location, why) for why in whys]
        if refs:
            problems += _reference_problems(given, refs, lookup, parameter)
    problems += _missing_mandatory(run, definition)
    return problems


def _unknown_parameter(name: str, definition: WorkflowDefinition) -> str:
    names = [p.name for p in definition.inputs]
    text = f"unknown parameter {name!r}: {_label(definition)} has no such input"
    close = closest(name, names)
    return text + (f"; did you mean {close!r}?" if close else f" (its inputs: {', '.join(names) or 'none'})")


def _missing_mandatory(run: DesiredRun, definition: WorkflowDefinition) -> list[Problem]:
    missing = [p for p in definition.inputs if p.mandatory is True and p.default is None and p.name not in run.inputs]
    return [
        Problem(
            _run_location(run),
            f"run {run.name!r}: mandatory input {p.name!r} ({p.type}) of {_label(definition)} is not given",
        )
        for p in missing
    ]


def _same_type(a: str, b: str) -> bool:
    return a == b or a.lower() == b.lower()  # as the server compares them


def _type_problems(
    name: str, given: DesiredInput, declared: ParameterDefinition, definition: WorkflowDefinition, has_refs: bool
) -> list[str]:
    """Why ``given`` does not fit ``declared`` (references are checked by `_reference_problems`)."""
    wanted = declared.type
    if is_sensitive_type(wanted) and not given.sensitive:
        why = ": give it with valueFrom: {env: NAME} or {file: PATH} (or a sensitive variable)"
    elif not given.type_inferred:
        why = "" if _same_type(given.type, wanted) else f", not {given.type}"
    elif isinstance(given.value, OutputRef):
        why = ""  # a whole reference is sent with its output's type: `_reference_problems` checks it
    elif not has_refs and (wrong := check_value(wanted, given.value)):
        why = f": {_SECRET_MISFIT} {wanted}" if given.sensitive else f": {wrong}{_quote_hint(wanted, given.value)}"
    elif not _same_type(given.type, wanted):
        why = f"; this shorthand value is sent as {given.type}: write {{type: {wanted}, value: ...}}"
    else:
        return []
    return [f"parameter {name!r}: {_label(definition)} declares it {wanted}{why}"] if why else []


def _quote_hint(wanted: str, value: Any) -> str:
    if wanted in ("string", "Date") and isinstance(value, bool | int | float):
        return f' (quote it to write a string: "{json.dumps(value)}")'
    return ""


def _holds_reference(value: Any) -> bool:
    return bool(_references(value))


# A value that does not fit, when it is a secret: the message must not show it.
_SECRET_MISFIT = f"the value {SENSITIVE_MARK} is not a valid"
_PLAIN = (str, int, float, bool)
_NO_REFERENCES: list[OutputRef] = []


def _references(value: Any) -> list[OutputRef]:
    """Every output reference in ``value`` (an input's template), in order."""
    if isinstance(value, _PLAIN):  # most values: checked first
        return _NO_REFERENCES
    if isinstance(value, OutputRef):
        return [value]
    if isinstance(value, Interpolation):
        return [p for p in value.parts if isinstance(p, OutputRef)]
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else ()
    return [ref for item in items for ref in _references(item)]


def _reference_problems(
    given: DesiredInput, refs: Sequence[OutputRef], lookup: _Lookup, declared: ParameterDefinition | None
) -> list[Problem]:
    """References to undeclared outputs; then, when ``declared``, whether what they carry fits it."""
    problems: list[Problem] = []
    types: dict[OutputRef, str] = {}
    for ref in refs:
        output = _output_of(ref, lookup)
        if isinstance(output, str):
            problems.append(Problem(_where(given, ref), output))
        elif output is not None:
            types[ref] = output.type
    sent_as_declared = declared is not None and (given.type_inferred or _same_type(given.type, declared.type))
    if declared is not None and sent_as_declared and not problems:
        for at, why in _carried_type_problems(declared.type, given.value, types):
            where = _where(given, at) if at is not None else given.location or SourceLocation("manifests")
            shown = f"{_SECRET_MISFIT} {declared.type}" if given.sensitive and at is None else why
            problems.append(Problem(where, f"parameter {given.name!r}: {shown}"))
    return problems


def _where(given: DesiredInput, ref: OutputRef) -> SourceLocation:
    return given.location_of(str(ref)) or SourceLocation("manifests")


def _output_of(ref: OutputRef, lookup: _Lookup) -> ParameterDefinition | str | None:
    """The output ``ref`` reads, the problem when its workflow does not declare it, or None: unknown."""
    upstream = lookup.desired.runs.get(ref.run)
    declared = lookup.declared(upstream.workflow) if upstream is not None else None
    if declared is None:
        return None
    output = declared.outputs.get(ref.output)
    if output is not None:
        return output
    definition = declared.definition
    names = [p.name for p in definition.outputs]
    text = f"run {ref.run!r} has no output {ref.output!r}: {_label(definition)} declares {', '.join(names) or 'none'}"
    close = closest(ref.output, names)
    return text + (f"; did you mean {close!r}?" if close else "")


def _carried_type_problems(
    wanted: str, value: Any, types: Mapping[OutputRef, str]
) -> list[tuple[OutputRef | None, str]]:
    """Whether a value holding references fits ``wanted``: each reference by its output's declared
    type, each literal part by `check_value`. Not checked while a reference's type is unknown."""
    if not _holds_reference(value) or any(ref not in types for ref in _references(value)):
        return []
    if isinstance(value, OutputRef):
        carried = types[value]
        if _same_type(carried, wanted):
            return []
        return [(value, f"{value} is a {carried} output, and the input is declared {wanted}")]
    if isinstance(value, Interpolation):
        if wanted.lower() in _TEXT_TYPES:
            return []
        first = next(p for p in value.parts if isinstance(p, OutputRef))
        return [(first, f"a text with references inside is a string, and the input is declared {wanted}")]
    return _container_problems(wanted, value, types)


def _container_problems(wanted: str, value: Any, types: Mapping[OutputRef, str]) -> list[tuple[OutputRef | None, str]]:
    kind = ParamType(wanted)
    if isinstance(value, list) and kind.is_array:
        found: list[tuple[OutputRef | None, str]] = []
        for i, item in enumerate(value):
            if _holds_reference(item):
                found += [
                    (ref, f"item {i}: {why}") for ref, why in _carried_type_problems(kind.element.name, item, types)
                ]
            elif why := check_value(kind.element.name, item):
                found.append((None, f"item {i}: {why}"))
        return found
    if isinstance(value, dict) and wanted == "Properties":
        return []  # property values take any type
    if isinstance(value, dict) and kind.is_sdk_object and set(value) <= {"id", "href"}:
        return [(ref, f"{key}: {why}") for key, item in value.items() for ref, why in _text_problems(item, types)]
    shape = "a list" if isinstance(value, list) else "a mapping"
    return [(None, f"the input is declared {wanted}, and the value is {shape}")]


def _text_problems(value: Any, types: Mapping[OutputRef, str]) -> list[tuple[OutputRef | None, str]]:
    if not _holds_reference(value):
        why = check_value("string", value)
        return [(None, why)] if why else []
    return _carried_type_problems("string", value, types)


# ---------------------------------------------------------------------------------------------------
# What changed between two readings of the definitions


@dataclass(frozen=True)
class ParameterChange:
    """One declared parameter added, removed or changed (its type, or whether it is mandatory)."""

    direction: str  # "input" | "output"
    kind: str  # "added" | "removed" | "changed"
    name: str
    type: str  # its type now (before, for "removed")
    detail: str | None = None  # "changed": "number -> string", "optional -> mandatory"

    def text(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        return f"{mark} {self.name} ({self.detail or self.type})"


@dataclass(frozen=True)
class DefinitionChange:
    """A workflow whose definition differs from the one read before, and the runs that use it."""

    workflow_id: str
    name: str | None
    changes: tuple[ParameterChange, ...]
    runs: tuple[str, ...]

    def summaries(self) -> list[str]:
        """``["workflow inputs changed: + newParam (string), - old (number)", ...]``"""
        lines = []
        for direction in ("input", "output"):
            texts = [c.text() for c in self.changes if c.direction == direction]
            if texts:
                lines.append(f"workflow {direction}s changed: {', '.join(texts)}")
        return lines

    def document(self) -> dict[str, Any]:
        """For ``plan --json`` (``definition_changes[]``)."""
        return {
            "workflow": self.workflow_id,
            "name": self.name,
            "runs": list(self.runs),
            "changes": [
                {"direction": c.direction, "change": c.kind, "parameter": c.name, "type": c.type, "detail": c.detail}
                for c in self.changes
            ],
        }


def definition_changes(
    before: Mapping[str, WorkflowDefinition], after: Mapping[str, WorkflowDefinition], desired: DesiredStack
) -> tuple[DefinitionChange, ...]:
    """The workflows used by ``desired`` whose definition in ``after`` differs from ``before``."""
    found: list[DefinitionChange] = []
    for workflow, runs in sorted(_runs_by_workflow(desired).items()):
        old, new = before.get(workflow), after.get(workflow)
        if old is None or new is None or old.signature() == new.signature():
            continue
        changes = (
            *_parameter_changes("input", old.inputs, new.inputs),
            *_parameter_changes("output", old.outputs, new.outputs),
        )
        if changes:
            found.append(DefinitionChange(workflow, new.name, tuple(changes), tuple(r.name for r in runs)))
    return tuple(found)


def _parameter_changes(
    direction: str, old: Sequence[ParameterDefinition], new: Sequence[ParameterDefinition]
) -> list[ParameterChange]:
    was = {p.name: p for p in old}
    now = {p.name: p for p in new}
    changes = [ParameterChange(direction, "added", p.name, p.type) for p in new if p.name not in was]
    changes += [ParameterChange(direction, "removed", p.name, p.type) for p in old if p.name not in now]
    for p in new:
        q = was.get(p.name)
        if q is None:
            continue
        if not _same_type(p.type, q.type):
            changes.append(ParameterChange(direction, "changed", p.name, p.type, f"{q.type} -> {p.type}"))
        elif p.mandatory != q.mandatory:
            detail = f"{_mandatory(q)} -> {_mandatory(p)}"
            changes.append(ParameterChange(direction, "changed", p.name, p.type, detail))
    return changes


def _mandatory(p: ParameterDefinition) -> str:
    return {True: "mandatory", False: "optional", None: "not said"}[p.mandatory]
