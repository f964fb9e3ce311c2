"""The recorder: the state in memory, made durable in groups.

Every change apply makes to a run's record goes through `Recorder.put` / `remove`. Events are queued
and a single writer appends them to the backend's journal, many per flush (group commit): 500 runs
starting at once cost a few dozen fsyncs, not 500 rewrites of the state. `durable()` waits until
everything queued so far is on disk: apply calls it between writing the intent to start and sending
the start request (SPEC 5.4). `close()` flushes and compacts the journal into the state file.

Fencing: every intent put here is stamped with the lock id of the backend's current holder
(``PendingStart.lock_id``), and `ensure_held()` checks, right before a start leaves, that this
process still holds the lock (`LockLostError` otherwise; after it, the engine starts nothing more).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from reconciler.backends.base import HeldLock, StateBackend
from reconciler.errors import LockLostError
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import RunRecord, State


class Recorder:
    def __init__(self, backend: StateBackend, state: State) -> None:
        self._backend = backend
        self._state = state
        self._runs = dict(state.runs)
        self._serial = state.serial
        self._queue: list[PutRun | RemoveRun] = []
        self._queued = 0  # events queued since start
        self._flushed = 0  # events durable since start
        self._wakeup = asyncio.Event()
        # durable() waiters in the order they came (so in the order of their targets): each flush
        # wakes only the ones it made durable, O(1) per waiter, never every waiter on every flush
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._running_check: asyncio.Future[float] | None = None  # the lock check under way
        self._next_check: asyncio.Future[float] | None = None  # the one to begin after it (joined meanwhile)
        self._writer: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self.dirty = False
        # every execution the state accounts for (current and earlier): never adopted for another run
        self.execution_ids: set[str] = set()
        for record in state.runs.values():
            self._note_executions(record)

    @property
    def runs(self) -> dict[str, RunRecord]:
        return self._runs

    def snapshot(self) -> State:
        return self._state.model_copy(update={"runs": dict(self._runs), "serial": self._serial})

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="state-writer")

    def put(self, name: str, record: RunRecord) -> None:
        record = self._stamped(name, record)
        self._runs[name] = record
        self._note_executions(record)
        self._enqueue(PutRun(run=name, record=record))

    def _stamped(self, name: str, record: RunRecord) -> RunRecord:
        """``record`` with a new intent (not the one already recorded) stamped with our lock id."""
        pending = record.pending
        if pending is None or pending.lock_id is not None or (held := self.held()) is None:
            return record
        known = self._runs.get(name)
        if known is not None and known.pending == pending:  # re-put as it was: not ours to claim
            return record
        return record.model_copy(update={"pending": pending.model_copy(update={"lock_id": held.info.id})})

    def _note_executions(self, record: RunRecord) -> None:
        if record.execution is not None:
            self.execution_ids.add(record.execution.id)
        self.execution_ids.update(e.id for e in record.history)

    def remove(self, name: str) -> None:
        self._runs.pop(name, None)
        self._enqueue(RemoveRun(run=name))

    def held(self) -> HeldLock | None:
        """The lock this apply holds (its id, and when it was taken), if any."""
        return self._backend.held()

    async def ensure_held(self) -> float:
        """`LockLostError` unless this process still holds the state lock (one backend check); else the
        ``time.monotonic()`` at which the check that said so began (a fence: `remote.exactly_once.Fence`).

        Concurrent callers share a check that begins after each of them called (as good as their own:
        a check already under way when one calls is not taken for it): 200 starts at once cost one or
        two checks in a thread, not 200 (a file read or a PostgreSQL query each)."""
        if isinstance(self._failure, LockLostError):
            raise self._failure
        if self._next_check is None:
            self._next_check = asyncio.ensure_future(self._held_check(self._running_check))
        return await asyncio.shield(self._next_check)

    async def _held_check(self, previous: asyncio.Future[float] | None) -> float:
        if previous is not None:
            with contextlib.suppress(Exception):  # its callers see its error; this is a new check
                await previous
        self._running_check, self._next_check = self._next_check, None  # callers from now on: the next one
        began = time.monotonic()
        try:
            if self._backend.quick_held_check:  # a stat: handing it to a thread would cost more
                self._backend.ensure_held()
            else:
                await asyncio.to_thread(self._backend.ensure_held)
            return began
        finally:
            if self._running_check is asyncio.current_task():
                self._running_check = None

    async def durable(self) -> None:
        """Wait until every event queued so far is durable."""
        if self._failure is None and self._flushed < self._queued:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append((self._queued, waiter))
            await asyncio.shield(waiter)  # a cancelled caller leaves the future for the writer to settle
        if self._failure is not None:
            raise self._failure

    def _settle(self) -> None:
        """Wake the waiters whose events are durable (all of them after a failure)."""
        waiters = self._waiters
        while waiters and (self._failure is not None or waiters[0][0] <= self._flushed):
            _, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def close(self) -> None:
        """Flush what is queued, then compact the journal into one state write."""
        await self.durable()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self.dirty:
            state = self.snapshot()
            await asyncio.to_thread(self._backend.write, state, self._serial)

    def _enqueue(self, event: PutRun | RemoveRun) -> None:
        self._queue.append(event)
        self._queued += 1
        self.dirty = True
        self._wakeup.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                await asyncio.to_thread(self._backend.append, batch, self._serial + 1)
            except Exception as err:  # surfaced to every waiter, then to apply's caller
                self._failure = err  # raised by every durable() and by close(), not lost in this task
                self._settle()
                return
            self._serial += 1
            self._flushed += len(batch)
            self._settle()
