"""The apply engine: carry a plan out over its dependency graph, concurrently.

- One task per run; a run starts the moment every run it depends on is recorded as completed.
  `(known after apply)` inputs are resolved then; if the key turns out unchanged, nothing re-runs.
- ``parallelism`` bounds requests in flight (a semaphore around each API call), never executions
  running: 500 independent starts with parallelism 10 are all running after ~50 round trips.
- Before a start leaves, its intent is durable (`Recorder.durable`); its execution id is recorded
  as soon as the answer arrives. Interrupted starts found in the state are recovered first, in one
  list per workflow (`find_started_many`), and adopted instead of started again.
- A failure stops only the runs that depend on it. Stopping (Ctrl-C / SIGTERM) starts nothing new,
  records what is started, and reports the rest as interrupted.

This module schedules; the records it writes are computed by the pure functions of `records`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from reconciler import killpoints
from reconciler.applying.pacing import LimitChange, Pacing
from reconciler.applying.recorder import Recorder
from reconciler.applying.records import execution_record, shown_outputs, started_record, vanished_unread, with_state
from reconciler.applying.reports import ApplyEvent, ApplyReport, Listener, Outcome, RunResult
from reconciler.applying.watching import Watcher
from reconciler.desired.runs import DesiredStack
from reconciler.errors import (
    EndpointUnreachableError,
    LockLostError,
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
    RemoteError,
    StateError,
)
from reconciler.planning.changes import Action, Change, Plan, PlannedInput
from reconciler.planning.planner import decide, planned_inputs, planned_key, recorded_inputs
from reconciler.planning.resolving import UNKNOWN
from reconciler.remote.exactly_once import Gate
from reconciler.remote.executions import Execution as RemoteExecution
from reconciler.remote.reachability import Notice, Reachability
from reconciler.remote.retrying import Pushback
from reconciler.state.models import IN_PROGRESS, TERMINAL, PendingStart, RunRecord

TypedInputs = Mapping[str, tuple[str, Any]]


STARTING_PER_SLOT = 8  # runs between intent and start answer, per request slot (`Engine._start`): with
# 2, apply-2000 at P = 10 took 1.16-1.19x the reference, with 8 1.06-1.07x (bench/README.md)


class Api(Protocol):
    """The calls of `reconciler.remote.client.WorkflowClient` that apply uses."""

    reachability: Reachability
    pushback: Pushback

    @property
    def identity(self) -> str | None: ...

    async def login(self) -> str | None: ...

    async def start_exactly_once(
        self,
        workflow_id: str,
        inputs: TypedInputs,
        since: datetime,
        *,
        exclude: Collection[str] = (),
        fence: Callable[[], Awaitable[float]] | None = None,
    ) -> RemoteExecution: ...

    async def get_execution(self, workflow_id: str, execution_id: str) -> RemoteExecution: ...

    async def list_states(self, workflow_id: str) -> dict[str, str]: ...

    async def cancel(self, workflow_id: str, execution_id: str) -> None: ...

    async def find_started_many(
        self,
        workflow_id: str,
        wanted: Sequence[tuple[str, TypedInputs, datetime]],
        *,
        user: str | None = None,
        exclude: Collection[str] = (),
        gate: Gate | None = None,
    ) -> dict[str, RemoteExecution | None]: ...


@dataclass
class Engine:
    plan: Plan
    desired: DesiredStack
    recorder: Recorder
    api: Api
    parallelism: int = 10
    listener: Listener | None = None
    stop: asyncio.Event | None = None
    handover_grace: float = 30.0  # the client's request timeout: how long a start may be in flight

    async def run(self) -> ApplyReport:
        began = time.monotonic()
        self._limit = asyncio.Semaphore(max(1, self.parallelism))
        # Runs past their intent and not yet answered: enough to keep every request slot busy while
        # the next intents are made durable; the others wait before writing theirs (a crash leaves at
        # most this many intents to look up, and a waiting run holds three coroutine frames, not ten).
        self._starting = asyncio.Semaphore(max(1, self.parallelism) * STARTING_PER_SLOT)
        self._stop = self.stop or asyncio.Event()
        self._done: dict[str, asyncio.Future[Outcome]] = {
            c.run: asyncio.get_running_loop().create_future() for c in self.plan.changes
        }
        self._report = ApplyReport()
        self._restart: set[str] = set()
        self._unrecovered: dict[str, str] = {}  # run -> why its interrupted start is still unknown
        self._bugs: list[Exception] = []
        self._gave_up: EndpointUnreachableError | None = None
        self._pacing = Pacing(self.parallelism, changed=self._limit_changed)
        self._watcher = Watcher(_States(self.api, self._request))
        self._watcher.start()
        unsubscribe = self.api.reachability.subscribe(self._endpoint_notice)
        unpace = self.api.pushback.subscribe(self._pacing.pushback)
        try:
            if any(c.action.starts for c in self.plan.changes):
                await self.api.login()  # once, before any intent: its identity goes into the intents
            await self._recover()
            await asyncio.gather(*(self._one(c) for c in self.plan.changes))
        finally:
            unsubscribe()
            unpace()
            await self._watcher.stop()
        if self._bugs:  # every other run was carried out and recorded; the bug still gets its traceback
            raise self._bugs[0]
        self._report.elapsed = time.monotonic() - began
        self._report.interrupted = self._stop.is_set()
        self._report.limits = self._pacing.summary()
        return self._report

    # ------------------------------------------------------------------ per run

    async def _one(self, change: Change) -> None:
        """Carry one run out; whatever happens to it, its result is set, so dependents never hang.

        The project's own errors (refusals, a reference to a missing output, a lost lock, ...) fail this
        run alone: independent runs carry on. Anything else is a bug: the run fails as an internal
        error, independent runs still finish and are recorded, then `run` raises the bug (a traceback)."""
        try:
            result = await self._carry_out(change)
        except ReconcilerError as err:
            result = self._finish(change, Outcome.FAILED, str(err), "failed")
        except Exception as bug:  # a bug: re-raised by `run` once the independent runs are done
            self._bugs.append(bug)
            message = f"internal error ({type(bug).__name__}: {bug}); the other runs carry on, then apply stops"
            result = self._finish(change, Outcome.FAILED, message, "failed")
        self._report.results[change.run] = result
        self._done[change.run].set_result(result.outcome)

    async def _carry_out(self, change: Change) -> RunResult:
        if change.action is Action.FAILED:  # failed in an earlier apply (or blocked behind that): a warning
            self._emit("not_retried", change, message=change.reason)
            return RunResult(change.run, Outcome.NOT_RETRIED, change.reason, this_apply=False)
        blocked = await self._blocked_by(change)
        if blocked:
            message = f"skipped: dependency {blocked} did not complete"
            self._emit("skipped", change, message=message)
            # this apply's failure only when it had a change to make to the run (not a `noop`)
            return RunResult(change.run, Outcome.SKIPPED, message, this_apply=change.action.is_change)
        if change.action is Action.NOOP:
            return RunResult(change.run, Outcome.UNCHANGED)
        if change.run in self._unrecovered:
            return self._finish(change, Outcome.FAILED, self._unrecovered[change.run], "failed")
        if self._stop.is_set():
            return self._finish(change, Outcome.INTERRUPTED, "not started: apply was interrupted", "interrupted")
        if change.action is Action.DELETE:
            return await self._delete(change)
        record = self.recorder.runs.get(change.run)
        awaiting = change.action is Action.AWAIT and change.run not in self._restart
        if awaiting and record is not None and record.execution and not record.pending:
            return await self._await(change, record.execution.id, record)
        return await self._start(change)

    async def _blocked_by(self, change: Change) -> str | None:
        for dep in change.depends_on:
            future = self._done.get(dep)
            if future is not None and not (await future).ok:
                return dep
        return None

    async def _start(self, change: Change) -> RunResult:
        """Start the run (at most ``STARTING_PER_SLOT`` x parallelism runs at once between their intent
        and their start's answer), then wait for its execution."""
        async with self._starting:
            begun = await self._begin(change)
        if isinstance(begun, RunResult):
            return begun
        record, started = begun
        return await self._await(change, started.id, record, started)

    async def _begin(self, change: Change) -> RunResult | tuple[RunRecord, RemoteExecution]:
        """The intent made durable, then the start: the run's record and its execution, or its result
        when it was not started."""
        run = self.desired.runs[change.run]
        inputs = self._resolve(change)
        key = planned_key(run, inputs, self.plan.salt)
        assert key is not None  # _resolve refused unknown inputs
        prior = self.recorder.runs.get(change.run)
        action, reason = decide(run, prior, key, change.run in self.plan.replace)
        if action is Action.NOOP:
            return self._finish(change, Outcome.UNCHANGED, "inputs unchanged once known: not re-run", "unchanged")
        if action is Action.FAILED:
            return self._finish(change, Outcome.FAILED, f"not re-run: {reason}", "failed")
        if self._stop.is_set():
            return self._finish(change, Outcome.INTERRUPTED, "not started: apply was interrupted", "interrupted")
        requested_at = datetime.now(UTC)
        pending = PendingStart(
            key=key,
            requested_at=requested_at.isoformat(),
            user=self.api.identity,
            inputs=recorded_inputs(inputs, self.plan.salt),
        )
        base = prior or RunRecord(workflow=run.workflow, key=key)
        self.recorder.put(change.run, base.model_copy(update={"pending": pending}))
        await self.recorder.durable()
        killpoints.reach("intent-durable")
        typed = {name: (i.type, i.value) for name, i in inputs.items()}
        try:
            started = await self._send_start(run.workflow, typed, requested_at)
        except OutcomeUnknownError as err:
            return self._finish(change, Outcome.FAILED, f"{err}; the next apply looks it up again", "failed")
        except RemoteError as err:
            if _refused_start(err):  # the server said no: nothing started, so no intent to look up later
                self._forget_intent(change.run, prior)
            raise
        if started is None:  # stopped while waiting for a request slot: nothing was sent
            self._forget_intent(change.run, prior)
            return self._finish(change, Outcome.INTERRUPTED, "not started: apply was interrupted", "interrupted")
        killpoints.reach("start-answered")
        attempts = (prior.attempts + 1) if (prior and action is Action.RETRY) else 1
        record = started_record(
            prior, run.workflow, key, pending, started, run.revision, attempts, sorted(run.depends_on)
        )
        self.recorder.put(change.run, record)
        self._emit("started", change, execution=started.id)
        return record, started

    async def _send_start(self, workflow: str, typed: TypedInputs, since: datetime) -> RemoteExecution | None:
        """The start request, in a request slot, sent only while a check that this apply still holds the
        state lock is fresh (the client's fence); None when apply was stopped while it waited for the slot. A lost lock
        (`LockLostError`) stops apply: nothing more starts, the error ends it."""
        async with self._request(workflow):
            if self._stop.is_set():
                return None
            try:  # the client checks the lock right before each send (`fence`), the first one included
                return await asyncio.shield(
                    self.api.start_exactly_once(
                        workflow, typed, since, exclude=self.recorder.execution_ids, fence=self.recorder.ensure_held
                    )
                )
            except LockLostError:  # checked again before any re-send (a restart, a retry after 429/503)
                self._stop.set()
                raise

    def _forget_intent(self, name: str, prior: RunRecord | None) -> None:
        if prior is None:
            self.recorder.remove(name)
        else:
            self.recorder.put(name, prior.model_copy(update={"pending": None}))

    async def _await(
        self, change: Change, execution_id: str, record: RunRecord, seen: RemoteExecution | None = None
    ) -> RunResult:
        """Wait for the execution to end (unless it already has), read it once (the watcher's read when
        that is what saw it end), record it, report it.

        A record whose execution ended with its outputs read (an adopted one) is reported as it is."""
        recorded = record.execution.state if record.execution is not None else None
        if seen is None and recorded in TERMINAL and not record.outputs_unread():
            return await self._report_final(change, record)
        if (seen.state if seen is not None else recorded) not in TERMINAL:
            run = self.desired.runs.get(change.run)
            timeout = run.timeout_seconds if run else None
            self._emit("waiting", change, execution=execution_id)
            outcome = await self._wait(change.workflow, execution_id, timeout)
            if outcome is not None:
                return self._stopped_waiting(change, execution_id, record, outcome)
            read = self._watcher.take_read(execution_id)  # the read that saw it end, if it was read alone
            if isinstance(read, RemoteExecution):
                return await self._record_final(change, record, read)
        try:
            async with self._request(change.workflow):
                final = await self.api.get_execution(change.workflow, execution_id)
            self._watcher.learn(change.workflow, final)
        except NotFoundError:
            if not record.outputs_unread():
                raise
            settled = vanished_unread(record)
            self.recorder.put(change.run, settled)
            return await self._report_final(change, settled)
        return await self._record_final(change, record, final)

    async def _wait(self, workflow: str, execution_id: str, timeout: float | None) -> Outcome | None:
        watch = asyncio.ensure_future(self._watcher.until_done(workflow, execution_id))
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            done, _ = await asyncio.wait({watch, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if watch in done:
            try:
                watch.result()  # raises a permanent RemoteError of the watch
            except EndpointUnreachableError as err:  # gave up on the server: the execution stays `await`
                self._gave_up = err
                return Outcome.FAILED
            return None
        watch.cancel()
        return Outcome.INTERRUPTED if stopping in done else Outcome.TIMED_OUT

    def _stopped_waiting(self, change: Change, execution_id: str, record: RunRecord, outcome: Outcome) -> RunResult:
        state = self._watcher.current(execution_id) or (record.execution.state if record.execution else "running")
        if record.execution is not None and record.execution.state != state:
            self.recorder.put(change.run, with_state(record, state))
        if outcome is Outcome.TIMED_OUT:
            run = self.desired.runs[change.run]
            message = (
                f"timed out after {run.timeout_seconds:g}s; execution {execution_id} is still {state} "
                "(the next apply waits for it again)"
            )
            return self._finish(change, outcome, message, "timed_out", execution_id)
        if outcome is Outcome.FAILED:
            message = (
                f"{self._gave_up}; execution {execution_id} stays recorded as {state} "
                "(the next apply waits for it again)"
            )
            return self._finish(change, outcome, message, "failed", execution_id)
        return self._finish(
            change,
            outcome,
            f"execution {execution_id} still {state}: the next apply waits for it",
            "interrupted",
            execution_id,
        )

    async def _record_final(self, change: Change, record: RunRecord, final: RemoteExecution) -> RunResult:
        self.recorder.put(change.run, execution_record(record, final))
        return await self._report_final(change, self.recorder.runs[change.run])

    async def _report_final(self, change: Change, record: RunRecord) -> RunResult:
        """Report an ended execution as recorded, once its record is durable (never a completion
        that a failed state write left unrecorded)."""
        execution = record.execution
        assert execution is not None
        unrecorded = await self._unless_durable(
            change,
            f"execution {execution.id} {execution.state} on the server, but it could not be recorded",
            "reads it again",
            execution.id,
        )
        if unrecorded is not None:
            return unrecorded
        if execution.state == "completed":
            self._emit("completed", change, execution=execution.id, outputs=shown_outputs(record))
            return RunResult(change.run, Outcome.COMPLETED, "", execution.id)
        why = execution.error or "no reason given by the server"
        message = f"execution {execution.id} {execution.state}: {why}"
        return self._finish(change, Outcome.FAILED, message, "failed", execution.id)

    async def _delete(self, change: Change) -> RunResult:
        record = self.recorder.runs.get(change.run)
        if record and record.execution and record.execution.state in IN_PROGRESS:
            async with self._request(record.workflow):
                await self.api.cancel(record.workflow, record.execution.id)
            self._emit("canceled", change, execution=record.execution.id)
        self.recorder.remove(change.run)
        unrecorded = await self._unless_durable(
            change, "its removal from the state could not be recorded", "tries again"
        )
        return unrecorded or self._finish(change, Outcome.DELETED, "removed from the state", "deleted")

    async def _unless_durable(
        self, change: Change, what: str, next_time: str, execution: str | None = None
    ) -> RunResult | None:
        """None once every record so far is durable; else the run's failure, naming the write that failed
        (a run is never reported as recorded when its record is not)."""
        try:
            await self.recorder.durable()
        except StateError as err:
            message = f"{what}: {err}; the next apply {next_time}"
            return self._finish(change, Outcome.FAILED, message, "failed", execution)
        return None

    # ------------------------------------------------------------------ recovery of interrupted starts

    async def _recover(self) -> None:
        """Adopt executions whose start answer was never recorded: one list per workflow."""
        pending: dict[str, list[tuple[str, TypedInputs, datetime]]] = {}
        users: dict[str, str | None] = {}
        for change in self.plan.changes:
            record = self.recorder.runs.get(change.run)
            if record is None or record.pending is None:  # deleted runs too: cancel what they started
                continue
            p = record.pending
            typed = {n: (i.type, i.value) for n, i in p.inputs.items()}
            pending.setdefault(record.workflow, []).append((change.run, typed, datetime.fromisoformat(p.requested_at)))
            users[change.run] = p.user
        if not pending:
            return
        if self.api.identity is None:
            await self.api.login()
        found_all = await asyncio.gather(*(self._recover_workflow(w, wanted) for w, wanted in pending.items()))
        for workflow, found in zip(pending, found_all, strict=True):
            for run, execution in found.items():
                self._adopt(run, workflow, execution)

    async def _recover_workflow(
        self, workflow: str, wanted: list[tuple[str, TypedInputs, datetime]]
    ) -> dict[str, RemoteExecution | None]:
        """The lookup of one workflow; when it fails, its runs fail (never started again blindly).

        Fencing: when the previous holder lost the lock (killed, its session ended, force-unlocked)
        rather than releasing it, a start it checked just before may still be in flight. What is not
        found is looked up again once ``handover_grace`` (its request timeout) has passed since this
        apply took the lock, and only then counts as never started."""
        held = self.recorder.held()
        deadline = held.taken_at + self.handover_grace if held is not None and held.handover else None
        looked_at = time.monotonic()
        try:  # the client takes a request slot of the workflow (pacing) around each of its requests
            found = await self.api.find_started_many(
                workflow, wanted, exclude=self.recorder.execution_ids, gate=lambda: self._request(workflow)
            )
            missing = [w for w in wanted if found.get(w[0]) is None]
            if deadline is None or looked_at >= deadline or not missing:
                return found
            for run, _, _ in missing:
                pending = self.recorder.runs[run].pending
                holder = pending.lock_id if pending is not None and pending.lock_id else "unknown"
                message = (
                    f"not found yet: waiting {deadline - time.monotonic():.0f}s before concluding it never started "
                    f"(the previous holder of the state lock, lock {holder}, did not release it: killed, or its "
                    f"lock was broken; this start may still be in flight, for up to its request timeout of "
                    f"{self.handover_grace:g}s)"
                )
                self._emit_raw(ApplyEvent("handover_wait", run, workflow, None, message))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, deadline - time.monotonic()))
            if self._stop.is_set():
                for run, _, _ in missing:
                    self._unrecovered[run] = "interrupted while waiting to look up a start of the previous lock holder"
                return {run: e for run, e in found.items() if e is not None}
            adopted = [e.id for e in found.values() if e is not None]
            again = await self.api.find_started_many(
                workflow,
                missing,
                exclude={*self.recorder.execution_ids, *adopted},
                gate=lambda: self._request(workflow),
            )
            return {**found, **again}
        except RemoteError as err:
            for run, _, _ in wanted:
                self._unrecovered[run] = f"an interrupted start could not be looked up: {err}"
            return {}

    def _adopt(self, run: str, workflow: str, execution: RemoteExecution | None) -> None:
        record = self.recorder.runs[run]
        pending = record.pending
        assert pending is not None
        if execution is None:  # provably never started: forget the intent, start afresh
            self._restart.add(run)
            self.recorder.put(run, record.model_copy(update={"pending": None}))
            if record.execution is None:
                self.recorder.remove(run)
            return
        prior = record.model_copy(update={"pending": None})
        adopted = started_record(
            prior,
            workflow,
            pending.key,
            pending,
            execution,
            record.revision,
            max(record.attempts, 1),
            record.depends_on,
        )
        if execution.is_terminal:  # read by the lookup (`get_execution`): record its outputs now
            adopted = execution_record(adopted, execution)
        self.recorder.put(run, adopted)
        self._emit_raw(ApplyEvent("adopted", run, workflow, execution.id, "adopted an interrupted start"))

    # ------------------------------------------------------------------ helpers

    def _resolve(self, change: Change) -> dict[str, PlannedInput]:
        def done(upstream: str) -> RunRecord | None:
            record = self.recorder.runs.get(upstream)
            if record is None or record.execution is None or record.execution.state != "completed":
                return None
            return None if record.outputs_unread() else record

        resolved = planned_inputs(self.desired.runs[change.run], done)
        unknown = [n for n, i in resolved.items() if i.value is UNKNOWN]
        if unknown:
            raise RemoteError(f"inputs {', '.join(unknown)} still unknown after their runs completed")
        return resolved

    @contextlib.asynccontextmanager
    async def _request(self, workflow: str) -> AsyncIterator[None]:
        """One request of ``workflow`` in flight: within its adaptive limit, then the global one."""
        async with self._pacing.slot(workflow), self._limit:
            yield

    def _limit_changed(self, change: LimitChange) -> None:
        if change.why == "recovered":
            message = f"answers again: back to {change.limit} requests at once"
        elif change.why == "growing":
            message = f"answers again: up to {change.limit} of its requests at once"
        else:
            message = f"the server answered {change.why} (busy): at most {change.limit} of its requests at once"
        self._emit_raw(ApplyEvent("limit_changed", "", change.workflow, message=message, limit=change.limit))

    def _endpoint_notice(self, notice: Notice) -> None:
        """One event per outage of the endpoint (and one when it answers again): ``run`` is empty."""
        kind = "endpoint_reachable" if notice.reachable else "endpoint_unreachable"
        self._emit_raw(ApplyEvent(kind, "", message=notice.message))

    def _finish(
        self, change: Change, outcome: Outcome, message: str, kind: str, execution: str | None = None
    ) -> RunResult:
        self._emit(kind, change, execution=execution, message=message)
        return RunResult(change.run, outcome, message, execution)

    def _emit(
        self,
        kind: str,
        change: Change,
        *,
        execution: str | None = None,
        message: str | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> None:
        self._emit_raw(ApplyEvent(kind, change.run, change.workflow, execution, message, outputs))

    def _emit_raw(self, event: ApplyEvent) -> None:
        if self.listener is not None:
            self.listener(event)


class _States:
    """What the watcher reads, through the engine's request limits."""

    def __init__(self, api: Api, request: Callable[[str], contextlib.AbstractAsyncContextManager[None]]) -> None:
        self._api = api
        self._request = request

    async def list_states(self, workflow_id: str) -> dict[str, str]:
        async with self._request(workflow_id):
            return await self._api.list_states(workflow_id)

    async def get_execution(self, workflow_id: str, execution_id: str) -> RemoteExecution:
        async with self._request(workflow_id):
            return await self._api.get_execution(workflow_id, execution_id)


def _refused_start(err: RemoteError) -> bool:
    """The start request itself was answered with a refusal (4xx, or 429/503 after retries): it was not
    processed. Not so for an error of the lookup that follows a lost answer (the start may exist)."""
    return not isinstance(err, OutcomeUnknownError) and (err.operation or "").startswith("start execution")
