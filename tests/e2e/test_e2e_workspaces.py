"""PostgreSQL workspaces from the command line: ``--workspace`` / ``RECONCILER_WORKSPACE`` pick one
over the stack file's, ``workspace list`` shows them, ``workspace delete`` refuses one that still
records runs unless ``--force``. Each test uses its own workspace names, removed afterwards."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from tests.support.e2e import ECHO, Stack, run_doc
from tests.support.stores import PG_DSN, with_application

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def names(make_workspace: Callable[[str], str]) -> tuple[str, str]:
    return make_workspace("ws-a-"), make_workspace("ws-b-")


def _postgres(stack: Stack, workspace: str) -> None:
    path = stack.root / "reconciler.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["spec"]["backend"] = {"type": "postgres", "dsnFrom": {"env": "E2E_PG_DSN"}, "workspace": workspace}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stack.env["E2E_PG_DSN"] = with_application(PG_DSN, "e2e-workspaces")


def test_workspaces_from_the_command_line(stack: Stack, names: tuple[str, str]) -> None:
    first, second = names
    _postgres(stack, first)
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0

    stack.write_runs([run_doc("c", ECHO, {"name": "c"})])
    chosen = stack.cli(["apply", "--auto-approve", "--workspace", second])
    assert chosen.code == 0, chosen
    assert stack.cli(["state", "list", "--workspace", second]).out.split() == ["c"]
    stack.env["RECONCILER_WORKSPACE"] = second
    assert stack.cli(["state", "list"]).out.split() == ["c"]
    del stack.env["RECONCILER_WORKSPACE"]
    assert stack.cli(["state", "list"]).out.split() == ["a", "b"]  # the stack file's

    listed = stack.cli(["workspace", "list", "--json"])
    assert listed.code == 0, listed
    rows = {row["name"]: row for row in listed.json()["workspaces"]}
    assert rows[first]["runs"] == 2 and rows[first]["current"] is True
    assert rows[second]["runs"] == 1 and rows[second]["current"] is False
    text = stack.cli(["workspace", "list"]).out
    assert f"* {first}  (2 run(s)" in text and f"  {second}  (1 run(s)" in text

    refused = stack.cli(["workspace", "delete", second])
    assert refused.code == 1 and f"workspace {second!r} still records 1 run(s)" in refused.err, refused
    deleted = stack.cli(["workspace", "delete", second, "--force"])
    assert deleted.code == 0 and "1 run record(s) forgotten" in deleted.out, deleted
    assert second not in {row["name"] for row in stack.cli(["workspace", "list", "--json"]).json()["workspaces"]}
    assert stack.cli(["state", "list"]).out.split() == ["a", "b"]  # the other workspace is untouched
    missing = stack.cli(["workspace", "delete", second])
    assert missing.code == 1 and f"no workspace named {second!r}" in missing.err, missing


def test_workspace_on_a_local_stack_is_a_clear_error(stack: Stack) -> None:
    result = stack.cli(["plan", "--workspace", "other"])
    assert result.code == 1 and "--workspace needs the postgres backend" in result.err, result
    listed = stack.cli(["workspace", "list"])
    assert listed.code == 1 and "workspaces need the postgres backend" in listed.err, listed
