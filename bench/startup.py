"""CLI start-up: CPU (user+sys) and wall time of short `reconciler` invocations, median of N.

    python bench/startup.py [-n 10]

Measures `reconciler --help`, `reconciler validate` and `reconciler plan --no-refresh` on the demo
stack (no state: nothing is written) and `reconciler emulator` until it prints "listening on" (then
it is stopped; its CPU is counted up to that point plus the shutdown). With PYTHONPATH=DIR it
measures the package in DIR (compile it first: the environment may set PYTHONDONTWRITEBYTECODE).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECONCILER = str(Path(sys.executable).with_name("reconciler"))


def _cpu(rusage: Any) -> float:
    return float(rusage.ru_utime + rusage.ru_stime)


def one_command(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args} exited {proc.returncode}")
    return _cpu(rusage), time.perf_counter() - start


def one_emulator() -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [RECONCILER, "emulator", "--port", "0"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on" in line:
            break
    else:
        raise SystemExit("the emulator exited before listening")
    wall = time.perf_counter() - start
    proc.send_signal(signal.SIGINT)
    _, _, rusage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return _cpu(rusage), wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    n = parser.parse_args().n
    os.environ.update({"DEMO_VCD_PASSWORD": "x", "DEMO_ADMIN_PASSWORD": "x"})
    cases = {
        "python -c pass": lambda: one_command([sys.executable, "-c", "pass"]),
        "reconciler --help": lambda: one_command([RECONCILER, "--help"]),
        "reconciler validate (demo)": lambda: one_command([RECONCILER, "validate"]),
        "reconciler plan --no-refresh (demo)": lambda: one_command([RECONCILER, "plan", "--no-refresh"]),
        "reconciler emulator (to listening)": one_emulator,
    }
    print(f"| command | CPU s (median of {n}) | wall s (median of {n}) |")
    print("|---|---|---|")
    for name, case in cases.items():
        case()  # warm the page cache and the bytecode
        samples = [case() for _ in range(n)]
        cpu = statistics.median(s[0] for s in samples)
        wall = statistics.median(s[1] for s in samples)
        print(f"| `{name}` | {cpu:.3f} | {wall:.3f} |", flush=True)


if __name__ == "__main__":
    main()
