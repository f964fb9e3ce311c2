"""Texts -> validated documents: the stack file, and the WorkflowRun documents of the manifest files.

Every problem is collected rather than raised, so that one `reconciler validate` lists all of them.
A document whose ``apiVersion`` or ``kind`` is wrong is reported once and not validated further:
its other "errors" would only be noise from reading it as the wrong format.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ManifestError, Problem, SourceLocation
from reconciler.manifest.models import API_VERSION, StackConfig, WorkflowRun
from reconciler.manifest.parsing import Document, mark_location, parse_documents
from reconciler.manifest.validating import validate


@dataclass(frozen=True, slots=True)
class RunDocument:
    """A valid WorkflowRun together with the document it was read from (for locations)."""

    run: WorkflowRun
    document: Document


def parse_stack(stack_text: str, stack_path: str) -> StackConfig:
    """The stack file as a `StackConfig`; `ManifestError` listing every problem otherwise."""
    problems: list[Problem] = []
    found = read_stack(stack_text, stack_path, problems)
    if found is None or problems:
        raise ManifestError(problems)
    return found[0]


def read_stack(text: str, path: str, problems: list[Problem]) -> tuple[StackConfig, Document] | None:
    """The stack file's one ``kind: Stack`` document, validated; None after problems."""
    documents = parse_documents(path, text, problems)
    if not documents:
        if not problems:
            problems.append(Problem(SourceLocation(path), "the stack file is empty: expected kind: Stack"))
        return None
    for extra in documents[1:]:
        problems.append(Problem(extra.location(), "the stack file holds one document only"))
    document = documents[0]
    if not _header_ok(document, "Stack", problems):
        return None
    stack = validate(document, StackConfig, problems)
    return None if stack is None else (stack, document)


def read_runs(files: Sequence[tuple[str, str]], problems: list[Problem]) -> Iterator[RunDocument]:
    """Every valid WorkflowRun document of ``files`` ((path, text) pairs), one file parsed at a time;
    each document keeps only what locates it (its data is dropped once validated)."""
    for path, text in files:
        for document in parse_documents(path, text, problems):
            if not _header_ok(document, "WorkflowRun", problems):
                continue
            run = validate(document, WorkflowRun, problems)
            if run is not None:
                yield RunDocument(run, document.without_data())


def _header_ok(document: Document, kind: str, problems: list[Problem]) -> bool:
    data = document.data
    if not isinstance(data, dict):
        problems.append(Problem(document.location(), f"expected a {kind} document (a mapping)"))
        return False
    ok = _field_is(document, "apiVersion", API_VERSION, problems)
    return _field_is(document, "kind", kind, problems) and ok


def _field_is(document: Document, field: str, expected: str, problems: list[Problem]) -> bool:
    value: Any = document.data.get(field)
    if value == expected:
        return True
    if field not in document.data:
        problems.append(Problem(document.location(), f"missing {field} (expected {field}: {expected})"))
        return False
    message = f"unknown {field} {value!r}: expected {expected}"
    if field == "kind" and value == "Stack":
        message += " (a Stack belongs in the stack file, not among the manifests)"
    elif field == "kind" and value == "WorkflowRun":
        message += " (a WorkflowRun belongs in a manifest file, not in the stack file)"
    node = document.node_at((field,))
    problems.append(Problem(mark_location(document.file, node.start_mark), message))
    return False
