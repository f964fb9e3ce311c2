"""Parsing the manifests on a second core while this process reads the state and builds the runs.

YAML parsing is the largest single cost of ``plan`` on a large stack (10,000 runs: ~0.35 s of
composing node trees in libyaml and PyYAML), and building the desired runs from what was parsed is
the next. `ParsingAhead` makes them a pipeline: a worker process (`parsing_worker`) parses the
files in order and sends each one back as soon as it is parsed, while this process reads the state
and then, file by file, builds runs from what has arrived. Work is taken from one queue, a pipe
holding the file numbers (a read of a few bytes from a pipe is atomic, so every file is taken by
exactly one of the two): when the next file this process needs has not arrived yet, it parses one
from the queue itself instead of waiting, so a worker that is slow to start, or finds the other core
busy, costs little.

The worker sends only plain data (`parse_data`: what the documents hold and the problems found,
pickled); a document it parsed composes its node tree again, from its text, only when a problem or
a location needs it. It writes without blocking into a backlog of its own, so it goes on parsing
while this process is busy elsewhere (reading the state) and not reading the pipe.

Only on POSIX systems with at least two usable cores, and for manifests of at least `MIN_BYTES`;
``RECONCILER_PARSE_AHEAD=0`` turns it off. Whatever happens to the worker (it cannot start, fails,
is killed, sends something unreadable), this process parses what did not arrive: the result is
always that of parsing every file here, in the same order.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import select
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import BinaryIO

from reconciler.errors import Problem
from reconciler.manifest.parsing import Document, parse_documents
from reconciler.operations.parsing_worker import HEADER, TICKET, Message

MIN_BYTES = 256 * 1024
WORKER_MODULE = "reconciler.operations.parsing_worker"
_MAXTICKETS = 8192  # 32 KiB of tickets: written before the worker starts, they must fit in the pipe
_READ = 1 << 20
_PIPE_SIZE = 1 << 20  # asked of the kernel for the results pipe (fewer, larger writes)

Parsed = tuple[list[Document], list[Problem]]


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether this machine and process can parse on a second core (and the user did not say no)."""
    if environ.get("RECONCILER_PARSE_AHEAD", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if os.name != "posix":  # the worker is handed its pipes by descriptor number
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores >= 2


class ParsingAhead:
    """The manifest files, being parsed by a worker as well as by this process.

    Use it as a context manager (the worker is always stopped and reaped on leaving) and pass
    `documents` to the loader where it would parse a file.
    """

    def __init__(self, files: Sequence[tuple[str, str]], *, worker: bool, min_bytes: int = MIN_BYTES) -> None:
        self._files = list(files)
        self._index = {path: i for i, (path, _) in enumerate(self._files)}
        self._parsed: dict[int, Parsed] = {}
        self._worker: _Worker | None = None
        if worker and len(self._files) > 1 and sum(len(text) for _, text in self._files) >= min_bytes:
            self._worker = _Worker.start(self._files)

    def __enter__(self) -> ParsingAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    @property
    def files(self) -> list[tuple[str, str]]:
        return self._files

    @property
    def has_worker(self) -> bool:
        return self._worker is not None

    def documents(self, path: str, text: str, problems: list[Problem]) -> list[Document]:
        """The documents of one file and its problems (appended), as `parse_documents` gives them."""
        i = self._index.get(path)
        if i is None or self._files[i][1] != text:  # not one of the files given
            return parse_documents(path, text, problems)
        done = self._parsed.pop(i, None) or self._wait_for(i)
        documents, found = done
        problems.extend(found)
        return documents

    def _wait_for(self, i: int) -> Parsed:
        """File ``i``: from the worker when it has it, parsing others from the queue meanwhile."""
        while self._worker is not None:
            try:
                self._receive(wait=False)
                if i in self._parsed:
                    return self._parsed.pop(i)
                taken = self._worker.take()
                if taken:
                    for j in taken:
                        self._parsed[j] = self._here(j)
                elif not self._receive(wait=True):
                    self._stop()  # the worker is done (or died): what it did not send is parsed here
            except _WorkerFailed:
                self._stop()
        return self._parsed.pop(i, None) or self._here(i)

    def _receive(self, *, wait: bool) -> bool:
        """Take what the worker sent (waiting for more when ``wait``); False once it sends no more."""
        assert self._worker is not None
        more = self._worker.read(wait=wait)
        for j, data, found in self._worker.messages():
            path, text = self._files[j]
            self._parsed[j] = ([Document(path, text, item, n) for n, item in enumerate(data)], found)
        return more

    def _here(self, i: int) -> Parsed:
        problems: list[Problem] = []
        documents = parse_documents(*self._files[i], problems)
        return documents, problems

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None


class _WorkerFailed(Exception):
    """The worker sent something that is not a message."""


class _Worker:
    """A worker process parsing files from the queue and sending each back as it is done."""

    def __init__(self, process: subprocess.Popen[bytes], tickets: int, results: int, chunk: int, count: int) -> None:
        self.process = process
        self.pid = process.pid
        self.tickets = tickets
        self.results = results
        self.chunk = chunk
        self.count = count
        self.buffer = bytearray()

    @classmethod
    def start(cls, files: list[tuple[str, str]]) -> _Worker:
        chunk = -(-len(files) // _MAXTICKETS)
        queue_read, queue_write = os.pipe()
        try:
            tickets = range(-(-len(files) // chunk))
            os.write(queue_write, b"".join(n.to_bytes(TICKET, "little") for n in tickets))
        finally:
            os.close(queue_write)  # once the queue is empty, a read gives b"" in both processes
        results_read, results_write = os.pipe()
        try:
            fcntl.fcntl(results_write, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
        except OSError:
            pass  # not Linux, or a lower limit: the default size works, with more writes
        try:
            with _texts(files) as texts:
                process = subprocess.Popen(
                    [sys.executable, "-m", WORKER_MODULE, str(queue_read), str(results_write), str(chunk)],
                    stdin=texts,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(queue_read, results_write),
                )
        except BaseException:
            os.close(queue_read)
            os.close(results_read)
            raise
        finally:
            os.close(results_write)
        return cls(process, queue_read, results_read, chunk, len(files))

    def take(self) -> range:
        """The next chunk of files from the queue for this process to parse (empty at the end)."""
        ticket = os.read(self.tickets, TICKET)
        if not ticket:
            return range(0)
        first = int.from_bytes(ticket, "little") * self.chunk
        return range(first, min(first + self.chunk, self.count))

    def read(self, *, wait: bool) -> bool:
        """Read what the pipe holds (when ``wait``, block until something); False at its end."""
        if not wait and not select.select([self.results], [], [], 0)[0]:
            return True
        block = os.read(self.results, _READ)
        self.buffer += block
        return bool(block)

    def messages(self) -> list[Message]:
        """The whole messages read so far (a message cut short stays in the buffer)."""
        found: list[Message] = []
        buffer, start = self.buffer, 0
        while len(buffer) - start >= HEADER:
            end = start + HEADER + int.from_bytes(buffer[start : start + HEADER], "little")
            if end > len(buffer):
                break
            try:
                found.append(pickle.loads(buffer[start + HEADER : end]))
            except Exception as exc:  # a garbled answer: parse those files here
                raise _WorkerFailed from exc
            start = end
        del buffer[:start]
        return found

    def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            self.process.wait()
        for fd in (self.tickets, self.results):
            if fd >= 0:
                os.close(fd)
        self.tickets = self.results = -1


def _texts(files: list[tuple[str, str]]) -> BinaryIO:
    """The files, pickled, in an anonymous in-memory file: the worker's stdin (written before it
    starts, so this process never waits for the worker to read)."""
    if hasattr(os, "memfd_create"):
        handle: BinaryIO = os.fdopen(os.memfd_create("reconciler-manifests"), "w+b")
    else:
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - the caller's `with` closes it
    pickle.dump(files, handle, protocol=pickle.HIGHEST_PROTOCOL)
    handle.seek(0)
    return handle
