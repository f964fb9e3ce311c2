"""`reconciler` ends a command without freeing what it built, and keeps Python's exit statuses."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(body: str) -> subprocess.CompletedProcess[str]:
    script = "from reconciler.cli import common\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2)])
def test_statuses_and_output_survive(code: int | None, status: int) -> None:
    done = _run(
        f"print('out', end='')\ncommon.keep_until_exit([1] * 10)\ncommon.exit_without_cleanup(SystemExit({code}))"
    )
    assert (done.returncode, done.stdout) == (status, "out")


def test_a_message_exit_takes_the_usual_way() -> None:
    done = _run("common.exit_without_cleanup(SystemExit('bye'))")
    assert (done.returncode, done.stderr.strip()) == (1, "bye")


def test_atexit_work_runs_when_another_thread_is_alive() -> None:
    done = _run(
        """
        import atexit, threading
        atexit.register(lambda: print("cleaned"))
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        common.exit_without_cleanup(SystemExit(3))
        """
    )
    assert (done.returncode, done.stdout) == (3, "cleaned\n")
