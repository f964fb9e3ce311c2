"""``plan-10k`` / ``plan-20k``: ``reconciler plan --no-refresh --json`` on an up-to-date state (all noop).

Both the plan and its baseline run as fresh processes of the same interpreter, timed from spawn to
exit, so both include interpreter start and their imports; they alternate, ``repeat`` times each,
and the fastest of each is kept (the least disturbed by the machine's noise).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import processes
import workload
from processes import BenchError, Measured

BASELINE_SCRIPT = Path(__file__).with_name("baseline_parse.py")


@dataclass(frozen=True)
class PlanSettings:
    runs: int
    runs_per_file: int = 100
    fan_out: int = 10
    repeat: int = 3
    timeout: float = 120.0


@dataclass(frozen=True)
class PlanResult:
    runs: int
    plan: Measured
    baseline: Measured
    state_bytes: int


def run_plan_bench(settings: PlanSettings, log: list[str]) -> PlanResult:
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        root = Path(tmp)
        files = max(1, settings.runs // settings.runs_per_file)
        workload.write_stack(root, settings.runs, files, fan_out=settings.fan_out)
        recorded = workload.write_completed_state(root)
        if recorded != settings.runs:
            raise BenchError(f"plan-{settings.runs}: built a state of {recorded} runs")
        state_bytes = (root / "state" / "reconciler.state.json").stat().st_size
        plans: list[Measured] = []
        baselines: list[Measured] = []
        for _ in range(settings.repeat):
            baselines.append(_baseline(root, settings))
            plans.append(_plan(root, settings))
        name = f"plan-{settings.runs // 1000}k"
        log.append(f"{name}: {files} files, state {state_bytes / 1e6:.1f} MB")
        for label, measured in (("plan    ", plans), ("baseline", baselines)):
            times = ", ".join(f"{m.wall:.3f}s (cpu {m.cpu:.3f}s)" for m in measured)
            log.append(f"{name}: {label} {times}")
    fastest = lambda found: min(found, key=lambda m: m.wall)  # noqa: E731
    return PlanResult(settings.runs, fastest(plans), fastest(baselines), state_bytes)


def _plan(root: Path, settings: PlanSettings) -> Measured:
    argv = [processes.RECONCILER, "plan", "--no-refresh", "--json"]
    label = f"plan --no-refresh --json ({settings.runs} runs)"
    result = processes.check(processes.measure(argv, cwd=root, timeout=settings.timeout, label=label))
    try:
        actions = [change["action"] for change in json.loads(result.stdout)["changes"]]
    except (ValueError, KeyError, TypeError) as err:
        raise BenchError(f"{label}: not a plan document ({err}):\n{result.tail()}") from err
    if actions != ["noop"] * settings.runs:
        raise BenchError(f"{label}: expected {settings.runs} noops, got:\n{result.tail()}")
    return result


def _baseline(root: Path, settings: PlanSettings) -> Measured:
    argv = [processes.PYTHON, str(BASELINE_SCRIPT), str(root)]
    label = f"baseline parse ({settings.runs} runs)"
    result = processes.check(processes.measure(argv, cwd=root, timeout=settings.timeout, label=label))
    if f"{settings.runs} documents, {settings.runs} recorded runs" not in result.stdout:
        raise BenchError(f"{label}: unexpected output:\n{result.tail()}")
    return result
