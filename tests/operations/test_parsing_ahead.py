"""Parsing on a second core (`ParsingAhead`) gives exactly what parsing every file here gives: the same
desired runs, the same problems at the same file:line:column, whoever parsed which file, and also
when the worker dies. The CLI, as a subprocess, prints the same with it on and off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError, Problem
from reconciler.manifest.parsing import parse_documents
from reconciler.operations import parsing_ahead
from reconciler.operations.parsing_ahead import ParsingAhead

pytestmark = pytest.mark.skipif(os.name != "posix", reason="parsing ahead hands its worker pipes (POSIX only)")

CLI = str(Path(sys.executable).with_name("reconciler"))

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: ahead}
spec:
  manifests: [manifests]
  variables:
    owner: {default: team}
"""

RUN = """\
---
apiVersion: reconciler/v1
kind: WorkflowRun
metadata:
  name: run-{i}
  labels: {{tier: web}}
spec:
  workflow: wf-{w}
  parameters:
    vmName: vm-{i}
    cpuCount: {cpus}
    owner: ${{var.owner}}
    network: {network}
  timeout: 10m
"""

# Problems of every kind the parser, the models and the desired runs report, each with a location.
BROKEN = {
    "m0003.yaml": "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {name: dup, name: dup2}\nspec: {workflow: w}\n",
    "m0007.yaml": "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {name: typo}\nspec: {workflow: w, colour: red}\n",
    "m0011.yaml": "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {name: refs}\n"
    "spec:\n  workflow: w\n  parameters:\n    x: ${runs.nowhere.outputs.id}\n    y: ${var.nope}\n",
    "m0013.yaml": "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {name: bad\n",
    "m0017.yaml": "apiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {name: tagged}\nspec: {workflow: !!binary aGk=}\n",
}


def _manifests(files: int, runs_per_file: int, *, broken: bool) -> list[tuple[str, str]]:
    found = []
    for f in range(files):
        docs = []
        for j in range(runs_per_file):
            i = f * runs_per_file + j
            network = f"${{runs.run-{i - i % 5}.outputs.id}}" if i % 5 else "{type: string, value: 10.0.0.0/24}"
            docs.append(RUN.format(i=i, w=i % 3, cpus=1 + i % 4, network=network))
        found.append((f"manifests/m{f:04d}.yaml", "".join(docs)))
    if broken:
        found += [(f"manifests/{name}", text) for name, text in BROKEN.items()]
    return sorted(found)


def _load(files: list[tuple[str, str]], ahead: ParsingAhead | None) -> DesiredStack | list[Problem]:
    documents_of = parse_documents if ahead is None else ahead.documents
    try:
        _, desired = load_stack(STACK, "reconciler.yaml", files, {}, [], {}, lambda p: "", documents_of)
    except ManifestError as err:
        return list(err.problems)
    return desired


def _locations(desired: DesiredStack) -> dict[str, object]:
    return {name: (run.location, {p: i.location for p, i in run.inputs.items()}) for name, run in desired.runs.items()}


def test_the_same_runs_and_locations_whoever_parsed_each_file() -> None:
    files = _manifests(40, 25, broken=False)
    expected = _load(files, None)
    with ParsingAhead(files, worker=True, min_bytes=0) as ahead:
        assert ahead.has_worker
        got = _load(files, ahead)
    assert isinstance(expected, DesiredStack) and isinstance(got, DesiredStack)
    assert got == expected
    assert got.order == expected.order
    assert _locations(got) == _locations(expected)  # a worker's document composes its node tree again


def test_the_same_problems_at_the_same_places() -> None:
    files = _manifests(20, 25, broken=True)
    expected = _load(files, None)
    with ParsingAhead(files, worker=True, min_bytes=0) as ahead:
        got = _load(files, ahead)
    assert isinstance(expected, list) and expected
    assert got == expected
    messages = "\n".join(str(p) for p in expected)
    for needle in ("duplicate key", "unknown field 'colour'", "nowhere", "undeclared variable", "syntax", "tag"):
        assert needle in messages


def test_a_worker_that_dies_costs_nothing_but_time() -> None:
    files = _manifests(30, 10, broken=True)
    expected = _load(files, None)
    with ParsingAhead(files, worker=True, min_bytes=0) as ahead:
        worker = ahead._worker
        assert worker is not None
        os.kill(worker.pid, signal.SIGKILL)
        got = _load(files, ahead)
    assert got == expected


def test_left_without_being_used_the_worker_is_stopped_and_reaped() -> None:
    files = _manifests(10, 10, broken=False)
    with ParsingAhead(files, worker=True, min_bytes=0) as ahead:
        worker = ahead._worker
        assert worker is not None
        pid = worker.pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind


def test_small_stacks_and_a_no_start_no_worker() -> None:
    files = _manifests(2, 2, broken=False)
    with ParsingAhead(files, worker=True) as ahead:
        assert not ahead.has_worker  # under MIN_BYTES: a worker would cost more than it saves
    assert not parsing_ahead.enabled({"RECONCILER_PARSE_AHEAD": "0"})


def test_a_file_not_among_those_given_is_parsed_here() -> None:
    files = _manifests(4, 5, broken=False)
    problems: list[Problem] = []
    with ParsingAhead(files[:2], worker=True, min_bytes=0) as ahead:
        documents = ahead.documents(*files[3], problems)
    assert [d.data for d in documents] == [d.data for d in parse_documents(*files[3], [])]


@pytest.mark.parametrize("command", [["validate"], ["plan", "--no-refresh", "--detailed-exitcode"]])
def test_the_cli_prints_the_same_with_and_without(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "reconciler.yaml").write_text(STACK)
    (tmp_path / "manifests").mkdir()
    files = _manifests(40, 30, broken=command == ["validate"])  # > MIN_BYTES: the CLI starts a worker
    assert sum(len(text) for _, text in files) > parsing_ahead.MIN_BYTES
    for path, text in files:
        (tmp_path / path).write_text(text)

    def run(switch: str) -> tuple[int, str, str]:
        env = {**os.environ, "RECONCILER_PARSE_AHEAD": switch, "NO_COLOR": "1"}
        done = subprocess.run(
            [CLI, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        return done.returncode, done.stdout, done.stderr

    on, off = run("1"), run("0")
    assert on == off
    assert "Traceback" not in on[2]
    if command == ["validate"]:
        assert on[0] == 1 and "manifests/m0013.yaml:" in on[2] and "m0011.yaml:7:8: unknown run 'nowhere'" in on[2]
    else:
        assert on[0] == 2 and "1200 to start" in on[1]


def test_a_worker_that_cannot_start_costs_nothing_but_time(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _manifests(10, 10, broken=True)
    expected = _load(files, None)
    monkeypatch.setattr(parsing_ahead, "WORKER_MODULE", "reconciler.no_such_module")
    with ParsingAhead(files, worker=True, min_bytes=0) as ahead:
        assert ahead.has_worker
        got = _load(files, ahead)
    assert got == expected
