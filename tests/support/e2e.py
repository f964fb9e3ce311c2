"""End-to-end helpers: the CLI as a subprocess against the emulator as a subprocess, on 127.0.0.1.

- `CATALOG`: a small catalog with short durations; `ECHO`, `SLOW`... name its workflows.
- `start_emulator` starts ``reconciler emulator --port 0 --catalog FILE`` and reads the "listening on"
  line from its stderr; `Emulator` is the server's own view (starts, executions, faults, outputs).
- `Stack` is a stack folder (``reconciler.yaml`` + ``manifests/``) pointed at that emulator.
- `run_cli` runs ``reconciler ARGS``, bounded in time, and asserts that no traceback reached the user;
  `start_cli` starts it in the background, `wait_until` / `wait_while_running` poll a condition while
  it runs, `finish` waits for it (bounded) and `stop` kills it.

The torture suite builds on these (``tests/support/torture.py``). The fixtures are in
``tests/support/fixtures.py`` (emulators, PostgreSQL workspaces) and ``tests/e2e/conftest.py`` (stacks).
"""

from __future__ import annotations

import functools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.forking import ForkServer, needs_fresh_interpreter

CLI = str(Path(sys.executable).with_name("reconciler"))
ECHO = "00000000-0000-4000-8000-00000000e001"  # name, note -> id (from name only), shout
SLOW = "00000000-0000-4000-8000-00000000e002"  # name -> done; hangs when name starts with "stuck"
FAILS = "00000000-0000-4000-8000-00000000e003"  # name -> ok; fails when name starts with "bad"
SECRET = "00000000-0000-4000-8000-00000000e004"  # name, password (SecureString) -> token (SecureString), id
READS = "00000000-0000-4000-8000-00000000e005"  # upstream (string) -> seen
LONG = "00000000-0000-4000-8000-00000000e006"  # name -> done, after 2.5 s
PASSWORD = "e2e-pw"
API_VERSION = "37.2"

CATALOG: dict[str, Any] = {
    "apiVersions": ["37.1", "37.2"],
    "workflows": [
        {
            "id": ECHO,
            "name": "Echo",
            "inputs": [
                {"name": "name", "type": "string"},
                {"name": "note", "type": "string", "required": False, "default": ""},
            ],
            "outputs": [
                {"name": "id", "type": "string", "template": "id-${inputs.name|hash:8}"},
                {"name": "shout", "type": "string", "template": "${inputs.name|upper}"},
            ],
            "duration": 0.2,
            "initializing": 0.05,
        },
        {
            "id": SLOW,
            "name": "Slow",
            "inputs": [{"name": "name", "type": "string"}],
            "outputs": [{"name": "done", "type": "string", "template": "done-${inputs.name}"}],
            "duration": 0.3,
            "initializing": 0.05,
            "hangWhen": [{"input": "name", "matches": "^stuck"}],
        },
        {
            "id": FAILS,
            "name": "Maybe fails",
            "inputs": [{"name": "name", "type": "string"}],
            "outputs": [{"name": "ok", "type": "string", "template": "ok-${inputs.name}"}],
            "duration": 0.2,
            "initializing": 0.05,
            "failWhen": [{"input": "name", "matches": "^bad", "message": "refused ${inputs.name}: quota exceeded"}],
        },
        {
            "id": SECRET,
            "name": "With secret",
            "inputs": [{"name": "name", "type": "string"}, {"name": "password", "type": "SecureString"}],
            "outputs": [
                {"name": "id", "type": "string", "template": "sec-${inputs.name|hash:8}"},
                {"name": "token", "type": "SecureString", "template": "tok-${inputs|hash:24}"},
            ],
            "duration": 0.2,
            "initializing": 0.05,
        },
        {
            "id": READS,
            "name": "Reads",
            "inputs": [{"name": "upstream", "type": "string"}],
            "outputs": [{"name": "seen", "type": "string", "template": "seen-${inputs.upstream}"}],
            "duration": 0.2,
            "initializing": 0.05,
        },
        {
            "id": LONG,
            "name": "Long",
            "inputs": [{"name": "name", "type": "string"}],
            "outputs": [{"name": "done", "type": "string", "template": "long-${inputs.name}"}],
            "duration": 2.5,
            "initializing": 0.05,
        },
    ],
    "users": [{"name": "admin", "org": "System", "password": PASSWORD}],
}


def run_doc(name: str, workflow: str, parameters: Mapping[str, Any], **spec: Any) -> dict[str, Any]:
    """One WorkflowRun manifest document."""
    return {
        "apiVersion": "reconciler/v1",
        "kind": "WorkflowRun",
        "metadata": {"name": name},
        "spec": {"workflow": workflow, "parameters": dict(parameters), **spec},
    }


@dataclass
class Result:
    """What a finished ``reconciler ARGS`` printed; its ``str`` ends with the last 4,000 characters of
    each stream (a torture apply prints hundreds of lines)."""

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
        return (
            f"reconciler {' '.join(self.args)} -> {self.code}\n"
            f"--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"
        )


def no_traceback(result: Result) -> Result:
    """``result``, once checked that no traceback reached the user."""
    assert "Traceback" not in result.text, str(result)
    return result


@dataclass
class Emulator:
    """An emulator subprocess and the server's own view of what it did (the tests' judge)."""

    url: str
    process: subprocess.Popen[str]
    _token: str | None = None

    def admin(self, what: str) -> Any:
        return httpx.get(f"{self.url}/_emulator/{what}", timeout=10).json()

    def starts(self) -> list[dict[str, Any]]:
        return list(self.admin("starts"))

    def starts_per_name(self) -> Counter[str]:
        """How many starts the server accepted per ``name`` input."""
        return Counter(s["inputs"]["name"] for s in self.starts())

    def executions(self) -> dict[str, dict[str, Any]]:
        return {e["executionId"]: e for e in self.admin("executions")}

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


@dataclass
class Stack:
    """A stack folder: ``reconciler.yaml``, ``manifests/runs.yaml``, and the environment to run in."""

    root: Path
    url: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_path(self) -> Path:
        return self.root / "reconciler.state.json"

    def write_stack(self, parallelism: int = 10, request_timeout: float | None = None, **extra_spec: Any) -> None:
        """``request_timeout`` short for tests that crash an apply: the next one waits that long
        before taking an unanswered start of the dead one as never sent (fencing)."""
        doc: dict[str, Any] = {
            "apiVersion": "reconciler/v1",
            "kind": "Stack",
            "metadata": {"name": "e2e"},
            "spec": {
                "endpoint": {
                    "url": self.url,
                    "apiVersion": "37.2",
                    "org": "System",
                    "auth": {"username": "admin", "passwordFrom": {"env": "E2E_VCD_PASSWORD"}},
                },
                "backend": {"type": "local", "path": "reconciler.state.json"},
                "manifests": ["manifests"],
                "parallelism": parallelism,
                **extra_spec,
            },
        }
        if request_timeout is not None:
            doc["spec"]["endpoint"]["requestTimeout"] = request_timeout
        (self.root / "reconciler.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def write_runs(self, docs: Sequence[Mapping[str, Any]], file: str = "runs.yaml") -> None:
        folder = self.root / "manifests"
        folder.mkdir(exist_ok=True)
        (folder / file).write_text(yaml.safe_dump_all(list(docs), sort_keys=False), encoding="utf-8")

    def state(self) -> dict[str, Any]:
        """The state as stored, journal replayed (``state pull``)."""
        result = self.cli(["state", "pull"])
        assert result.code == 0, result
        return dict(result.json())

    def cli(self, args: Sequence[str], **kwargs: Any) -> Result:
        return run_cli(args, env=self.env, cwd=self.root, **kwargs)

    def on_a_terminal(self, args: Sequence[str], answer: str, timeout: float = 60) -> Result:
        """``reconciler ARGS`` with a terminal as its standard input (so that it asks), answered with
        ``answer``; stdout and stderr are pipes, as when a person's answer is logged."""
        primary, secondary = os.openpty()
        try:
            process = subprocess.Popen(
                [CLI, *args],
                cwd=self.root,
                env=environ(self.env),
                stdin=secondary,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            os.close(secondary)
            os.write(primary, answer.encode())
            try:
                out, err = process.communicate(timeout=timeout)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        finally:
            os.close(primary)
        result = Result(list(args), process.returncode, out, err)
        assert "Traceback" not in err and "Traceback" not in out, str(result)
        return result

    def popen(self, args: Sequence[str]) -> subprocess.Popen[str]:
        return start_cli(args, env=self.env, cwd=self.root)


def environ(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update({"NO_COLOR": "1", "E2E_VCD_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 60,
    stdin: str | None = None,
) -> Result:
    """``reconciler ARGS`` as a separate process (forked from this worker's fork server, or a fresh
    interpreter: ``tests/support/forking.py`` says when); no traceback may reach the user."""
    full_env = environ(env)
    if needs_fresh_interpreter():
        done = subprocess.run(
            [CLI, *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin if stdin is not None else "",
        )
        return no_traceback(Result(list(args), done.returncode, done.stdout, done.stderr))
    code, out, err = _FORKS.run(args, full_env, None if cwd is None else str(cwd), stdin or "", timeout)
    return no_traceback(Result(list(args), code, out, err))


_FORKS = ForkServer()


def cli_for_scripts() -> str:
    """The ``reconciler`` executable for what starts it by itself (a CI step's script, a tool's
    subprocess): the fork server's shim (``tests/support/forking.py``), or the venv's own when
    ``RECONCILER_TEST_FRESH_CLI=1``."""
    return CLI if needs_fresh_interpreter() else _FORKS.shim()


def start_cli(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | str | None = None, prefix: Sequence[str] = ()
) -> subprocess.Popen[str]:
    """``reconciler ARGS`` started in the background in its own session (`stop` kills the session),
    under ``prefix`` if any (``setpriv ... --``); stdout and stderr piped, no stdin. Forked from the
    fork server unless it runs under a prefix or needs a fresh interpreter."""
    full_env = environ(env)
    if not prefix and not needs_fresh_interpreter():
        return _FORKS.popen(args, full_env, None if cwd is None else str(cwd))
    return subprocess.Popen(
        [*prefix, CLI, *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def start_emulator(catalog: Path, *extra: str) -> Emulator:
    args = ["emulator", "--port", "0", "--catalog", str(catalog), *extra]
    if needs_fresh_interpreter():
        process: subprocess.Popen[str] = subprocess.Popen(
            [CLI, *args],
            env=environ(None),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    else:
        process = _FORKS.popen(args, environ(None), None, stdout=False)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr
    threading.Thread(target=pump, args=(stderr, lines), daemon=True).start()
    deadline = time.monotonic() + 20  # the emulator imports in under a second; a loaded machine is slower
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


def stop(process: subprocess.Popen[str]) -> None:
    """Kill a process started by a test and reap it: SIGCONT (it may be frozen) then SIGKILL to its own
    session (``start_new_session=True``), or to the process alone when it leads no process group."""
    if process.poll() is None:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                if os.getpgid(process.pid) == process.pid:
                    os.killpg(process.pid, sig)
                else:
                    process.send_signal(sig)
            except ProcessLookupError:
                pass
    try:
        process.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):
        pass


def finish(process: subprocess.Popen[str], args: Sequence[str], timeout: float = 60) -> Result:
    """Wait for a started CLI (bounded; killed if it overstays, then an AssertionError); its Result."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise AssertionError(f"reconciler {' '.join(args)} still running after {timeout:.0f} s") from None
    return Result(list(args), process.returncode, out, err)


def wait_until(
    condition: Callable[[], bool], timeout: float = 60, process: subprocess.Popen[str] | None = None
) -> bool:
    """Poll ``condition`` every 20 ms until true (True), ``timeout`` passed or ``process`` ended (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            return condition()
        time.sleep(0.02)
    return False


def wait_while_running(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 30) -> None:
    """`wait_until` ``condition`` while ``process`` runs; fails with the process's output if it ended
    first, or when ``timeout`` passed."""
    if wait_until(condition, timeout, process):
        return
    if process.poll() is not None:
        out, err = process.communicate()
        raise AssertionError(
            f"the process ended (exit {process.returncode}) before the condition was met:\n{out}\n{err}"
        )
    raise AssertionError(f"condition not met in {timeout:g} s")


def can_mount() -> bool:
    probe = Path(f"/tmp/reconciler-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "--bind", str(probe), str(probe)], capture_output=True, timeout=10)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True, timeout=10)
        return True
    except OSError:
        return False
    finally:
        probe.rmdir()


def bind_read_only(folder: Path, holding: int | None = None) -> None:
    """Bind-mount ``folder`` on itself, read-only (root only; the caller unmounts it). ``holding``: the
    process group to stop meanwhile, since the read-only remount fails (EBUSY) if a file is opened
    for writing through the new bind mount between the two calls."""
    if holding is not None:
        os.killpg(holding, signal.SIGSTOP)
    try:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True, timeout=10)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, timeout=10)
        except BaseException:
            subprocess.run(["umount", str(folder)], capture_output=True, timeout=10)
            raise
    finally:
        if holding is not None:
            os.killpg(holding, signal.SIGCONT)


class ReadOnly:
    """Turns a folder read-only: ``chmod a-w`` (folder and files) when not root; as root (whom chmod
    does not stop) a read-only bind mount of the folder on itself, or the test is skipped."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], object]] = []

    def make(self, folder: Path, holding: subprocess.Popen[str] | None = None) -> str:
        """Make ``folder`` read-only; the error the OS will give. ``holding`` (a process started in its
        own session) is stopped during the mount: the read-only remount fails (EBUSY) if it opens a
        file for writing through the new bind mount in between."""
        if os.geteuid() != 0:
            for item in [*folder.iterdir(), folder]:
                mode = item.stat().st_mode
                item.chmod(mode & ~0o222)
                self.undo.append(functools.partial(item.chmod, mode))
            return "Permission denied"
        bind_read_only(folder, holding.pid if holding is not None else None)
        self.undo.append(lambda: subprocess.run(["umount", str(folder)], check=True, timeout=10))
        return "Read-only file system"

    def restore(self) -> None:
        while self.undo:
            self.undo.pop()()


def pump(pipe: Iterable[str], lines: queue.Queue[str]) -> None:
    """Put each line read from ``pipe`` into ``lines`` (run in a daemon thread)."""
    for line in pipe:
        lines.put(line)
