"""Child processes with their own wall time and peak memory, each bounded by a timeout.

Every measured command runs as a separate process and is reaped with ``os.wait4`` (in
`spawner.py`), which returns that one child's resource usage: ``ru_maxrss`` is its own peak resident
set (KiB on Linux), not the maximum over every child ever waited for (what ``RUSAGE_CHILDREN`` gives).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
RECONCILER = str(VENV_BIN / "reconciler")
PYTHON = sys.executable
SPAWNER = Path(__file__).with_name("spawner.py")


class BenchError(Exception):
    """A measured command did not do what it should (exit code, output, timeout)."""


@dataclass(frozen=True)
class Measured:
    command: str
    wall: float  # seconds, spawn to exit
    cpu: float  # user + system seconds of the child
    maxrss_kb: int  # the child's own peak RSS, KiB
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool

    def tail(self, lines: int = 15) -> str:
        text = (self.stderr.strip() + "\n" + self.stdout.strip()).strip()
        return "\n".join(text.splitlines()[-lines:])


def measure(
    argv: Sequence[str], *, cwd: Path, timeout: float, env: Mapping[str, str] | None = None, label: str = ""
) -> Measured:
    """Run ``argv`` to completion (killed after ``timeout`` seconds) and account for it alone.

    The command is started by `spawner.py`, a small separate process that reaps it with ``wait4``
    (see there why the driver does not fork it itself); the wall time is spawn to exit.
    """
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        result_path = Path(tmp) / "result.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        spawner = [PYTHON, "-I", "-S", str(SPAWNER), str(result_path), str(timeout), *argv]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                spawner, cwd=cwd, env=dict(env) if env is not None else None, stdout=out, stderr=err
            )
            try:
                proc.wait(timeout + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stdout = out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")
        if not result_path.exists():
            raise BenchError(f"{label or argv[0]}: the spawner failed ({proc.returncode}):\n{stderr[-2000:]}")
        result = json.loads(result_path.read_text())
    return Measured(
        command=label or " ".join(argv),
        wall=result["wall"],
        cpu=result["cpu"],
        maxrss_kb=result["maxrss_kb"],
        returncode=result["returncode"],
        stdout=stdout,
        stderr=stderr,
        timed_out=result["timed_out"],
    )


def check(result: Measured, *, expect: int = 0) -> Measured:
    if result.timed_out:
        raise BenchError(f"{result.command}: killed after its timeout ({result.wall:.1f}s)\n{result.tail()}")
    if result.returncode != expect:
        raise BenchError(f"{result.command}: exit code {result.returncode}, expected {expect}\n{result.tail()}")
    return result


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def emulator(catalog: Path, *, latency: float, workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """``reconciler emulator`` in its own process (own core, own GIL); yields its base URL."""
    log_path = workdir / "emulator.log"
    argv = [RECONCILER, "emulator", "--port", "0", "--catalog", str(catalog), "--latency", str(latency)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield _wait_for_url(proc, log_path, timeout)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait(5)


def _wait_for_url(proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("listening on "):
                return line.removeprefix("listening on ").strip()
        if proc.poll() is not None:
            raise BenchError(f"the emulator exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.05)
    raise BenchError(f"the emulator did not start within {timeout:g}s:\n{log_path.read_text(errors='replace')}")
