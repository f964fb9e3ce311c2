"""The entry point: stack file + manifest texts + variables -> (StackConfig, DesiredStack).

Pure: the caller reads the files (``manifests:`` lists them, so `parse_stack` comes first) and hands
over their texts, the environment and a ``read_file`` for ``valueFrom: {file: ...}``. Every problem
of every file is collected and raised together as one `ManifestError`, each with file:line:column.

The result does not depend on the order of files or documents: runs are keyed by name and ordered
by dependencies then name, and the digest hashes the files sorted by path.

The inputs of a run share one parameter locator (`Scope.parameter_locator`): a location is looked
up only when an error or a caller asks for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.expansion import expand
from reconciler.desired.graph import resolve_edges, topological_order
from reconciler.desired.inputs import Sources, build_inputs
from reconciler.desired.lifecycle import lifecycle_fields, move_declaration_problems
from reconciler.desired.runs import DesiredRun, DesiredStack
from reconciler.desired.templating import RunUse, Scope, contains_failure, render
from reconciler.desired.variables import Variables, resolve_variables
from reconciler.errors import ManifestError, Problem, SourceLocation
from reconciler.manifest.documents import RunDocument, parse_stack, read_runs, read_stack
from reconciler.manifest.durations import duration_seconds
from reconciler.manifest.models import RunDefaults, StackConfig, WorkflowRun
from reconciler.manifest.parsing import Document

__all__ = ["load_stack", "manifests_digest", "parse_stack"]


def load_stack(
    stack_text: str,
    stack_path: str,
    manifest_files: Sequence[tuple[str, str]],
    variables: Mapping[str, str],
    var_files: Sequence[tuple[str, str]],
    environ: Mapping[str, str],
    read_file: Callable[[str], str],
) -> tuple[StackConfig, DesiredStack]:
    """Read and check everything; `ManifestError` with every problem found otherwise.

    ``manifest_files`` and ``var_files`` are (display path, text) pairs; ``variables`` the ``--var``
    values (text, typed by the variable's declared type); ``read_file`` reads a ``valueFrom`` file
    (its path as written in the manifest; the caller resolves it) and raises OSError when it cannot.
    """
    problems: list[Problem] = []
    stack = read_stack(stack_text, stack_path, problems)
    values = resolve_variables(stack, var_files, variables, problems)
    files = sorted((f for f in manifest_files if f[0] != stack_path), key=lambda f: f[0])
    defaults = stack[0].spec.defaults if stack is not None else RunDefaults()
    collector = _Collector(values, Sources(environ, read_file), problems, defaults)
    for run_document in read_runs(files, problems):
        collector.add(run_document)
    desired = collector.finish(manifests_digest(manifest_files))
    if problems or stack is None:
        raise ManifestError(problems)
    return stack[0], desired


def manifests_digest(manifest_files: Sequence[tuple[str, str]]) -> str:
    """sha256 over the (path, text) pairs sorted by path: any edit, rename or new file changes it."""
    digest = hashlib.sha256()
    for path, text in sorted(manifest_files):
        for chunk in (path.encode(), text.encode()):
            digest.update(len(chunk).to_bytes(8, "big"))
            digest.update(chunk)
    return digest.hexdigest()


_NAME_PATH = ("metadata", "name")


@dataclass(frozen=True, slots=True)
class _KeyLocator:
    """Where a run is declared: the key at ``path`` (its name) in ``document``; a `Locator`."""

    document: Document
    path: tuple[Any, ...]

    def __call__(self) -> SourceLocation:
        return self.document.location(self.path, key=True)


@dataclass
class _Collector:
    """Builds the desired runs one document at a time, then the graph over all of them.

    A run's ``depends_on`` is known only once every document is read (a dependency may be declared
    later): each run is kept as the keyword arguments of its `DesiredRun` until `finish` adds it.
    """

    variables: Variables
    sources: Sources
    problems: list[Problem]
    defaults: RunDefaults = field(default_factory=RunDefaults)  # the stack's spec.defaults
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    uses: dict[str, list[RunUse]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def add(self, run_document: RunDocument) -> None:
        run, document = run_document.run, run_document.document
        scope = Scope(self.variables, document, self.problems)
        if run.spec.for_each is None:  # one run, rendered in this one scope
            self._add_instance(run, document, run.metadata.name, _NAME_PATH, scope)
            return
        instances = expand(run.metadata.name, run.spec.for_each, scope)
        self.groups.setdefault(run.metadata.name, []).extend(i.name for i in instances)
        for instance in instances:
            each_scope = Scope(self.variables, document, self.problems, instance.each)
            self._add_instance(run, document, instance.name, instance.name_path, each_scope)

    def _add_instance(
        self, run: WorkflowRun, document: Document, name: str, name_path: tuple[Any, ...], scope: Scope
    ) -> None:
        """One run, ``name`` (written at ``name_path``), rendered in ``scope``."""
        locate = _KeyLocator(document, name_path)
        runs = self.runs
        if name in runs:
            first = runs[name]["locate"]()
            self.problems.append(Problem(locate(), f"duplicate run name {name!r} (first declared at {first})"))
            return
        spec = run.spec
        workflow = render(spec.workflow, scope, ("spec", "workflow"), runs_allowed=False)
        if not (isinstance(workflow, str) and workflow) and not contains_failure(workflow):
            scope.problem(("spec", "workflow"), "", "spec.workflow must be a non-empty string")
        inputs = build_inputs(spec.parameters, scope, self.sources)
        self._depends_on(spec.depends_on, scope)
        self.uses[name] = scope.uses
        on_failure = spec.on_failure or self.defaults.on_failure
        runs[name] = {
            "name": name,
            "workflow": workflow if isinstance(workflow, str) else "",
            "inputs": inputs,
            "revision": spec.revision,
            "timeout_seconds": float(duration_seconds(spec.timeout or self.defaults.timeout)),
            "on_failure": on_failure,
            "max_attempts": spec.max_attempts or self.defaults.max_attempts or (3 if on_failure == "retry" else 1),
            "labels": dict(run.metadata.labels),
            "locate": locate,
            **lifecycle_fields(spec, scope, inputs),
        }

    def _depends_on(self, depends_on: list[str], scope: Scope) -> None:
        for i, item in enumerate(depends_on):
            path = ("spec", "dependsOn", i)
            name = render(item, scope, path, runs_allowed=False)
            if isinstance(name, str):
                scope.uses.append(RunUse(name, scope.document, path, depends_on=True))

    def finish(self, digest: str) -> DesiredStack:
        edges = resolve_edges(self.uses, self.groups, self.problems)
        order = topological_order(edges, self.problems)
        runs = {name: DesiredRun(**self.runs[name], depends_on=frozenset(edges[name])) for name in order}
        self.problems.extend(move_declaration_problems(runs.values()))
        return DesiredStack(runs=runs, order=order, manifests_digest=digest, groups=self.groups)
