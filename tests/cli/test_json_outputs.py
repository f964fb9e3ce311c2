"""Every command that prints results takes --json (SPEC 3): validate, state list/show (and, with
a server, refresh and import, covered end to end)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.backends.local import LocalBackend
from reconciler.cli.app import cli
from reconciler.operations.project import new_state
from reconciler.state.models import Execution, RunRecord

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: t}
spec:
  manifests: [manifests]
"""
RUN = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: one}
spec:
  workflow: wf
  parameters:
    name: a
    pw: {type: SecureString, valueFrom: {env: UNSET_SECRET_FOR_TEST}}
"""


def _stack(tmp_path: Path, run: str = RUN) -> Path:
    (tmp_path / "reconciler.yaml").write_text(STACK)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "one.yaml").write_text(run)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"UNSET_SECRET_FOR_TEST": None})
    return result.exit_code, result.stdout


def test_validate_json_reports_runs_and_warnings(tmp_path: Path) -> None:
    code, out = _invoke("-C", str(_stack(tmp_path)), "validate", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["valid"] is True and doc["runs"] == 1 and doc["files"] == 1
    assert doc["warnings"] == ["environment variable UNSET_SECRET_FOR_TEST is not set: plan and apply will need it"]


def test_validate_json_reports_problems_with_their_location(tmp_path: Path) -> None:
    code, out = _invoke(
        "-C", str(_stack(tmp_path, RUN.replace("workflow: wf", "workflow: wf\n  colour: red"))), "validate", "--json"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["valid"] is False
    problem = doc["problems"][0]
    assert (problem["file"], problem["line"], problem["column"]) == ("manifests/one.yaml", 6, 3)


def test_state_list_and_show_json(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    state = new_state()
    record = RunRecord(workflow="wf", key="k", execution=Execution(id="e-1", state="completed"), outputs={"x": 1})
    LocalBackend(stack / "reconciler.state.json").write(state.model_copy(update={"runs": {"one": record}}), None)

    code, out = _invoke("-C", str(stack), "state", "list", "--json")
    assert (code, json.loads(out)) == (0, ["one"])
    code, out = _invoke("-C", str(stack), "state", "show", "one", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["execution"]["id"] == "e-1" and shown["outputs"] == {"x": 1}
