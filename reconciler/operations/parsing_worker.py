"""The parsing worker of `reconciler.operations.parsing_ahead`, run as its own interpreter:

    python -m reconciler.operations.parsing_worker QUEUE_FD RESULTS_FD CHUNK  < pickled files

A fresh process rather than a fork: a forked child shares every memory page with the process that
plans, and each page that process then writes is copied first (measured: reading a 13 MB state
took a third longer with a forked child alive). Starting an interpreter costs ~50 ms, spent while
the planning process reads the state. It imports only the YAML parser.

Protocol: stdin holds the pickled list of (path, text); QUEUE_FD is the read end of the shared queue
(TICKET-byte chunk numbers; a read gives b"" once it is empty); on RESULTS_FD goes one message per
file as soon as it is parsed: HEADER bytes of length, then the pickled `Message`.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from typing import Any

from yaml.nodes import Node

from reconciler.errors import Problem
from reconciler.manifest.parsing import parse_data

TICKET = 4  # bytes per queue entry: a chunk number, little-endian
HEADER = 8  # bytes of a message's length, little-endian

# What the worker sends for one file: its number, its documents' data and its problems.
Message = tuple[int, list[Any], list[Problem]]


def main(argv: list[str]) -> None:
    """The worker's whole life: parse files from the queue, send each, and exit without cleanup
    (``os._exit``: freeing what was parsed would only cost time)."""
    code = 1
    gc.disable()  # it only allocates, keeps, and exits: collections would walk every node tree kept
    try:
        for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C ends the worker quietly, at once
            signal.signal(number, signal.SIG_DFL)
        queue, out, chunk = (int(arg) for arg in argv)
        files: list[tuple[str, str]] = pickle.load(sys.stdin.buffer)
        backlog = _Backlog(out)
        kept: list[Node] = []
        while ticket := os.read(queue, TICKET):
            first = int.from_bytes(ticket, "little") * chunk
            for i in range(first, min(first + chunk, len(files))):
                data, problems = parse_data(*files[i], kept)
                backlog.send(pickle.dumps((i, data, problems), protocol=pickle.HIGHEST_PROTOCOL))
        backlog.flush()
        code = 0
    finally:
        os._exit(code)


class _Backlog:
    """Messages on their way to the parent: written without blocking as far as the pipe takes them,
    the rest kept and written later (so the worker goes on parsing while the parent is busy)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending: list[memoryview] = []
        os.set_blocking(fd, False)

    def send(self, blob: bytes) -> None:
        self.pending.append(memoryview(len(blob).to_bytes(HEADER, "little") + blob))
        self._write()

    def flush(self) -> None:
        os.set_blocking(self.fd, True)
        self._write()

    def _write(self) -> None:
        while self.pending:
            try:
                written = os.write(self.fd, self.pending[0])
            except BlockingIOError:
                return
            if written == len(self.pending[0]):
                self.pending.pop(0)
            else:
                self.pending[0] = self.pending[0][written:]


if __name__ == "__main__":
    main(sys.argv[1:])
