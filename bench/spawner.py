"""Run one command and account for it alone: ``python -I -S spawner.py RESULT TIMEOUT CMD...``.

Why a separate small process: on Linux a child's ``ru_maxrss`` also covers the memory of the process
it was forked from, up to its ``exec`` (the kernel carries the old address space's high-water mark
over). Forked from the benchmark driver (which may hold a big generated state), a small command
would look as big as the driver. Forked from this ~10 MB stdlib-only process instead, the figure is
the command's own peak. Standard library only; stdout/stderr and cwd/env are passed through.

Writes ``{"wall", "cpu", "maxrss_kb", "returncode", "timed_out"}`` as JSON to RESULT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time


def main(result_path: str, timeout: float, argv: list[str]) -> None:
    began = time.perf_counter()
    proc = subprocess.Popen(argv, start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    result = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "returncode": proc.returncode,
        "timed_out": timed_out.is_set(),
    }
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3:])
