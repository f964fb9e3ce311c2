"""Parsing the manifests on a second core while this process does something else.

YAML parsing is the largest single cost of ``plan`` on a large stack (10,000 runs: ~0.35 s of
composing node trees in libyaml and PyYAML). `ParsingAhead` forks one worker that parses files while
this process goes on: it reads the state, then parses files too. Both take files from one queue, a
pipe holding the file numbers (a read of a few bytes from a pipe is atomic, so every file is taken
by exactly one of them): whoever is faster takes more, and a worker that is slow to start, or finds
the other core busy, costs little. The worker sends back only plain data (`parse_data`: what the
documents hold and the problems found, pickled); a document it parsed gets its node tree again,
from its text, only if a problem or a location needs it.

Only on Linux (``os.fork``), with at least two usable cores, for manifests of at least
`MIN_BYTES`, and while this process runs no other thread (forking a process with threads can copy
a lock that another thread holds). ``RECONCILER_PARSE_AHEAD=0`` turns it off. Whatever happens to
the worker (it fails, is killed, sends something unreadable), this process parses what the worker
did not deliver: the result is always that of parsing every file here, in the same order.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from yaml.nodes import Node

from reconciler.errors import Problem
from reconciler.manifest.parsing import Document, parse_data, parse_documents

MIN_BYTES = 256 * 1024
_TICKET = 4  # bytes per queue entry: a chunk number, little-endian
_MAX_TICKETS = 8192  # 32 KiB of tickets: written before the fork, they must fit in the pipe at once
_READ = 1 << 20

Parsed = tuple[list[Any], list[Problem]]  # a file's documents' data and its problems, as the worker sends them


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether this machine and process can parse on a second core (and the user did not say no)."""
    if environ.get("RECONCILER_PARSE_AHEAD", "1").strip() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) >= 2 and threading.active_count() == 1


class ParsingAhead:
    """The manifest files, being parsed by a worker as well as by this process.

    Use it as a context manager (the worker is always stopped and reaped on leaving) and pass
    `documents` to the loader where it would parse a file.
    """

    def __init__(self, files: Sequence[tuple[str, str]], *, fork: bool, min_bytes: int = MIN_BYTES) -> None:
        self._files = list(files)
        self._index = {path: i for i, (path, _) in enumerate(self._files)}
        self._parsed: dict[int, tuple[list[Document], list[Problem]]] = {}
        self._worker: _Worker | None = None
        self._finished = False
        if fork and len(self._files) > 1 and sum(len(text) for _, text in self._files) >= min_bytes:
            self._worker = _Worker.start(self._files)

    def __enter__(self) -> ParsingAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    @property
    def files(self) -> list[tuple[str, str]]:
        return self._files

    @property
    def forked(self) -> bool:
        return self._worker is not None

    def documents(self, path: str, text: str, problems: list[Problem]) -> list[Document]:
        """The documents of one file and its problems (appended), as `parse_documents` gives them."""
        self._finish()
        i = self._index.get(path)
        done = self._parsed.pop(i, None) if i is not None and self._files[i][1] == text else None
        if done is None:
            return parse_documents(path, text, problems)
        documents, found = done
        problems.extend(found)
        return documents

    def _finish(self) -> None:
        """Parse what is left in the queue here, then take the worker's files (once)."""
        if self._finished:
            return
        self._finished = True
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            while taken := worker.take():  # one chunk at a time: the worker goes on taking too
                for i in taken:
                    self._parsed[i] = self._here(i)
            for i, (data, found) in worker.results().items():
                path, text = self._files[i]
                self._parsed[i] = ([Document(path, text, item, n) for n, item in enumerate(data)], found)
        finally:
            worker.stop()

    def _here(self, i: int) -> tuple[list[Document], list[Problem]]:
        problems: list[Problem] = []
        documents = parse_documents(*self._files[i], problems)
        return documents, problems


class _Worker:
    """A forked process parsing files from the queue and sending back what it parsed."""

    def __init__(self, pid: int, tickets: int, results: int, chunk: int, count: int) -> None:
        self.pid = pid
        self.tickets = tickets
        self.results_fd = results
        self.chunk = chunk
        self.count = count

    @classmethod
    def start(cls, files: list[tuple[str, str]]) -> _Worker:
        chunk = -(-len(files) // _MAX_TICKETS)
        queue_read, queue_write = os.pipe()
        try:
            tickets = range(-(-len(files) // chunk))
            os.write(queue_write, b"".join(n.to_bytes(_TICKET, "little") for n in tickets))
        finally:
            os.close(queue_write)  # once the queue is empty, a read gives b"" in both processes
        results_read, results_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(results_read)
            _serve(files, queue_read, results_write, chunk)
        os.close(results_write)
        return cls(pid, queue_read, results_read, chunk, len(files))

    def take(self) -> range:
        """The next chunk of files from the queue for this process to parse (empty at the end)."""
        ticket = os.read(self.tickets, _TICKET)
        if not ticket:
            return range(0)
        first = int.from_bytes(ticket, "little") * self.chunk
        return range(first, min(first + self.chunk, self.count))

    def results(self) -> dict[int, Parsed]:
        """What the worker parsed; empty if it failed (the caller then parses those files itself)."""
        chunks: list[bytes] = []
        while block := os.read(self.results_fd, _READ):
            chunks.append(block)
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return {}
        try:
            parsed: dict[int, Parsed] = pickle.loads(b"".join(chunks))
        except Exception:  # a truncated or garbled answer: parse those files here
            return {}
        return parsed

    def stop(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0
        for fd in (self.tickets, self.results_fd):
            if fd >= 0:
                os.close(fd)
        self.tickets = self.results_fd = -1


def _serve(files: list[tuple[str, str]], queue: int, out: int, chunk: int) -> None:
    """The worker's whole life: parse files from the queue, send them, and exit without cleanup
    (``os._exit``: no atexit handler, buffered output or finalizer of the parent's runs here)."""
    code = 1
    try:
        for number in (signal.SIGINT, signal.SIGTERM):  # end at once, not in the parent's handlers
            signal.signal(number, signal.SIG_DFL)
        parsed: dict[int, Parsed] = {}
        kept: list[Node] = []
        while ticket := os.read(queue, _TICKET):
            first = int.from_bytes(ticket, "little") * chunk
            for i in range(first, min(first + chunk, len(files))):
                parsed[i] = parse_data(*files[i], kept)
        view = memoryview(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
        while view:
            view = view[os.write(out, view) :]
        code = 0
    finally:
        os._exit(code)
