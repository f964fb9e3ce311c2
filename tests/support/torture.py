"""What the torture tests share: the emulator as a subprocess, stack folders on both backends, the CLI
as a subprocess, the server's own view (admin starts, execution outputs over the API), seeded
randomness, the size knob and the figures printed at the end.

- ``RECONCILER_TORTURE_SEED``: the seed of every random choice (printed; random when unset). Each test
  draws from ``random.Random(f"{seed}/{test}")``, so one test is replayed alone with the same seed.
- ``RECONCILER_TORTURE_SCALE``: 1 (default) is the CI size; ``make torture`` sets 3 (more runs, more
  kills). Sizes are ``scaled(n)``.
- ``FIGURES``: each test's counts (kills, lost answers, starts per run, outputs that differ...), printed
  by the terminal summary of ``tests/torture/conftest.py`` and, with ``-s``, as they are recorded.

The kill points are those of ``reconciler/killpoints.py`` (``RECONCILER_KILL_AT=NAME[:N]``).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

CLI = str(Path(sys.executable).with_name("reconciler"))
PASSWORD = "torture-pw"
API_VERSION = "37.2"
PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

# Seconds one request may take: also how long an apply that takes over a lock from a killed holder
# waits for that holder's starts in flight (docs/reliability.md, Fencing). The emulator answers in
# well under a second; the default (30 s) would make every apply after a SIGKILL wait 30 s.
REQUEST_TIMEOUT = 3

SEED = int(os.environ.get("RECONCILER_TORTURE_SEED") or random.SystemRandom().randrange(1, 2**31))
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


FIGURES: list[tuple[str, dict[str, Any]]] = []


def report(test: str, **figures: Any) -> None:
    """Keep a test's figures for the terminal summary (and print them for ``-s``)."""
    FIGURES.append((test, figures))
    print(f"\n[torture] {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def histogram(counts: Mapping[str, int], names: Sequence[str]) -> dict[int, int]:
    """{starts: number of runs started that many times}, over ``names`` (0 = never started)."""
    return dict(sorted(Counter(counts.get(n, 0) for n in names).items()))


# --- processes -------------------------------------------------------------------------------------


def environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update({"NO_COLOR": "1", "TORTURE_VCD_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


@dataclass
class Result:
    args: Sequence[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"reconciler {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"


def no_traceback(result: Result) -> Result:
    assert "Traceback" not in result.text, str(result)
    return result


def stop(process: subprocess.Popen[str]) -> None:
    """SIGCONT then SIGKILL a process this test started (its own session), and reap it."""
    if process.poll() is None:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
    try:
        process.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):
        pass


def finish(process: subprocess.Popen[str], args: Sequence[str], timeout: float) -> Result:
    """Wait for a started CLI (bounded), kill it if it overstays; its Result."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise AssertionError(f"reconciler {' '.join(args)} still running after {timeout:.0f} s") from None
    return Result(list(args), process.returncode, out, err)


def wait_until(
    condition: Callable[[], bool], timeout: float = 60, process: subprocess.Popen[str] | None = None
) -> bool:
    """Poll ``condition`` until true (True), ``timeout`` passed or ``process`` ended (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            return condition()
        time.sleep(0.02)
    return False


# --- the emulator ----------------------------------------------------------------------------------


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[str]
    _token: str | None = None

    def admin(self, what: str) -> Any:
        return httpx.get(f"{self.url}/_emulator/{what}", timeout=10).json()

    def starts(self) -> list[dict[str, Any]]:
        return list(self.admin("starts"))

    def starts_per_name(self) -> Counter[str]:
        return Counter(s["inputs"]["name"] for s in self.starts())

    def lost_answers(self) -> int:
        return int(self.admin("faults")["injected"].get("lost", 0))

    def outputs(self, workflow: str, execution: str) -> dict[str, Any]:
        """The execution's outputs as the server answers them (retried through injected faults)."""
        for _ in range(30):
            try:
                answer = httpx.get(
                    f"{self.url}/cloudapi/workflows/{workflow}/executions/{execution}",
                    headers=self._headers(),
                    timeout=10,
                )
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                return {p["name"]: _decoded(p.get("value")) for p in answer.json()["outputParameters"]}
            if answer.status_code == 401:
                self._token = None
        raise AssertionError(f"the emulator never answered for execution {execution}")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": f"application/json;version={API_VERSION}"}
        if self._token is None:
            answer = httpx.post(
                f"{self.url}/cloudapi/1.0.0/sessions/provider", auth=("admin@System", PASSWORD), headers=headers
            )
            self._token = answer.headers["x-vmware-vcloud-access-token"]
        return {**headers, "Authorization": f"Bearer {self._token}"}


def _decoded(value: Any) -> Any:
    """The plain value of a WsParameter value, in either format (``{"inputType": "string", "value": "x"}``
    or ``{"string": {"value": "x"}}``)."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, dict) and "value" in inner:
            return inner["value"]
    return value


def start_emulator(catalog: Path, *extra: str) -> Emulator:
    process = subprocess.Popen(
        [CLI, "emulator", "--port", "0", "--catalog", str(catalog), *extra],
        env=environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr
    threading.Thread(target=_pump, args=(stderr, lines), daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith("listening on "):
            return Emulator(line.removeprefix("listening on ").strip(), process)
    stop(process)
    raise RuntimeError("the emulator did not announce itself")


# --- stacks ----------------------------------------------------------------------------------------


def run_doc(name: str, workflow: str, parameters: Mapping[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "reconciler/v1",
        "kind": "WorkflowRun",
        "metadata": {"name": name},
        "spec": {"workflow": workflow, "parameters": dict(parameters), **spec},
    }


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
                    "auth": {"username": "admin", "passwordFrom": {"env": "TORTURE_VCD_PASSWORD"}},
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
            sep = "&" if "?" in PG_DSN else "?"
            env["TORTURE_PG_DSN"] = f"{PG_DSN}{sep}application_name={self.app(tag)}"
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
        done = subprocess.run(
            [CLI, *args],
            cwd=self.root,
            env=environ(self._env(tag, env)),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
        )
        return no_traceback(Result(list(args), done.returncode, done.stdout, done.stderr))

    def popen(
        self,
        args: Sequence[str],
        *,
        tag: str = "bg",
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> subprocess.Popen[str]:
        """``reconciler ARGS`` started in the background (its own session), under ``prefix`` if any."""
        return subprocess.Popen(
            [*prefix, CLI, *args],
            cwd=self.root,
            env=environ(self._env(tag, env)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def state(self) -> dict[str, Any]:
        result = self.cli(["state", "pull"])
        assert result.code == 0, str(result)
        return dict(result.json())

    def outputs(self) -> dict[str, dict[str, Any]]:
        result = self.cli(["output", "--json"])
        assert result.code == 0, str(result)
        return dict(result.json())


def new_workspace() -> str:
    return uuid.uuid4().hex[:12]


def drop_workspace(workspace: str) -> None:
    """Remove one test's rows (its own workspace only) from the backend's tables."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT to_regclass('reconciler.states') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return
        for table in ("runs", "states", "locks"):
            conn.execute(f"DELETE FROM reconciler.{table} WHERE workspace = %s", [workspace])


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


def _pump(pipe: Iterable[str], lines: queue.Queue[str]) -> None:
    """Put each line read from ``pipe`` into ``lines`` (run in a daemon thread)."""
    for line in pipe:
        lines.put(line)
