"""``make bench``: every figure as a ratio against a baseline measured in the same run.

The machine is noisy (2 shared cores), so no absolute time means anything on its own: each figure
is divided by a baseline measured right next to it. Exit 0 even when a figure is over its target
(this is a report); exit 1 when a benchmark actually failed (a command failed, timed out, or did
not produce the expected result). See bench/README.md.

    .venv/bin/python bench/run.py [--only apply|plan|refresh] [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import compileall
import sys
import time
from collections.abc import Callable
from pathlib import Path

from apply_bench import ApplySettings, run_apply_bench
from figures import Figure, memory_line, table
from plan_bench import PlanResult, PlanSettings, run_plan_bench
from plan_refresh_bench import RefreshSettings, run_refresh_bench
from processes import BenchError

PLAN_BASELINE_NOTE = (
    "baseline = a fresh Python process (same interpreter) composing the same YAML files with "
    "libyaml's CSafeLoader and json-decoding the state file; both timed spawn-to-exit, best of N"
)
CPU_NOTE = "user + system CPU seconds of the plan over the baseline's (a report: one core is used)"
RSS_LIMIT_MB = 300.0  # peak RSS of plan-20k


def apply_figures(repeat: int, runs: int, log: list[str], memory: list[str]) -> list[Figure]:
    settings = ApplySettings(runs=runs, repeat=repeat)
    result = run_apply_bench(settings, log)
    memory.append(memory_line(f"apply-{runs}", result.best.maxrss_kb, runs))
    note = (
        f"baseline = {runs} x {settings.latency:g}s / {settings.parallelism} + {settings.duration:g}s "
        f"(request-bound start of every run + one workflow duration); measured = whole "
        f"`reconciler apply` process, best of {repeat}"
    )
    return [Figure(f"apply-{runs}", result.best.wall, result.bound, 1.5, note=note)]


def plan_figures(repeat: int, runs: int, log: list[str], memory: list[str]) -> list[Figure]:
    small = run_plan_bench(PlanSettings(runs=runs, repeat=repeat), log)
    large = run_plan_bench(PlanSettings(runs=2 * runs, repeat=repeat), log)
    for result in (small, large):
        memory.append(memory_line(_plan_name(result.runs), result.plan.maxrss_kb, result.runs))
        memory.append(memory_line("  baseline", result.baseline.maxrss_kb, result.runs))
    figures = [_plan_figure(small, 2.5, PLAN_BASELINE_NOTE), _plan_figure(large, 2.5, "")]
    for result, note in ((small, CPU_NOTE), (large, "")):
        name = f"{_plan_name(result.runs)} cpu"
        figures.append(Figure(name, result.plan.cpu, result.baseline.cpu, 2.5, note=note))
    figures.append(
        Figure(
            f"{_plan_name(large.runs)} / {_plan_name(small.runs)}",
            large.plan.wall,
            small.plan.wall,
            2.3,
            note="linearity: twice the runs should cost about twice the time",
        )
    )
    figures.append(
        Figure(
            f"{_plan_name(large.runs)} peak RSS",
            large.plan.maxrss_kb / 1024,
            RSS_LIMIT_MB,
            1.0,
            unit="MB",
            note=f"ru_maxrss of the plan process against the limit of {RSS_LIMIT_MB:g} MB",
        )
    )
    return figures


def refresh_figures(repeat: int, runs: int, log: list[str], memory: list[str]) -> list[Figure]:
    settings = RefreshSettings(runs=runs, repeat=repeat)
    result = run_refresh_bench(settings, log)
    memory.append(memory_line(f"plan-{runs // 1000}k-refresh", result.refresh.maxrss_kb, runs))
    note = (
        f"measured = plan (with refresh) - plan --no-refresh on the same {runs} runs in {settings.workflows} "
        f"workflows, best of {repeat} each; baseline = {settings.latency:g}s x (1 login + "
        f"ceil({settings.workflows}/{settings.parallelism}) waves of presentation reads)"
    )
    return [Figure(f"plan-{runs // 1000}k-refresh", result.added, result.bound, 5.0, note=note)]


def _plan_name(runs: int) -> str:
    return f"plan-{runs // 1000}k" if runs >= 1000 else f"plan-{runs}"


def _plan_figure(result: PlanResult, target: float, note: str) -> Figure:
    return Figure(_plan_name(result.runs), result.plan.wall, result.baseline.wall, target, note=note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["apply", "plan", "refresh"], help="run one benchmark")
    parser.add_argument("--repeat", type=int, default=0, help="repetitions of each timing (default 2 apply, 3 plan)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the harness out")
    args = parser.parse_args(argv)
    benches: list[tuple[str, Callable[[int, int, list[str], list[str]], list[Figure]], int, int]] = [
        ("apply", apply_figures, args.repeat or 2, 100 if args.quick else 500),
        ("plan", plan_figures, args.repeat or 3, 1000 if args.quick else 10_000),
        ("refresh", refresh_figures, args.repeat or 3, 1000 if args.quick else 2000),
    ]
    figures: list[Figure] = []
    memory: list[str] = []
    failures: list[str] = []
    began = time.monotonic()
    # As an installed package has them: with PYTHONDONTWRITEBYTECODE set (or a read-only checkout),
    # every measured `reconciler` process would compile all its modules again (~30 ms each time).
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "reconciler", quiet=1)
    for name, bench, repeat, runs in benches:
        if args.only and args.only != name:
            continue
        log: list[str] = []
        print(f"== {name} ({runs} runs) ...", flush=True)
        try:
            figures += bench(repeat, runs, log, memory)
        except BenchError as err:
            failures.append(f"{name}: {err}")
        print("\n".join(f"   {line}" for line in log), flush=True)
    print()
    if figures:
        print(table(figures))
        print()
    print("peak memory (ru_maxrss of the measured child process, via wait4):")
    print("\n".join(memory) if memory else "  (none measured)")
    print(f"\ntotal bench time {time.monotonic() - began:.0f}s")
    for failure in failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
