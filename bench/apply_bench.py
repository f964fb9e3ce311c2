"""``apply-500``: 500 independent runs, parallelism 10, against the emulator with 20 ms latency.

The bound: with ``parallelism`` requests in flight and ``latency`` per answer, 500 starts need
500 x latency / parallelism seconds of round trips, and the last one started then runs for the
workflow's ``duration``: 500 x 0.02 / 10 + 2 = 3 s. The figure is the wall time of the whole
``reconciler apply`` process (interpreter start to exit) over that bound.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import processes
import workload
from processes import BenchError, Measured


@dataclass(frozen=True)
class ApplySettings:
    runs: int = 500
    parallelism: int = 10
    latency: float = 0.02
    duration: float = 2.0
    repeat: int = 2
    timeout: float = 120.0

    @property
    def bound(self) -> float:
        return self.runs * self.latency / self.parallelism + self.duration


@dataclass(frozen=True)
class ApplyResult:
    best: Measured
    attempts: list[Measured]
    bound: float


def run_apply_bench(settings: ApplySettings, log: list[str]) -> ApplyResult:
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        root = Path(tmp)
        catalog = workload.write_catalog(root, settings.duration)
        with processes.emulator(catalog, latency=settings.latency, workdir=root) as url:
            attempts = [_one_apply(root / f"stack{n}", url, settings) for n in range(settings.repeat)]
            for n, m in enumerate(attempts):
                log.append(f"apply-{settings.runs} #{n + 1}: {m.wall:.3f}s wall, {m.cpu:.3f}s CPU, {m.maxrss_kb} KB")
    best = min(attempts, key=lambda m: m.wall)
    return ApplyResult(best, attempts, settings.bound)


def _one_apply(folder: Path, url: str, settings: ApplySettings) -> Measured:
    folder.mkdir()
    workload.write_stack(folder, settings.runs, max(1, settings.runs // 100))
    env = {**os.environ, "RECONCILER_ENDPOINT": url, workload.PASSWORD_ENV: workload.PASSWORD, "NO_COLOR": "1"}
    argv = [processes.RECONCILER, "apply", "--auto-approve", "--parallelism", str(settings.parallelism), "--no-color"]
    result = processes.check(
        processes.measure(argv, cwd=folder, timeout=settings.timeout, env=env, label=f"apply-{settings.runs}")
    )
    _check_all_completed(folder, settings.runs)
    return result


def _check_all_completed(folder: Path, runs: int) -> None:
    doc = json.loads((folder / "state" / "reconciler.state.json").read_bytes())
    states = [(r.get("execution") or {}).get("state") for r in doc["runs"].values()]
    done = states.count("completed")
    if len(states) != runs or done != runs:
        raise BenchError(f"apply-{runs}: the state records {len(states)} runs, {done} completed (expected {runs})")
