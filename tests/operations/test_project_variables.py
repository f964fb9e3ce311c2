"""A project on disk: ``*.auto.vars.yaml`` and ``RECONCILER_VAR_<name>`` (with Terraform's precedence),
and an unset environment variable reported once, naming the runs that need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError, ManifestError
from reconciler.operations.project import Inputs, Project, open_project, read_inputs

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: vars}
spec:
  manifests: ["."]
  variables:
    owner: {default: from-default}
    zones: {type: list, default: []}
"""

RUN = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: a}
spec:
  workflow: wf
  parameters:
    owner: ${var.owner}
    zones: {type: Properties, value: {z: "${var.zones}"}}
"""


def project(tmp_path: Path, environ: dict[str, str] | None = None, **files: str) -> Project:
    (tmp_path / "reconciler.yaml").write_text(STACK, encoding="utf-8")
    (tmp_path / "run.yaml").write_text(RUN, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return open_project(str(tmp_path), environ or {})


def owner(project: Project, inputs: Inputs | None = None) -> object:
    return project.load(inputs or Inputs()).runs["a"].inputs["owner"].value


def test_precedence_default_environment_auto_files_var_file_var(tmp_path: Path) -> None:
    assert owner(project(tmp_path)) == "from-default"
    env = {"RECONCILER_VAR_owner": "from-env"}
    assert owner(project(tmp_path, env)) == "from-env"
    files = {"b.auto.vars.yaml": "owner: from-b\n", "a.auto.vars.yaml": "owner: from-a\nzones: [z1, z2]\n"}
    with_auto = project(tmp_path, env, **files)
    assert owner(with_auto) == "from-b"  # lexical order: b is read after a
    assert with_auto.load(Inputs()).runs["a"].inputs["zones"].value == {"z": ["z1", "z2"]}
    (tmp_path / "prod.yaml.vars").write_text("owner: from-var-file\n", encoding="utf-8")
    var_file = str(tmp_path / "prod.yaml.vars")
    assert owner(with_auto, read_inputs([], [var_file])) == "from-var-file"
    assert owner(with_auto, read_inputs(["owner=from-var"], [var_file])) == "from-var"


def test_an_auto_var_file_is_not_read_as_a_manifest_and_is_located_in_errors(tmp_path: Path) -> None:
    broken = project(tmp_path, None, **{"x.auto.vars.yaml": "zones: not-a-list\nnope: 1\n"})
    with pytest.raises(ManifestError) as caught:
        broken.load(Inputs())
    assert [str(p).split(": ", 1)[0] for p in caught.value.problems] == ["x.auto.vars.yaml:1:8", "x.auto.vars.yaml:2:1"]
    (tmp_path / "x.auto.vars.yaml").write_text("owner: fine\n", encoding="utf-8")
    assert owner(broken) == "fine"


def test_an_unset_environment_variable_is_reported_once_naming_its_users(tmp_path: Path) -> None:
    runs = "".join(
        f"---\napiVersion: reconciler/v1\nkind: WorkflowRun\nmetadata: {{name: {name}}}\nspec:\n  workflow: wf\n"
        f"  parameters:\n    pw: {{type: SecureString, valueFrom: {{env: SHARED_PW}}}}\n"
        f"    other: {{type: SecureString, valueFrom: {{env: OTHER_PW}}}}\n"
        for name in ("x", "y", "z")
    )
    with_runs = project(tmp_path, None, **{"more.yaml": runs})
    with pytest.raises(ManifestError) as caught:
        with_runs.load(Inputs())
    messages = [p.message for p in caught.value.problems]
    assert messages == [
        "environment variable 'SHARED_PW' is not set (needed by x.pw, y.pw, z.pw)",
        "environment variable 'OTHER_PW' is not set (needed by x.other, y.other, z.other)",
    ]
    assert str(caught.value.problems[0].location) == "more.yaml:8:47"
    # with another problem in the stack, the users are named by where they are written
    (tmp_path / "bad.yaml").write_text(RUN.replace("name: a", "name: b").replace("owner}", "nope}"), encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        with_runs.load(Inputs())
    unset = [p.message for p in caught.value.problems if "SHARED_PW" in p.message]
    assert unset == [
        "environment variable 'SHARED_PW' is not set (needed by parameter pw at more.yaml:8:47, "
        "parameter pw at more.yaml:17:47, parameter pw at more.yaml:26:47)"
    ]


def test_an_auto_var_file_elsewhere_is_an_error_not_ignored(tmp_path: Path) -> None:
    misplaced = project(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "prod.auto.vars.yaml").write_text("owner: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sub/prod.auto.vars.yaml: \*.auto.vars.yaml files are read only beside"):
        misplaced.load(Inputs())
