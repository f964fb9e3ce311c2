"""Exit codes (SPEC 3.2) through the CLI as a subprocess: usage errors exit 1 (2 means "changes
present"), a declined approval exits 1, and apply's exit code counts only this apply's failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import ECHO, FAILS, Stack, run_cli, run_doc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--detailed-exitcode", "--bogus"], "No such option '--bogus'"),
        (["--bogus", "plan"], "No such option '--bogus'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["state", "mv", "only-one"], "Missing argument 'NEW'"),
        (["state", "nosuch"], "No such command 'nosuch'"),
        (["apply", "--parallelism", "0"], "Invalid value for '--parallelism'"),
        (["apply", "--lock-timeout", "soon"], "is not a duration"),
        (["emulator", "--port", "0", "--fault-kinds", "nope"], "unknown fault kind(s): nope"),
    ],
)
def test_usage_errors_exit_1_with_clicks_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(args, cwd=tmp_path, timeout=30)
    assert result.code == 1, result
    assert message in result.err, result
    assert "Usage: reconciler" in result.err, result


def test_declining_the_approval_prompt_exits_1_and_starts_nothing(stack: Stack, emulator: Any) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"})])
    code, out, err = _apply_on_a_terminal(stack, answer="no\n")
    assert code == 1, (out, err)
    assert "Apply cancelled" in out, out
    assert "Traceback" not in err, err
    assert emulator.starts() == []


def test_an_earlier_failure_is_a_warning_not_this_applys_failure(stack: Stack) -> None:
    # broken completes, tail (after it, reading nothing of it) completes; then broken fails for good
    stack.write_runs(_runs(broken="ok-1", net="net-1"))
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    stack.write_runs(_runs(broken="bad-1", net="net-1"))
    failing = stack.cli(["apply", "--auto-approve"])
    assert failing.code == 1, failing  # this apply's failure, and tail skipped behind it
    assert "quota exceeded" in failing.out

    # an apply that changes only net: broken is not retried (plan action `failed`), tail is unchanged
    stack.write_runs(_runs(broken="bad-1", net="net-2"))
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    assert "Apply complete!" in applied.out and "broken: not retried" in applied.out, applied
    assert stack.state()["runs"]["net"]["execution"]["state"] == "completed"

    stack.write_runs(_runs(broken="bad-1", net="net-3"))
    events = _json_lines(stack.cli(["apply", "--auto-approve", "--json"]), code=0)
    types = [e["type"] for e in events]
    assert "run_failed" not in types and types.count("run_not_retried") == 1, events
    summary = events[-1]
    assert summary["ok"] is True and summary["problems"] == [], summary
    assert {(w["run"], w["outcome"]) for w in summary["warnings"]} == {("broken", "not retried"), ("tail", "skipped")}


def test_a_new_run_behind_an_earlier_failure_is_a_warning_and_never_starts(stack: Stack, emulator: Any) -> None:
    stack.write_runs([run_doc("broken", FAILS, {"name": "bad-1"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 1
    stack.write_runs(
        [
            run_doc("broken", FAILS, {"name": "bad-1"}),
            run_doc("new", ECHO, {"name": "new"}, dependsOn=["broken"]),
            run_doc("net", ECHO, {"name": "net"}),
        ]
    )
    events = _json_lines(stack.cli(["apply", "--auto-approve", "--json"]), code=0)
    summary = events[-1]
    assert summary["ok"] is True and summary["problems"] == [], summary
    assert {w["run"]: w["outcome"] for w in summary["warnings"]} == {"broken": "not retried", "new": "not retried"}
    assert "blocked: depends on broken" in {w["run"]: w["message"] for w in summary["warnings"]}["new"]
    assert [s["inputs"].get("name") for s in emulator.starts()] == ["bad-1", "net"]


def _runs(broken: str, net: str) -> list[dict[str, Any]]:
    return [
        run_doc("broken", FAILS, {"name": broken}),
        run_doc("tail", ECHO, {"name": "tail"}, dependsOn=["broken"]),
        run_doc("net", ECHO, {"name": net}),
    ]


def _json_lines(result: Any, code: int) -> list[dict[str, Any]]:
    assert result.code == code, result
    return [json.loads(line) for line in result.out.splitlines()]


def _apply_on_a_terminal(stack: Stack, answer: str) -> tuple[int, str, str]:
    """``apply`` with a terminal as its standard input (so that it asks), answered with ``answer``."""
    result = stack.on_a_terminal(["apply"], answer)
    return result.code, result.out, result.err
