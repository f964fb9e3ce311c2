"""The CLI as a forked process: ``reconciler ARGS`` without paying the interpreter's start and imports.

`run_cli` (``tests/support/e2e.py``) runs several hundred short commands in a `make test`; each fresh
interpreter spends ~0.15-0.2 s of CPU importing the package and its libraries before doing anything,
more than most of those commands then take. So each pytest worker starts one server process
(``python -m tests.support.forking``) that imports the whole package once, and forks one child per
command. The child is a separate process, as with ``subprocess.run``:

- its own stdin, stdout and stderr (pipes made by the caller, passed over a Unix socket), working
  folder, environment (the caller's, whole) and ``sys.argv``;
- ``reconciler.cli.app.main()`` runs as the console script runs it; the exit status is the child's
  own (``waitpid``), a traceback is printed the way the interpreter prints one, non-daemon threads
  are joined and ``atexit`` functions run before the child exits;
- a timeout kills it (SIGKILL) and raises `subprocess.TimeoutExpired`, as ``subprocess.run`` does.

What a forked child does not do that a fresh interpreter does: read the environment at import time
(no module of the package does; `reconciler.killpoints` reads ``RECONCILER_KILL_AT`` at its first
use) and import anything. What a fresh interpreter imports, and how long that takes, is tested on fresh
interpreters (``tests/guards``), never here. ``RECONCILER_TEST_FRESH_CLI=1`` in the tests' environment
runs every command as a fresh interpreter instead (`needs_fresh_interpreter`).

Scripts that start ``reconciler`` themselves (the CI pipelines' steps) find `ForkServer.shim` first on
their PATH: a small ``python -SE`` that hands its own stdin, stdout and stderr to a forked child.

Protocol, one connection per command (``SOCK_SEQPACKET``, so each message arrives whole): the caller
sends ``{"args", "env", "cwd"}`` as JSON with three descriptors (stdin's read end, stdout's and
stderr's write ends); the server answers ``{"pid"}`` once forked and ``{"status"}`` (``waitpid``'s)
once the child ended. The server is single-threaded (forking a threaded process is unsafe): one
selector over its socket, the connections and a pidfd per child. It exits when its stdin (a pipe from
the pytest worker) closes, so it never outlives the worker.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_MESSAGE = 1 << 20  # the largest request (an environment is a few KB)
_CHILD_FAILED = 70  # the child could not even start the CLI (an unusual exit status, EX_SOFTWARE)


def needs_fresh_interpreter() -> bool:
    """Whether commands run as fresh interpreters rather than forks of the server."""
    return os.environ.get("RECONCILER_TEST_FRESH_CLI") == "1"


class ForkServer:
    """The pytest worker's side: starts the server on first use and runs commands through it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._folder = tempfile.mkdtemp(prefix="reconciler-forks-")
        self._address = str(Path(self._folder) / "socket")

    def _started(self) -> str:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                root = Path(__file__).resolve().parents[2]
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "tests.support.forking", self._address],
                    cwd=root,
                    stdin=subprocess.PIPE,  # the lifeline: closed when this process ends
                    stdout=subprocess.PIPE,
                )
                assert self._process.stdout is not None
                if self._process.stdout.readline().strip() != b"ready":
                    raise RuntimeError("the CLI fork server did not start")
                atexit.register(self.close)
        return self._address

    def shim(self) -> str:
        """The path of an executable ``reconciler`` that runs its command through this server, for
        commands that scripts start (the CI pipelines' steps): a ``python -SE`` (no site, no PYTHON* variables) that passes its own
        stdin, stdout and stderr to a forked child, forwards SIGINT and SIGTERM to it, and ends as the
        child ended (its exit status, or the same signal)."""
        address = self._started()
        path = Path(self._folder) / "bin" / "reconciler"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text(_SHIM.format(python=sys.executable, address=address, message=_MESSAGE), encoding="utf-8")
            path.chmod(0o755)
        return str(path)

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
                self._process.wait(timeout=10)

    def run(
        self, args: Sequence[str], env: Mapping[str, str], cwd: str | None, stdin: str, timeout: float
    ) -> tuple[int, str, str]:
        """``reconciler ARGS`` in a forked child, as ``subprocess.run`` runs it: (exit code, stdout,
        stderr); `subprocess.TimeoutExpired` after ``timeout`` seconds (the child killed)."""
        process = self.popen(args, env, cwd, stdin=stdin, session=False)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=10)
            raise subprocess.TimeoutExpired(["reconciler", *args], timeout) from None
        return process.wait(), out, err

    def popen(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None,
        *,
        stdin: str | None = None,
        stdout: bool = True,
        session: bool = True,
    ) -> subprocess.Popen[str]:
        """``reconciler ARGS`` started in a forked child, as ``subprocess.Popen(..., stdin=DEVNULL or
        PIPE, stdout=PIPE or DEVNULL, stderr=PIPE, text=True, start_new_session=session)`` starts it:
        the object returned is one (`Forked`). ``stdin``, if given, is written whole and closed; it fits
        in a pipe's buffer (64 KiB on Linux; the tests answer prompts with a few bytes), so writing it
        never waits."""
        if stdin is not None and len(stdin.encode()) > 65536:
            raise ValueError("stdin larger than a pipe's buffer: run the command as a fresh interpreter")
        address = self._started()
        in_r, in_w = os.pipe() if stdin is not None else (os.open(os.devnull, os.O_RDONLY), -1)
        out_r, out_w = os.pipe() if stdout else (-1, os.open(os.devnull, os.O_WRONLY))
        err_r, err_w = os.pipe()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            if stdin is not None:
                with open(in_w, "wb", closefd=False) as pipe:
                    pipe.write(stdin.encode())
            conn.connect(address)
            request = {"args": list(args), "env": dict(env), "cwd": cwd or os.getcwd(), "session": session}
            socket.send_fds(conn, [json.dumps(request).encode()], [in_r, out_w, err_w])
            pid = json.loads(conn.recv(_MESSAGE))["pid"]
        except BaseException:
            conn.close()
            for fd in (out_r, err_r):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            for fd in (in_r, in_w, out_w, err_w):
                if fd >= 0:
                    os.close(fd)
        return Forked([CLI_NAME, *args], pid, conn, out_r, err_r)


CLI_NAME = "reconciler"


class Forked(subprocess.Popen[str]):
    """A forked command, as a `subprocess.Popen` (text mode): ``pid``, ``stdout``/``stderr`` (pipes, or
    ``None``), `poll`, `wait`, `communicate`, `send_signal` and friends. Its exit status comes from the
    server (which reaps it) over the command's connection."""

    def __init__(self, args: list[str], pid: int, conn: socket.socket, out_r: int, err_r: int) -> None:
        # Popen.__init__ would start a process: the attributes its other methods and __del__ read
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        self._child_created = False
        self._conn = conn
        self.stdin = None
        self.stdout = open(out_r, encoding="utf-8") if out_r >= 0 else None  # noqa: SIM115
        self.stderr = open(err_r, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        self.universal_newlines = True
        self.text_mode = True
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers: list[threading.Thread] | None = None

    def _status(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                message = self._conn.recv(_MESSAGE)
            except (TimeoutError, BlockingIOError):
                return None
            self.returncode = os.waitstatus_to_exitcode(json.loads(message)["status"]) if message else -9
            self._conn.close()
        return self.returncode

    def poll(self) -> int | None:
        return self._status(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._status(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        """Both pipes read to their end (by threads that outlive a timeout, as Popen's reads do), then
        the exit status; `subprocess.TimeoutExpired` (the process left running) after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._readers is None:
            pipes = [(pipe, sink) for pipe, sink in ((self.stdout, self._out), (self.stderr, self._err)) if pipe]
            self._readers = [threading.Thread(target=_drain, args=pipe, daemon=True) for pipe in pipes]
            for reader in self._readers:
                reader.start()
        for reader in self._readers:
            reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()) + 1)
        self._close_pipes()
        return "".join(self._out), "".join(self._err)

    def _close_pipes(self) -> None:
        for pipe in (self.stdout, self.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except (OSError, ValueError):  # being read by another thread at this moment
                    pass

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __del__(self) -> None:
        self._conn.close()
        self._close_pipes()


_SHIM = """#!{python} -SE
import json, os, signal, socket, sys

conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
conn.connect({address!r})
request = {{"args": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
pid = json.loads(conn.recv({message}))["pid"]
for forwarded in (signal.SIGINT, signal.SIGTERM):
    signal.signal(forwarded, lambda number, frame: os.kill(pid, number))
status = json.loads(conn.recv({message}))["status"]
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _drain(pipe: typing.IO[str], sink: list[str]) -> None:
    try:
        sink.append(pipe.read())
    except (OSError, ValueError):  # closed under the reader
        pass


# The server's side.


def _preload() -> None:
    """Import everything a command may import, so that no child imports anything."""
    import gc
    import importlib
    import pkgutil

    import reconciler
    from reconciler.cli.app import cli

    for module in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        if module.name != "reconciler.__main__":
            importlib.import_module(module.name)
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        cli.get_command(None, name)  # type: ignore[arg-type]
    gc.collect()
    gc.freeze()  # the children's copies of these pages stay shared


def serve(address: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(address)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "lifeline")
    children: dict[int, socket.socket] = {}  # pidfd -> the connection to answer
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in selector.select():
            if key.data == "lifeline":
                return
            if key.data == "accept":
                conn, _ = listener.accept()
                started = _fork(conn, listener, selector)
                if started is None:
                    conn.close()
                    continue
                pidfd, pid = started
                children[pidfd] = conn
                selector.register(pidfd, selectors.EVENT_READ, pid)
                _answer(conn, {"pid": pid})
                continue
            pidfd, pid = int(key.fd), int(key.data)
            selector.unregister(pidfd)
            os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            conn = children.pop(pidfd)
            _answer(conn, {"status": status})
            conn.close()


def _answer(conn: socket.socket, message: dict[str, Any]) -> None:
    try:
        conn.send(json.dumps(message).encode())
    except OSError:
        pass  # the caller gave up (a timeout); the child is reaped all the same


def _fork(conn: socket.socket, listener: socket.socket, selector: selectors.BaseSelector) -> tuple[int, int] | None:
    data, fds, _, _ = socket.recv_fds(conn, _MESSAGE, 3)
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None
    request = json.loads(data)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            selector.close()
            listener.close()
            conn.close()
            _child(request, fds)
        finally:
            os._exit(_CHILD_FAILED)
    for fd in fds:
        os.close(fd)
    return os.pidfd_open(pid), pid


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become ``reconciler ARGS`` and exit with its status."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    if request.get("session"):
        os.setsid()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _fresh_stdio()
    sys.argv = [str(Path(sys.executable).with_name("reconciler")), *request["args"]]
    code = 0
    try:
        from reconciler.cli.app import main

        main()
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:  # as the interpreter does with an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _fresh_stdio() -> None:
    """New ``sys.stdin/stdout/stderr`` on descriptors 0-2, set up as a fresh interpreter sets them up
    for pipes (``PYTHONIOENCODING`` and ``PYTHONUNBUFFERED`` from the new environment)."""
    import io

    encoding, _, errors = os.environ.get("PYTHONIOENCODING", "").partition(":")
    encoding = encoding or "utf-8"
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))

    def stream(fd: int, mode: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, mode, closefd=False)
        buffered: io.BufferedReader | io.BufferedWriter = (
            io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        )
        return io.TextIOWrapper(
            buffered, encoding=encoding, errors=errors, line_buffering=line_buffering, write_through=unbuffered
        )

    sys.stdin = stream(0, "r", errors or "strict", False)
    sys.stdout = stream(1, "w", errors or "strict", False)
    sys.stderr = stream(2, "w", "backslashreplace", True)


if __name__ == "__main__":
    serve(sys.argv[1])
