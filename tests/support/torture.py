"""What the torture tests share, on top of ``tests/support/e2e.py`` (the emulator and the CLI as
subprocesses): stack folders on both backends, seeded randomness, the size knob, the judge (the
server's own view) and the figures printed at the end.

- ``RECONCILER_TORTURE_SEED``: the seed of every random choice (printed; random when unset). Each test
  draws from ``random.Random(f"{seed}/{test}")``, so one test is replayed alone with the same seed.
- ``RECONCILER_TORTURE_SCALE``: 1 by default; ``make test`` sets 0.5 (100 runs per backend in the
  crash test, every kill point still hit), ``make torture`` 3 (more runs, more kills). Sizes are
  ``scaled(n)``.
- `report`: each test's counts (kills, lost answers, starts per run, outputs that differ...), kept with
  the test's report (``user_properties``, so that they reach the main process under pytest-xdist) and
  printed at the end by ``tests/support/figures.py``; with ``-s`` also as recorded. The seed is
  drawn once, in the main process: pytest-xdist workers inherit it through the environment.

The kill points are those of ``reconciler/killpoints.py`` (``RECONCILER_KILL_AT=NAME[:N]``).
"""

from __future__ import annotations

import os
import random
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.e2e import API_VERSION, PASSWORD, Emulator, Result, run_cli, start_cli
from tests.support.stores import PG_DSN, with_application

# Seconds one request may take: also how long an apply that takes over a lock from a killed holder
# waits for that holder's starts in flight (docs/reliability.md, Fencing). The emulator answers in
# well under a second; the default (30 s) would make every apply after a SIGKILL wait 30 s.
REQUEST_TIMEOUT = 3

SEED = int(os.environ.get("RECONCILER_TORTURE_SEED") or random.SystemRandom().randrange(1, 2**31))
os.environ["RECONCILER_TORTURE_SEED"] = str(SEED)  # pytest-xdist workers, started later, take this one
SCALE = float(os.environ.get("RECONCILER_TORTURE_SCALE") or "1")

ZERO = "00000000-0000-4000-8000-0000000070a0"  # duration 0: completed in its start answer
QUICK = "00000000-0000-4000-8000-0000000070a1"  # 0.15 s
USES = "00000000-0000-4000-8000-0000000070a2"  # reads another run's output
SLOW = "00000000-0000-4000-8000-0000000070a3"  # 0.6 s
HOLD = "00000000-0000-4000-8000-0000000070a4"  # 60 s: still running when the server dies

# Every output carries the execution id: a run recorded with another execution's outputs is caught.
CATALOG: dict[str, Any] = {
    "apiVersions": [API_VERSION],
    "workflows": [
        {
            "id": wid,
            "name": name,
            "inputs": [{"name": "name", "type": "string"}, *extra],
            "outputs": [{"name": "result", "type": "string", "template": template}],
            "duration": duration,
            "initializing": 0.0 if duration == 0 else 0.05,
        }
        for wid, name, extra, template, duration in [
            (ZERO, "Zero", [], "z-${inputs.name}-${execution.id}", 0),
            (QUICK, "Quick", [], "q-${inputs.name}-${execution.id}", 0.15),
            (USES, "Uses", [{"name": "upstream", "type": "string"}], "u-${inputs.upstream}-${execution.id}", 0.1),
            (SLOW, "Slow", [], "s-${inputs.name}-${execution.id}", 0.6),
            (HOLD, "Hold", [], "h-${inputs.name}-${execution.id}", 60),
        ]
    ],
    "users": [{"name": "admin", "org": "System", "password": PASSWORD}],
}


def scaled(count: int) -> int:
    """``count`` at the CI size, times ``RECONCILER_TORTURE_SCALE``."""
    return max(1, round(count * SCALE))


def rng_for(test: str) -> random.Random:
    return random.Random(f"{SEED}/{test}")


FIGURES = "torture figures"  # the user_properties key of a test's figures
RECORDED: list[tuple[str, dict[str, Any]]] = []  # this test's figures, until its report takes them


def report(test: str, **figures: Any) -> None:
    """Keep a test's figures for the terminal summary (and print them for ``-s``): the hook
    ``pytest_runtest_call`` of ``tests/support/figures.py`` moves them into the test's
    ``user_properties``, which pytest-xdist carries to the main process."""
    RECORDED.append((test, figures))
    print(f"\n[torture] {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def histogram(counts: Mapping[str, int], names: Sequence[str]) -> dict[int, int]:
    """{starts: number of runs started that many times}, over ``names`` (0 = never started)."""
    return dict(sorted(Counter(counts.get(n, 0) for n in names).items()))


# --- stacks ----------------------------------------------------------------------------------------


@dataclass
class Stack:
    """A stack folder on one backend. Local: the state lives in ``state/`` (a directory the disk tests
    can make read-only or full). PostgreSQL: its own workspace, and an ``application_name`` per
    process (``app(tag)``), so a test can find and kill its own sessions and nobody else's."""

    root: Path
    url: str
    backend: str = "local"
    workspace: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def state_path(self) -> Path:
        return self.state_dir / "reconciler.state.json"

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "reconciler.state.json.journal"

    @property
    def backup_path(self) -> Path:
        return self.state_dir / "reconciler.state.json.backup"

    def app(self, tag: str) -> str:
        return f"torture-{self.workspace}-{tag}"

    def write_stack(self, parallelism: int = 8, endpoint: Mapping[str, Any] | None = None) -> None:
        if self.backend == "local":
            backend: dict[str, Any] = {"type": "local", "path": "state/reconciler.state.json"}
        else:
            backend = {"type": "postgres", "dsnFrom": {"env": "TORTURE_PG_DSN"}, "workspace": self.workspace}
        doc = {
            "apiVersion": "reconciler/v1",
            "kind": "Stack",
            "metadata": {"name": "torture"},
            "spec": {
                "endpoint": {
                    "url": self.url,
                    "apiVersion": API_VERSION,
                    "org": "System",
                    "auth": {"username": "admin", "passwordFrom": {"env": "E2E_VCD_PASSWORD"}},
                    "requestTimeout": REQUEST_TIMEOUT,
                    **(endpoint or {}),
                },
                "backend": backend,
                "manifests": ["manifests"],
                "parallelism": parallelism,
            },
        }
        self.state_dir.mkdir(exist_ok=True)
        (self.root / "reconciler.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def write_runs(self, docs: Sequence[Mapping[str, Any]]) -> None:
        folder = self.root / "manifests"
        folder.mkdir(exist_ok=True)
        (folder / "runs.yaml").write_text(yaml.safe_dump_all(list(docs), sort_keys=False), encoding="utf-8")

    def _env(self, tag: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        env = dict(self.env)
        if self.backend == "postgres":
            env["TORTURE_PG_DSN"] = with_application(PG_DSN, self.app(tag))
        env.update(extra or {})
        return env

    def cli(
        self,
        args: Sequence[str],
        *,
        tag: str = "cli",
        env: Mapping[str, str] | None = None,
        timeout: float = 180,
        stdin: str = "",
    ) -> Result:
        """``reconciler ARGS`` in the stack folder, bounded; no traceback may reach the user."""
        return run_cli(args, env=self._env(tag, env), cwd=self.root, timeout=timeout, stdin=stdin)

    def popen(
        self,
        args: Sequence[str],
        *,
        tag: str = "bg",
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> subprocess.Popen[str]:
        """``reconciler ARGS`` started in the background (its own session), under ``prefix`` if any."""
        return start_cli(args, env=self._env(tag, env), cwd=self.root, prefix=prefix)

    def state(self) -> dict[str, Any]:
        result = self.cli(["state", "pull"])
        assert result.code == 0, str(result)
        return dict(result.json())

    def outputs(self) -> dict[str, dict[str, Any]]:
        result = self.cli(["output", "--json"])
        assert result.code == 0, str(result)
        return dict(result.json())


APPLY = ["apply", "--auto-approve"]


def converge(stack: Stack, rounds: int = 8, timeout: float = 240) -> tuple[int, list[Result]]:
    """Apply until an apply exits 0 and the plan then shows no change; (applies it took, results).
    Gives up after ``rounds`` (the caller asserts on the result)."""
    results: list[Result] = []
    for count in range(1, rounds + 1):
        applied = stack.cli([*APPLY, "--lock-timeout", "60s"], tag=f"converge{count}", timeout=timeout)
        results.append(applied)
        if applied.code == 0 and stack.cli(["plan", "--detailed-exitcode"], tag="plan").code == 0:
            return count, results
    return -1, results


@dataclass
class Verdict:
    """What the server and the state say once a stack has converged."""

    starts: dict[int, int]  # starts per run -> how many runs
    missing: list[str]
    duplicated: list[str]
    not_completed: list[str]
    wrong_execution: list[str]
    outputs_differ: list[str]

    @property
    def figures(self) -> dict[str, Any]:
        return {
            "starts_per_run": self.starts,
            "duplicates": len(self.duplicated),
            "missing": len(self.missing),
            "not_completed": len(self.not_completed),
            "wrong_execution": len(self.wrong_execution),
            "outputs_differ": len(self.outputs_differ),
        }

    def problems(self) -> dict[str, list[str]]:
        named = {
            "duplicated": self.duplicated,
            "missing": self.missing,
            "not completed": self.not_completed,
            "recorded another execution": self.wrong_execution,
            "outputs differ from the server's": self.outputs_differ,
        }
        return {k: v[:10] for k, v in named.items() if v}


def judge(stack: Stack, emulator: Emulator, names: Sequence[str]) -> Verdict:
    """Exactly one start per run on the server, each run completed with that execution, and the
    recorded outputs (``output --json``) equal to the server's outputs for that execution."""
    starts = emulator.starts()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for start in starts:
        by_name.setdefault(start["inputs"]["name"], []).append(start)
    runs = stack.state()["runs"]
    recorded = stack.outputs()
    once = {n: v[0] for n, v in by_name.items() if len(v) == 1}
    with ThreadPoolExecutor(16) as pool:  # one GET per run, each paying the emulator's latency
        served = dict(
            zip(
                once,
                pool.map(lambda s: emulator.outputs(s["workflowId"], s["executionId"]), once.values()),
                strict=True,
            )
        )
    not_completed, wrong, differ = [], [], []
    for name in names:
        execution = (runs.get(name) or {}).get("execution") or {}
        if execution.get("state") != "completed":
            not_completed.append(name)
        if name not in once:
            continue
        if execution.get("id") not in (None, once[name]["executionId"]):
            wrong.append(name)
        elif recorded.get(name) != served[name]:
            differ.append(name)
    counts = {n: len(v) for n, v in by_name.items()}
    return Verdict(
        starts=histogram(counts, names),
        missing=[n for n in names if n not in by_name],
        duplicated=[n for n in names if counts.get(n, 0) > 1],
        not_completed=not_completed,
        wrong_execution=wrong,
        outputs_differ=differ,
    )
