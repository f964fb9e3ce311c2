"""Files torture (issue 8 item 4): the local state files never silently forget.

- the state file reformatted (``python -m json.tool``) while the journal holds unmerged events;
- the state file deleted with its ``.backup`` (and a journal) beside it;
- a torn journal: the last group cut in half (survived), a group in the middle damaged (refused);
- ``.backup`` is the state as it was before the command; a SIGKILL in compaction leaves no temp file;
  a corrupt state's error names the ``.backup``.

The judge is the server's count of starts (exactly one per run) and its outputs.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.support.e2e import Emulator, run_doc
from tests.support.torture import APPLY, QUICK, SEED, ZERO, Stack, converge, judge, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _docs(prefix: str, count: int) -> list[dict[str, object]]:
    return [run_doc(f"{prefix}-{i:02d}", ZERO if i % 2 else QUICK, {"name": f"{prefix}-{i:02d}"}) for i in range(count)]


def _names(docs: list[dict[str, object]]) -> list[str]:
    return [str(d["metadata"]["name"]) for d in docs]  # type: ignore[index]


def _killed_apply(stack: Stack, point: str) -> None:
    killed = stack.cli(APPLY, env={"RECONCILER_KILL_AT": point})
    assert killed.code == -signal.SIGKILL, f"the kill point {point} was not reached:\n{killed}"


def _stack_with_journal(make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]) -> tuple:  # type: ignore[type-arg]
    """A stack whose first run is applied, then 10 more killed mid-apply: the journal holds events."""
    emulator = make_emulator("--latency", "0.05")
    stack = make_stack(emulator, parallelism=2)
    docs = _docs("f", 11)
    stack.write_runs(docs[:1])
    assert stack.cli(APPLY).code == 0
    stack.write_runs(docs)
    _killed_apply(stack, "journal-appended:6")
    assert stack.journal_path.exists() and stack.journal_path.stat().st_size > 0, "no journal left behind"
    return emulator, stack, docs


def _converged(test: str, stack: Stack, emulator: Emulator, names: list[str], **figures: object) -> None:
    rounds, results = converge(stack)
    verdict = judge(stack, emulator, names)
    report(test, seed=SEED, runs=len(names), converged_after_applies=rounds, **figures, **verdict.figures)
    assert rounds > 0, "no convergence:\n" + "\n\n".join(str(r) for r in results[-2:])
    assert verdict.problems() == {}, verdict.problems()


def test_reformatted_state_keeps_its_journal(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator, stack, docs = _stack_with_journal(make_emulator, make_stack)
    started = len(emulator.starts())
    pretty = subprocess.run([sys.executable, "-m", "json.tool", str(stack.state_path)], capture_output=True, check=True)
    assert pretty.stdout != stack.state_path.read_bytes(), "json.tool changed nothing: the test proves nothing"
    stack.state_path.write_bytes(pretty.stdout)
    _converged("files[reformatted state]", stack, emulator, _names(docs), starts_before_reformat=started)


@pytest.mark.parametrize("journal", [False, True], ids=["backup", "backup+journal"])
def test_deleted_state_beside_its_backup_is_not_taken_for_a_new_stack(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack], journal: bool
) -> None:
    emulator = make_emulator("--latency", "0.05")
    stack = make_stack(emulator, parallelism=2)
    docs = _docs("b", 12)
    stack.write_runs(docs[:5])
    assert stack.cli(APPLY).code == 0
    stack.write_runs(docs[:10])
    assert stack.cli(APPLY).code == 0
    if journal:
        stack.write_runs(docs)
        _killed_apply(stack, "journal-appended:2")
    assert stack.backup_path.exists()
    before = len(emulator.starts())
    stack.state_path.unlink()

    refused = stack.cli(APPLY)
    new_starts = len(emulator.starts()) - before
    backup_named = ".backup" in refused.text
    restored = stack.cli(["state", "push", str(stack.backup_path)])
    report(
        f"files[deleted state, {'backup+journal' if journal else 'backup'}]",
        apply_exit=refused.code,
        new_starts=new_starts,
        backup_named=backup_named,
        state_push_backup_exit=restored.code,
    )
    assert new_starts == 0, f"{new_starts} runs were started again:\n{refused}"
    assert refused.code == 1 and backup_named, f"apply must refuse and name the backup:\n{refused}"
    assert restored.code == 0, f"state push must restore the backup when the state is missing:\n{restored}"
    if not journal:
        backed_up = json.loads(stack.backup_path.read_bytes())["runs"]
        planned = stack.cli(["plan", "--no-refresh", "--json"]).json()["changes"]
        assert not [c["run"] for c in planned if c["run"] in backed_up and c["action"] == "start"]


def test_torn_last_journal_group_is_survived(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator, stack, docs = _stack_with_journal(make_emulator, make_stack)
    data = stack.journal_path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    torn = data[: last + (len(data) - last) // 2]
    stack.journal_path.write_bytes(torn)
    _converged("files[torn journal tail]", stack, emulator, _names(docs), bytes_cut=len(data) - len(torn))


def test_damaged_journal_group_in_the_middle_stops_with_a_message(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator, stack, _ = _stack_with_journal(make_emulator, make_stack)
    lines = stack.journal_path.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3, lines
    middle = len(lines) // 2
    lines[middle] = lines[middle][: len(lines[middle]) // 2] + b"#garbage#\n"
    stack.journal_path.write_bytes(b"".join(lines))
    before = len(emulator.starts())
    refused = stack.cli(APPLY)
    report("files[damaged journal middle]", apply_exit=refused.code, new_starts=len(emulator.starts()) - before)
    assert refused.code == 1, str(refused)
    assert "journal" in refused.text, str(refused)
    assert len(emulator.starts()) == before


def test_backup_is_the_state_before_the_command(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator = make_emulator()
    stack = make_stack(emulator)
    docs = _docs("k", 4)
    stack.write_runs(docs[:2])
    assert stack.cli(APPLY).code == 0
    previous = json.loads(stack.state_path.read_bytes())
    stack.write_runs(docs)
    assert stack.cli(APPLY).code == 0
    backup = json.loads(stack.backup_path.read_bytes())
    report("files[backup]", previous_serial=previous["serial"], backup_serial=backup["serial"])
    assert backup == previous, "the .backup is not the state as it was before this apply"


def test_sigkill_in_compaction_leaves_no_temporary_file_and_a_corrupt_state_names_the_backup(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack]
) -> None:
    emulator = make_emulator()
    stack = make_stack(emulator)
    docs = _docs("t", 4)
    stack.write_runs(docs)
    _killed_apply(stack, "temp-written:1")
    left_after_kill = sorted(p.name for p in stack.state_dir.glob("*.tmp"))
    _converged("files[kill in compaction]", stack, emulator, _names(docs), temp_files_after_kill=len(left_after_kill))
    leftover = sorted(p.name for p in stack.state_dir.glob("*.tmp"))
    assert leftover == [], leftover

    stack.state_path.write_text('{"version": 1, "serial": ', encoding="utf-8")
    corrupt = stack.cli(["plan"])
    assert corrupt.code == 1 and ".backup" in corrupt.text, str(corrupt)
