"""``-C DIR`` picks the stack; paths on the command line (``--var-file``, ``--out``, ``PLANFILE``)
stay relative to where the command runs, as every user expects of paths they type."""

from __future__ import annotations

from pathlib import Path

from tests.support.e2e import ECHO, Stack, run_cli, run_doc


def test_command_line_paths_are_relative_to_the_caller(stack: Stack, tmp_path: Path) -> None:
    caller = tmp_path / "caller"
    caller.mkdir()
    (caller / "values.yaml").write_text("who: from-the-var-file\n", encoding="utf-8")
    stack.write_stack(2, variables={"who": {"default": "nobody"}})
    stack.write_runs([run_doc("hello", ECHO, {"name": "${var.who}"})])
    where = str(stack.root)

    planned = run_cli(
        ["-C", where, "plan", "--var-file", "values.yaml", "--out", "saved.plan"], env=stack.env, cwd=caller
    )
    assert planned.code == 0, planned
    assert (caller / "saved.plan").exists() and not (stack.root / "saved.plan").exists()
    assert "from-the-var-file" in planned.out, planned

    shown = run_cli(["-C", where, "show", "saved.plan"], env=stack.env, cwd=caller)
    assert shown.code == 0 and "hello" in shown.out, shown
    applied = run_cli(["-C", where, "apply", "saved.plan"], env=stack.env, cwd=caller)
    assert applied.code == 0, applied
    assert stack.state()["runs"]["hello"]["outputs"]["id"]
    helped = run_cli(["plan", "--help"], cwd=caller)
    assert "stay relative to where you run the command" in " ".join(helped.out.split())
