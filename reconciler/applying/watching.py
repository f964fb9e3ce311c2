"""Watching executions until they end, cheaply.

One loop watches every in-flight execution. Each is first looked at when executions of its workflow
are expected to have ended: the shortest time one of them ran to completion so far in this apply (a
failure may come at once), by the server's dates when a read told them, else the time until it was
seen ended (before any completed: ``MIN_INTERVAL``; never later than ``MAX_INTERVAL``, so that one
that fails at once is not seen much later than the backoff below would see it). Then it backs off on its own (interval = 10 % of its
age, between ``MIN_INTERVAL`` and ``MAX_INTERVAL``). When that expectation is first learnt, first
learnt from an execution's dates, or shrinks by a tenth, the executions of the workflow not looked at
since they reached it are looked at when they do (a scan of the workflow's watches a few times per
apply, never per event).

A look at the time an execution is expected to have ended is a read alone, ``GET
.../executions/{id}``, sent at once: it has most likely ended, and that read carries its outputs,
which the engine takes (`Watcher.take_read`) instead of reading the execution again. A run that ends
by then costs its start and one read, as a bare client that knew the duration would. The other looks
of a workflow go one at a time: the watches that fall due during one wait for its end, and when
several are due at once (before any of them ended, and once backing off), a single ``GET
.../executions`` (the list) tells which ended, and fewer are read alone. A list holds
every execution of the workflow, ended ones too, and costs both sides CPU for each row: a workflow is
listed again no sooner than ``LIST_SECONDS_PER_ROW`` per row of its last list (2,000 rows: every
0.2 s; 20,000: every 2 s), its due watches waiting for that. A list ends the watches it shows ended
and reschedules only the due ones.

A transient error does not end a watch; it only delays the next look (the client reports outages as
they happen, one notice per outage: `reconciler.remote.reachability`). Once the client gives up on
the endpoint (`EndpointUnreachableError`) every watch ends with that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from reconciler.errors import EndpointUnreachableError, RemoteError, TemporaryRemoteError
from reconciler.state.models import TERMINAL

log = logging.getLogger("reconciler.applying")
T = TypeVar("T")
LIST_THRESHOLD = 3
MIN_INTERVAL = 0.2
MAX_INTERVAL = 15.0
LIST_SECONDS_PER_ROW = 0.0001
COMPLETED = "completed"  # the terminal state whose executions teach how long a workflow runs


class Read(Protocol):
    """An execution read alone (``GET .../executions/{id}``): its state, its dates (the server's
    clock), and whatever else it carries."""

    @property
    def state(self) -> str: ...

    @property
    def start_date(self) -> datetime | None: ...

    @property
    def end_date(self) -> datetime | None: ...


class StateSource(Protocol):
    async def list_states(self, workflow_id: str) -> dict[str, str]: ...

    async def get_execution(self, workflow_id: str, execution_id: str) -> Read: ...


@dataclass
class _Watch:
    workflow: str
    execution: str
    began: float
    due: float
    future: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    state: str = "running"
    entry: int = 0  # the number of its current entry in the watcher's queue (older entries are stale)
    expected: bool = False  # its next look is when its workflow's executions are expected to have ended
    looked: float = float("-inf")  # when it was last looked at


class Watcher:
    """``await watcher.until_done(workflow, execution)`` returns the terminal state."""

    def __init__(self, source: StateSource, clock: Callable[[], float] | None = None) -> None:
        """``clock``: the running loop's time by default (what its timers wait on)."""
        self._source = source
        self._clock = clock or asyncio.get_running_loop().time
        self._watches: dict[str, _Watch] = {}
        # the same watches by workflow, and a queue by due time: every step is O(log n) or O(the
        # watches one look answers), never a scan of every watch per event
        self._by_workflow: dict[str, dict[str, _Watch]] = {}
        self._queue: list[tuple[float, int, _Watch]] = []
        self._entries = itertools.count(1)
        self._next_list: dict[str, float] = {}  # workflow -> when it may be listed again
        self._expected: dict[str, float] = {}  # workflow -> the shortest time one ran (see above)
        self._pulled: dict[str, float] = {}  # workflow -> the expectation its watches were last pulled to
        self._to_pull: set[str] = set()  # workflows whose expectation was learnt or shrank since
        self._dated: set[str] = set()  # workflows with an execution's own dates among the lessons
        self._reads: dict[str, Read] = {}  # execution -> its read that found it ended (`take_read`)
        self._wakeup = asyncio.Event()
        self._wake_at = float("-inf")  # when the waiting loop wakes by itself (-inf: it is not waiting)
        self._task: asyncio.Task[None] | None = None
        self._looks: set[asyncio.Task[None]] = set()  # looks under way (the loop does not wait for them)
        self._backoff_looks: dict[str, asyncio.Task[None]] = {}  # workflow -> the look of its other due watches
        self._held: dict[str, list[_Watch]] = {}  # workflow -> due watches waiting for that look to end

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="watcher")

    async def stop(self) -> None:
        """The loop first (the end of a look wakes it), then the looks under way."""
        for task in [*([self._task] if self._task is not None else []), *self._looks]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def until_done(self, workflow: str, execution: str, first_look: float | None = None) -> str:
        """The execution's terminal state, once seen; first looked at after ``first_look`` seconds
        (default: when executions of its workflow are expected to have ended)."""
        now = self._clock()
        expected = first_look is None and workflow in self._expected
        if first_look is None:
            first_look = self._expected_age(workflow)
        watch = _Watch(workflow, execution, began=now, due=now + first_look, expected=expected)
        self._watches[execution] = watch
        self._by_workflow.setdefault(workflow, {})[execution] = watch
        self._enqueue(watch)
        try:
            return await asyncio.shield(watch.future)
        finally:
            self._forget(watch)

    def _enqueue(self, watch: _Watch) -> None:
        watch.entry = next(self._entries)
        heapq.heappush(self._queue, (watch.due, watch.entry, watch))
        if watch.due < self._wake_at:  # the loop waits for a later entry, or for none
            self._wakeup.set()

    def _forget(self, watch: _Watch) -> None:
        if self._watches.get(watch.execution) is watch:
            del self._watches[watch.execution]
            of_workflow = self._by_workflow[watch.workflow]
            del of_workflow[watch.execution]
            if not of_workflow:
                del self._by_workflow[watch.workflow]

    def _live(self, entry: tuple[float, int, _Watch]) -> bool:
        """Whether a queue entry is its watch's current one (a rescheduled or ended watch left older ones)."""
        _, number, watch = entry
        return watch.entry == number and self._watching(watch)

    def _watching(self, watch: _Watch) -> bool:
        """Not ended, and not forgotten (the engine stopped waiting for it)."""
        return not watch.future.done() and self._watches.get(watch.execution) is watch

    def take_read(self, execution: str) -> Read | None:
        """The read (``GET .../executions/{id}``) that found ``execution`` ended, if it was read alone;
        given once."""
        return self._reads.pop(execution, None)

    def current(self, execution: str) -> str | None:
        watch = self._watches.get(execution)
        return watch.state if watch else None

    def _expected_age(self, workflow: str) -> float:
        return max(MIN_INTERVAL, min(self._expected.get(workflow, MIN_INTERVAL), MAX_INTERVAL))

    async def _loop(self) -> None:
        queue = self._queue
        while True:
            while self._to_pull:
                self._pull(self._to_pull.pop())
            now = self._clock()
            while queue and (queue[0][0] <= now or not self._live(queue[0])):
                entry = heapq.heappop(queue)
                if self._live(entry):
                    self._due(entry[2], now)
            for workflow in [w for w in self._held if w not in self._backoff_looks]:
                look = self._backoff_looks[workflow] = self._spawn(self._look(workflow, self._held.pop(workflow), now))
                look.add_done_callback(functools.partial(self._backoff_looked, workflow))
            delay = queue[0][0] - now if queue else None
            self._wakeup.clear()
            self._wake_at = float("inf") if delay is None else now + delay
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for: it can swallow a cancel (stop)
                    await self._wakeup.wait()
            self._wake_at = float("-inf")

    def _due(self, watch: _Watch, now: float) -> None:
        """A look at the age its workflow's executions are expected to have ended is a read alone, at
        once. The others are looked at together, one look per workflow at a time: those that fall due
        during a look's round trip wait for the next, which can then be one list for several."""
        watch.looked = now
        if watch.expected:
            watch.expected = False
            self._spawn(self._look_one(watch))
        else:
            self._held.setdefault(watch.workflow, []).append(watch)

    def _spawn(self, look: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(look)
        self._looks.add(task)
        task.add_done_callback(self._looked)
        return task

    def _backoff_looked(self, workflow: str, look: asyncio.Task[None]) -> None:
        """The end of a workflow's look at its other due watches: those held meanwhile may go."""
        if self._backoff_looks.get(workflow) is look:
            del self._backoff_looks[workflow]
            if workflow in self._held:
                self._wakeup.set()

    def _looked(self, look: asyncio.Task[None]) -> None:
        """A look's end; one that failed on a bug fails every watch with it (never a silent hang)."""
        self._looks.discard(look)
        if not look.cancelled() and look.exception() is not None:
            for w in list(self._watches.values()):
                if not w.future.done():
                    w.future.set_exception(look.exception())  # type: ignore[arg-type]

    async def _look(self, workflow: str, due: list[_Watch], now: float) -> None:
        # held meanwhile: ended, forgotten, or pulled forward (its read alone is its look)
        due = [w for w in due if self._watching(w) and not w.expected]
        if len(due) < LIST_THRESHOLD:
            await asyncio.gather(*(self._look_one(w) for w in due))
            return
        listed_again = self._next_list.get(workflow, 0.0)
        if listed_again > now:  # listed a moment ago: its due watches wait for the next list
            for w in due:
                w.due = listed_again
                self._enqueue(w)
            return
        await self._look_list(workflow, due)

    async def _look_list(self, workflow: str, due: list[_Watch]) -> None:
        try:
            states = await self._source.list_states(workflow)
        except EndpointUnreachableError as err:
            self._fail_all(err)
            return
        except TemporaryRemoteError as err:  # only delays the next look; never one request per execution
            log.debug("listing executions of %s failed, will look again: %s", workflow, err)
            for w in due:
                self._reschedule(w)
            return
        except RemoteError as err:
            for w in due:
                _fail(w, err)
            return
        self._next_list[workflow] = self._clock() + max(MIN_INTERVAL, len(states) * LIST_SECONDS_PER_ROW)
        due_now = {w.execution for w in due}
        for w in list(self._by_workflow.get(workflow, {}).values()):  # the ones not due yet too, if ended
            state = states.get(w.execution)
            if w.future.done() or (state not in TERMINAL and w.execution not in due_now):
                continue
            if state is not None:
                self._update(w, state)
            else:  # not listed (yet, or paged out): look at it alone
                await self._look_one(w)

    async def _look_one(self, watch: _Watch) -> None:
        try:
            read = await self._source.get_execution(watch.workflow, watch.execution)
        except EndpointUnreachableError as err:
            self._fail_all(err)
            return
        except TemporaryRemoteError as err:
            log.debug("state of %s unknown for now: %s", watch.execution, err)
            self._reschedule(watch)
            return
        except RemoteError as err:
            _fail(watch, err)
            return
        if read.state in TERMINAL and not watch.future.done():
            self._reads[watch.execution] = read
        self._update(watch, read.state, _ran(read))

    def _fail_all(self, err: EndpointUnreachableError) -> None:
        """The endpoint was given up on: every watch ends, not only the ones of this look."""
        for w in list(self._watches.values()):
            _fail(w, err)

    def learn(self, workflow: str, read: Read) -> None:
        """What the read of an ended execution says about its workflow: how long it ran (the engine
        tells the reads it makes itself, of the executions a list showed ended)."""
        ran = _ran(read)
        if ran is not None and read.state == COMPLETED:
            self._learn(workflow, ran, dated=True)

    def _learn(self, workflow: str, took: float, *, dated: bool) -> None:
        """An execution of ``workflow`` ran ``took`` seconds (by its dates, or until seen ended: a bound
        later by up to a look's interval). The others are looked at again by what it teaches (`_pull`)
        when it is the first lesson, the first dated one, or shrinks the expectation by a tenth."""
        self._expected[workflow] = min(took, self._expected.get(workflow, took))
        first_dated = dated and workflow not in self._dated
        if dated:
            self._dated.add(workflow)
        if first_dated or self._expected_age(workflow) < 0.9 * self._pulled.get(workflow, float("inf")):
            self._to_pull.add(workflow)
            self._wakeup.set()

    def _pull(self, workflow: str) -> None:
        """Each watch of ``workflow`` not looked at since it reached the expected age is looked at alone
        when it does (sooner or later than its backoff would have)."""
        expected = self._pulled[workflow] = self._expected_age(workflow)
        now = self._clock()
        for w in self._by_workflow.get(workflow, {}).values():
            if w.looked < w.began + expected and not w.future.done():
                w.due, w.expected = max(now, w.began + expected), True
                self._enqueue(w)

    def _update(self, watch: _Watch, state: str, ran: float | None = None) -> None:
        """``ran``: how long the server says it ran, when the look told (the time until it was seen
        ended is later by up to the interval between looks)."""
        watch.state = state
        if state in TERMINAL:
            if not watch.future.done():
                took = self._clock() - watch.began
                watch.future.set_result(state)
                if state == COMPLETED:  # a failure may come at once: it says nothing of how long one runs
                    self._learn(watch.workflow, took if ran is None else min(took, ran), dated=ran is not None)
            return
        self._reschedule(watch)

    def _reschedule(self, watch: _Watch) -> None:
        now = self._clock()
        interval = min(max(MIN_INTERVAL, 0.1 * (now - watch.began)), MAX_INTERVAL)
        watch.due = now + interval
        self._enqueue(watch)


def _ran(read: Read) -> float | None:
    """How long an ended execution ran by its own dates, if it has both."""
    if read.start_date is None or read.end_date is None:
        return None
    ran = (read.end_date - read.start_date).total_seconds()
    return ran if ran >= 0 else None


def _fail(watch: _Watch, err: RemoteError) -> None:
    if not watch.future.done():
        watch.future.set_exception(err)
