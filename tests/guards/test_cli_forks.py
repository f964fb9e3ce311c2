"""The tests' forked CLI (``tests/support/forking.py``) behaves as a fresh ``reconciler`` process does:
the same exit status, stdout, stderr and files written, for the same arguments, environment, stdin
and working folder; and a command that overstays its timeout is killed. Each case runs both ways."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.e2e import CLI, environ, run_cli

INIT = ["init", "--url", "https://vcd.example", "--org", "acme", "--username", "ops", "--password-env", "VCD_PW"]
ANSWERS = "not-a-url\nhttps://vcd.example\n37.2\n\n\nops\nthe password!\nVCD_PW\n\n\nasked\n"
CASES: list[tuple[list[str], dict[str, str], str]] = [
    (["--version"], {}, ""),
    (["no-such-command"], {}, ""),
    (["--help"], {"COLUMNS": "60"}, ""),  # the environment is the command's: help wraps at 60
    (["validate"], {}, ""),  # no stack here: exit 1, a message naming the folder
    ([*INIT, "--no-input"], {}, ""),
    (["init"], {}, ANSWERS),  # every answer read from stdin, one asked again
]


def _fresh(args: list[str], cwd: Path, env: dict[str, str], stdin: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [CLI, *args], cwd=cwd, env=environ(env), capture_output=True, text=True, timeout=60, input=stdin
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("args", "env", "stdin"), CASES, ids=lambda c: repr(c)[:40])
def test_a_forked_command_behaves_as_a_fresh_one(
    args: list[str], env: dict[str, str], stdin: str, tmp_path: Path
) -> None:
    forked_dir, fresh_dir = tmp_path / "forked" / "stack", tmp_path / "fresh" / "stack"  # one stack name
    forked_dir.mkdir(parents=True)
    fresh_dir.mkdir(parents=True)
    forked = run_cli(args, cwd=forked_dir, env=env, stdin=stdin)
    code, out, err = _fresh(args, fresh_dir, env, stdin)
    assert forked.code == code, forked
    assert forked.out.replace(str(forked_dir), "DIR") == out.replace(str(fresh_dir), "DIR")
    assert forked.err.replace(str(forked_dir), "DIR") == err.replace(str(fresh_dir), "DIR")
    written = [sorted(p.relative_to(d).as_posix() for p in d.rglob("*")) for d in (forked_dir, fresh_dir)]
    assert written[0] == written[1]


def test_a_command_that_overstays_is_killed(tmp_path: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(["emulator", "--port", "0"], cwd=tmp_path, timeout=2)
