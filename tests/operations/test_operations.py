"""The operations the commands call: `plan` (propose, save) and `apply`'s request from a saved plan."""

from __future__ import annotations

import stat
from pathlib import Path

import click
import pytest

from reconciler.cli.common import Duration
from reconciler.errors import ManifestError, UserError
from reconciler.manifest.durations import duration_seconds
from reconciler.operations.apply import saved_request
from reconciler.operations.plan import propose, save_plan
from reconciler.operations.project import Inputs, open_project, read_text_file
from reconciler.planning.planner import PlanOptions

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: t}
spec:
  manifests: [manifests]
  variables:
    owner: {type: string}
"""
RUN = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: NAME}
spec:
  workflow: wf
  parameters: {owner: "${var.owner}"}
"""


def _project(tmp_path: Path, runs: tuple[str, ...] = ("one", "two")) -> Path:
    (tmp_path / "reconciler.yaml").write_text(STACK)
    (tmp_path / "manifests").mkdir()
    for name in runs:
        (tmp_path / "manifests" / f"{name}.yaml").write_text(RUN.replace("NAME", name))
    return tmp_path


def test_a_saved_plan_becomes_the_request_that_applies_it(tmp_path: Path) -> None:
    project = open_project(str(_project(tmp_path)), {})
    var_file = ("vars.yaml", "owner: from-file\n")
    inputs = Inputs({"owner": "team"}, [var_file])
    planned = propose(project, inputs, PlanOptions(("two",), ("two",)))
    path = tmp_path / "out.plan"
    save_plan(planned.plan, inputs, str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    request = saved_request(str(path), refresh=False, parallelism=3, lock_timeout=5.0)
    assert request.saved is not None and request.saved.lineage == planned.state.lineage
    assert (request.inputs.variables, request.inputs.var_files) == ({"owner": "team"}, [var_file])
    assert (request.options.targets, request.options.replace) == (("two",), ("two",))
    assert (request.refresh, request.parallelism, request.lock_timeout) == (False, 3, 5.0)


def test_files_that_cannot_be_read_or_written_are_the_users_error(tmp_path: Path) -> None:
    project = open_project(str(_project(tmp_path)), {})
    planned = propose(project, Inputs({"owner": "x"}), PlanOptions())
    with pytest.raises(UserError, match="cannot write the plan to"):
        save_plan(planned.plan, Inputs(), str(tmp_path / "no-such-dir" / "out.plan"))
    with pytest.raises(UserError, match=r"cannot read .*missing\.plan"):
        read_text_file(str(tmp_path / "missing.plan"))


def test_a_manifest_problem_is_reported_before_a_state_problem(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "reconciler.state.json").write_text("{ not json")
    with pytest.raises(ManifestError):
        propose(open_project(str(root), {}), Inputs(), PlanOptions())  # var.owner is not set


@pytest.mark.parametrize(("text", "seconds"), [("45", 45), ("0s", 0), ("90s", 90), ("1h30m", 5400), ("1d", 86400)])
def test_duration_flags_read_the_manifests_grammar(text: str, seconds: int) -> None:
    assert Duration().convert(text, None, None) == duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["soon", "1.5m", "-3", "", "1h 30m"])
def test_a_bad_duration_flag_is_a_usage_error(text: str) -> None:
    with pytest.raises(click.BadParameter, match="is not a duration"):
        Duration().convert(text, None, None)
