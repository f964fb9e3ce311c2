"""Helpers for the desired-run tests: a minimal stack, and manifests given as texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from textwrap import dedent

import pytest

from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredRun, DesiredStack
from reconciler.errors import ManifestError

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: test}
spec:
  variables:
    owner: {default: platform-team}
    cpus: {type: number, default: 2}
    zone: {}
    password: {sensitive: true}
"""


def run_doc(name: str, body: str = "", workflow: str = "wf-1") -> str:
    """One WorkflowRun document; ``body`` is extra YAML under ``spec`` (indented by the caller's dedent)."""
    extra = "".join(f"  {line}\n" for line in dedent(body).strip("\n").splitlines())
    return (
        f"apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata:\n  name: {name}\n"
        f"spec:\n  workflow: {workflow}\n{extra}"
    )


def files_of(manifests: str | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(manifests, str):
        return [("m.yaml", manifests)]
    return sorted(manifests.items())


def load(
    manifests: str | Mapping[str, str],
    *,
    stack: str = STACK,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[tuple[str, str]] = (),
    environ: Mapping[str, str] | None = None,
    files: Mapping[str, str] | None = None,
) -> DesiredStack:
    def read_file(path: str) -> str:
        if files is None or path not in files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return files[path]

    _, desired = load_stack(
        stack, "reconciler.yaml", files_of(manifests), variables or {}, var_files, environ or {}, read_file
    )
    return desired


def problems(manifests: str | Mapping[str, str], **kwargs: object) -> list[str]:
    """Every reported problem as ``file:line:col: message``."""
    with pytest.raises(ManifestError) as caught:
        load(manifests, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def one_run(manifests: str, **kwargs: object) -> DesiredRun:
    desired = load(manifests, **kwargs)  # type: ignore[arg-type]
    assert len(desired.runs) == 1
    return next(iter(desired.runs.values()))
