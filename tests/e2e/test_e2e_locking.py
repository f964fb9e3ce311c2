"""The state lock through the CLI: a second writer fails at once with the holder's details, or waits."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.e2e import ECHO, Emulator, Stack, run_doc, stop

HOLD = """
import sys
from pathlib import Path
from reconciler.backends.local import LocalBackend
with LocalBackend(Path(sys.argv[1])).lock("e2e-holder", 0) as info:
    print(info.id, flush=True)
    sys.stdin.readline()
"""


class Holder:
    """A helper process that holds the state lock until told to let go."""

    def __init__(self, state_path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(state_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.lock_id = self.process.stdout.readline().strip()
        assert self.lock_id, "the helper did not take the lock"

    def release(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        self.process.wait(timeout=10)


@pytest.fixture
def holder(stack: Stack) -> Iterator[Holder]:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    held = Holder(stack.state_path)
    try:
        yield held
    finally:
        stop(held.process)


def _assert_locked(result_err: str, lock_id: str) -> None:
    assert "locked" in result_err
    assert "e2e-holder" in result_err  # the operation
    assert lock_id in result_err
    assert "pid" in result_err  # who holds it


def test_second_writer_fails_with_holder_details(stack: Stack, emulator: Emulator, holder: Holder) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    before = stack.state_path.read_bytes()
    for args in (["apply", "--auto-approve"], ["state", "rm", "a"], ["refresh"], ["state", "mv", "a", "c"]):
        result = stack.cli(args)
        assert result.code == 1, result
        _assert_locked(result.err, holder.lock_id)
    assert stack.state_path.read_bytes() == before
    assert len(emulator.starts()) == 1

    began = time.monotonic()
    waited = stack.cli(["apply", "--auto-approve", "--lock-timeout", "1s"])
    assert waited.code == 1, waited
    assert time.monotonic() - began >= 1.0
    _assert_locked(waited.err, holder.lock_id)

    wrong = stack.cli(["force-unlock", "not-the-lock-id"])
    assert wrong.code == 1, wrong
    assert "not-the-lock-id" in wrong.err
    alive = stack.cli(["force-unlock", holder.lock_id])
    assert alive.code == 1, alive  # a live holder's lock is not broken from outside
    assert str(holder.process.pid) in alive.err
    assert len(emulator.starts()) == 1


def test_lock_timeout_waits_for_the_holder(stack: Stack, emulator: Emulator, holder: Holder) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    waiting = stack.popen(["apply", "--auto-approve", "--lock-timeout", "30s"])
    try:
        time.sleep(0.8)
        assert waiting.poll() is None  # still waiting for the lock
        assert len(emulator.starts()) == 1
        holder.release()
        out, err = waiting.communicate(timeout=30)
    finally:
        stop(waiting)
    assert waiting.returncode == 0, (out, err)
    assert "Traceback" not in err
    assert len(emulator.starts()) == 2
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0
