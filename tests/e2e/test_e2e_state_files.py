"""The local state files never silently forget (issue 8, item 4), with the CLI as a subprocess: a
reformatted state file keeps its journal, a deleted one is refused and restored from ``.backup``,
``.backup`` is the state before the apply, a kill during compaction leaves no temp file for good, and
a read-only state folder mid-apply ends with the real error (item 3). The emulator's list of starts is
the judge: every run is started exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.e2e import ECHO, LONG, Emulator, ReadOnly, Result, Stack, run_cli, run_doc, stop

pytestmark = pytest.mark.slow

TEMP = re.compile(r"\.reconciler\.state\.json(\.backup|\.lock\.info)?\.[0-9a-f]{8}\.tmp")


def _runs(count: int, first: int = 0) -> list[dict[str, object]]:
    return [run_doc(f"r-{i:02d}", ECHO, {"name": f"r-{i:02d}"}) for i in range(first, first + count)]


def _starts_per_name(emulator: Emulator) -> Counter[str]:
    return Counter(s["inputs"]["name"] for s in emulator.starts())


def _killed_at(stack: Stack, point: str) -> Result:
    """``apply`` SIGKILLed by itself at the named kill point (reconciler/killpoints.py)."""
    result = run_cli(["apply", "--auto-approve"], env={**stack.env, "RECONCILER_KILL_AT": point}, cwd=stack.root)
    assert result.code == -signal.SIGKILL, result
    return result


def _apply(stack: Stack) -> Result:
    result = stack.cli(["apply", "--auto-approve"], timeout=90)
    assert result.code == 0, result
    return result


def _sidecar(stack: Stack, suffix: str) -> Path:
    return stack.state_path.with_name(stack.state_path.name + suffix)


def test_a_reformatted_state_file_keeps_the_journal_and_nothing_starts_again(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(_runs(10))
    _killed_at(stack, "journal-appended:4")
    started = _starts_per_name(emulator)
    assert started and _sidecar(stack, ".journal").exists()
    subprocess.run(
        [sys.executable, "-m", "json.tool", str(stack.state_path), str(stack.root / "pretty.json")], check=True
    )
    os.replace(stack.root / "pretty.json", stack.state_path)  # same content, other bytes

    _apply(stack)
    assert _starts_per_name(emulator) == Counter(f"r-{i:02d}" for i in range(10))


def test_a_deleted_state_file_is_refused_then_restored_with_state_push(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(_runs(10))
    _apply(stack)
    stack.write_runs(_runs(12))
    _killed_at(stack, "journal-appended:2")  # the two new runs' intents (and maybe starts) are journaled
    starts = len(emulator.starts())
    stack.state_path.unlink()

    for args in (["apply", "--auto-approve"], ["plan"]):
        refused = stack.cli(args)
        assert refused.code == 1, refused
        assert (
            f"{stack.state_path} does not exist, but {_sidecar(stack, '.backup')} holds a state with 10 run(s)"
            in refused.err
        )
        assert f"reconciler state push {_sidecar(stack, '.backup')}" in refused.err
    assert len(emulator.starts()) == starts and not stack.state_path.exists()
    assert _sidecar(stack, ".journal").exists() and _sidecar(stack, ".backup").exists()

    pushed = stack.cli(["state", "push", "reconciler.state.json.backup"])
    assert pushed.code == 0, pushed
    _apply(stack)
    assert _starts_per_name(emulator) == Counter(f"r-{i:02d}" for i in range(12))


def test_backup_is_the_state_before_the_apply(stack: Stack) -> None:
    stack.write_runs(_runs(1))
    _apply(stack)
    backup = json.loads(_sidecar(stack, ".backup").read_text())
    assert backup["runs"] == {} and backup["lineage"] == json.loads(stack.state_path.read_text())["lineage"]
    after_first = stack.state_path.read_bytes()
    stack.write_runs(_runs(2))
    _apply(stack)
    assert _sidecar(stack, ".backup").read_bytes() == after_first
    assert stack.state_path.read_bytes() != after_first


@pytest.mark.parametrize("point", ["temp-written:2", "temp-written:3"])  # 1: lock info, 2: backup, 3: compaction
def test_a_kill_while_writing_leaves_no_temp_file_for_good(stack: Stack, emulator: Emulator, point: str) -> None:
    stack.write_runs(_runs(2))
    _apply(stack)
    stack.write_runs(_runs(4))
    _killed_at(stack, point)
    assert [p.name for p in stack.root.iterdir() if TEMP.fullmatch(p.name)], "the kill left no temp file"
    _apply(stack)
    assert [p.name for p in stack.root.iterdir() if ".tmp" in p.name] == []
    assert _starts_per_name(emulator) == Counter(f"r-{i:02d}" for i in range(4))


# --- a read-only state folder mid-apply -------------------------------------------------------------


def test_a_read_only_state_folder_mid_apply_ends_with_the_real_error(
    stack: Stack, emulator: Emulator, read_only: ReadOnly
) -> None:
    names = [f"l-{i}" for i in range(3)]
    stack.write_runs([run_doc(n, LONG, {"name": n}) for n in names])
    state_dir = stack.root / "state"
    state_dir.mkdir()
    stack.write_stack(backend={"type": "local", "path": "state/reconciler.state.json"})
    apply = stack.popen(["apply", "--auto-approve"])
    try:
        deadline = time.monotonic() + 30
        while len(emulator.starts()) < 3:
            assert apply.poll() is None and time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.02)
        time.sleep(0.3)  # their start answers are recorded too
        reason = read_only.make(state_dir, holding=apply)
        out, err = apply.communicate(timeout=60)
    finally:
        stop(apply)
    assert "Traceback" not in err, err
    assert apply.returncode == 1, (out, err)
    where = re.escape(str(state_dir / "reconciler.state.json"))
    assert re.search(rf"cannot (append to|write) {where}\S*: {reason}", err), err

    read_only.restore()
    _apply(stack)
    assert _starts_per_name(emulator) == Counter(names)
    assert {r["execution"]["state"] for r in stack.state()["runs"].values()} == {"completed"}
