"""Longest tests first, each alone on a worker: the pytest-xdist schedule of ``make test`` (a plugin,
``pytest_plugins`` in ``tests/conftest.py``; used for ``--dist load``, the default of ``-n``).

Most of the suite's time is a few long tests (the torture campaigns, the fencing races) that mostly
wait: on timeouts, latencies and processes. xdist's own ``load`` schedule hands out tests in collection
order and keeps a second test queued behind the running one, so two long tests can end up in a row on
one worker while the others idle. Here:

- tests are handed out longest first: by their duration in the last runs (the pytest cache,
  ``reconciler/durations``, written by the main process) or, for a test not seen yet, by where it
  lives (`EXPECTED_SECONDS`);
- a worker holds at most one long test (`LONG_SECONDS`) at a time, so that no long test waits behind
  another while a worker is free (a worker runs a test once it holds the next one: a long test goes
  with the shortest test left);
- short tests go in small batches (fewer round trips), never more than `BATCH` at a time.

Only the order in which workers receive tests changes: every test runs once, in a fresh function
scope, as before. ``-n 0`` runs the tests in collection order.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScheduling  # type: ignore[import-untyped]

DURATIONS_KEY = "reconciler/durations"
LONG_SECONDS = 1.0
BATCH = 8
# Seconds expected of a test never timed before (a fresh clone: CI), by the longest matching prefix of
# its node id: roughly their durations in `make test` on a busy 2-core machine.
EXPECTED_SECONDS = {
    "tests/torture/test_crash.py": 40.0,
    "tests/torture/test_fence.py": 30.0,
    "tests/torture/": 10.0,
    "tests/e2e/test_e2e_fencing.py": 30.0,
    "tests/examples/test_ci_pipelines.py": 30.0,
    "tests/e2e/test_e2e_commands.py": 12.0,
    "tests/e2e/test_e2e_crash.py": 12.0,
    "tests/emulator/test_emulator_schemathesis.py": 15.0,
    "tests/e2e/": 4.0,
    "tests/examples/": 8.0,
    "": 0.05,
}


def expected_seconds(nodeid: str, durations: dict[str, float]) -> float:
    if nodeid in durations:
        return durations[nodeid]
    return max((len(p), s) for p, s in EXPECTED_SECONDS.items() if nodeid.startswith(p))[1]


class LongestFirst(LoadScheduling):  # type: ignore[misc]
    """xdist's ``load`` schedule, in the order and with the rules of this module's docstring."""

    def __init__(self, config: pytest.Config, log: Any, durations: dict[str, float]) -> None:
        super().__init__(config, log)
        self.durations = durations
        self.seconds: list[float] = []  # expected seconds of each test, by index in the collection

    def schedule(self) -> None:
        assert self.collection_is_completed
        if not self.seconds:  # the first call: the collections are in
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            collection: list[str] = next(iter(self.node2collection.values()))
            self.collection = collection
            self.seconds = [expected_seconds(nodeid, self.durations) for nodeid in collection]
            self.pending[:] = sorted(range(len(collection)), key=lambda i: -self.seconds[i])
        for node in self.nodes:
            self.check_schedule(node)

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        """Keep two tests on ``node``: a worker runs a test once it holds the next (or is told to stop)."""
        if node.shutting_down:
            return
        if not self.pending:
            node.shutdown()
            return
        queued = self.node2pending[node]
        if len(queued) >= 2:
            return
        if not self._long(self.pending[0]):
            share = len(self.pending) // (4 * len(self.node2pending))
            self._send(node, self.pending[: max(2, min(BATCH, share))])
            return
        if not any(self._long(i) for i in queued):
            self._send(node, self.pending[:1])
        while len(queued) < 2 and self.pending:  # the shortest left, to let the long one run
            self._send(node, self.pending[-1:])

    def _long(self, index: int) -> bool:
        return self.seconds[index] >= LONG_SECONDS

    def _send(self, node: Any, indices: list[int]) -> None:
        chosen = set(indices)
        self.pending[:] = [i for i in self.pending if i not in chosen]
        self.node2pending[node].extend(indices)
        node.send_runtest_some(indices)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LongestFirst | None:
    if config.getoption("dist") != "load":
        return None
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    return LongestFirst(config, log, cache.get(DURATIONS_KEY, {}) if cache is not None else {})


_TIMED: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Time each test (setup, call and teardown) in the main process, for the next run's order."""
    _TIMED[report.nodeid] = _TIMED.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is None or not _TIMED or hasattr(session.config, "workerinput"):
        return
    durations: dict[str, float] = cache.get(DURATIONS_KEY, {})
    durations.update({nodeid: round(seconds, 3) for nodeid, seconds in _TIMED.items()})
    cache.set(DURATIONS_KEY, durations)
