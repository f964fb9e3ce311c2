"""`reconciler` ends through the interpreter's usual shutdown (exit statuses, flushed output and atexit
work all kept), with the garbage collector off during the command and everything frozen at exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _main(argv: list[str]) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        """
        import atexit, gc, sys
        atexit.register(lambda: print("atexit", gc.isenabled(), gc.get_freeze_count() > 0))
        from reconciler.cli import app
        sys.argv = ["reconciler", *sys.argv[1:]]
        app.main()
        """
    )
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("argv", "status"), [(["--version"], 0), (["no-such-command"], 1)])
def test_statuses_output_and_atexit_work_survive(argv: list[str], status: int) -> None:
    done = _main(argv)
    assert done.returncode == status, done.stderr
    assert done.stdout.splitlines()[-1] == "atexit False True"  # collector off, objects frozen


def test_the_collector_is_off_while_a_command_runs() -> None:
    script = textwrap.dedent(
        """
        import gc, sys
        import click
        from reconciler.cli import app
        app.COMMANDS["probe"] = ("__main__", "probe")
        probe = click.Command("probe", callback=lambda: print("enabled", gc.isenabled()))
        sys.argv = ["reconciler", "probe"]
        app.main()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "enabled False\n"), done.stderr
