"""``apply``, ``refresh`` and ``import``: the operations that talk to the server and write the state.

Each holds the state lock for its whole length (like Terraform: plan, approval and apply under one
lock, so nothing can change the state between the plan shown and the plan carried out).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.applying.engine import Engine
from reconciler.applying.recorder import Recorder
from reconciler.applying.records import execution_record
from reconciler.applying.refreshing import refresh_records
from reconciler.applying.reports import ApplyReport, Listener
from reconciler.backends.base import StateBackend
from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError, ReconcilerError, StateError, UserError
from reconciler.operations.definitions import cached_definitions, read_definitions_with
from reconciler.operations.endpoint import api_settings, redactor_of
from reconciler.operations.project import Inputs, Project, new_state, read_text_file
from reconciler.planning.adopting import adopted_inputs
from reconciler.planning.changes import Plan
from reconciler.planning.checking import check_runs
from reconciler.planning.ownership import foreign_state_problem
from reconciler.planning.planner import PlanOptions, make_plan, planned_key
from reconciler.planning.resolving import UNKNOWN
from reconciler.planning.saved import SavedPlan, check_basis, check_same
from reconciler.planning.saved import load as load_saved
from reconciler.redaction import Redactor
from reconciler.remote.client import WorkflowClient
from reconciler.remote.matching import same_value
from reconciler.remote.settings import ApiSettings
from reconciler.state.models import RunRecord, State
from reconciler.state.renaming import rename_problem

Approve = Callable[[Plan], bool]


@dataclass
class ApplyRequest:
    inputs: Inputs
    options: PlanOptions
    saved: SavedPlan | None = None
    refresh: bool = True
    parallelism: int | None = None
    lock_timeout: float = 0.0
    # called once, when approved work starts (it may run for hours): the caller's moment to set up
    # what long-running work needs (the CLI turns the garbage collector back on)
    starting: Callable[[], None] = lambda: None


def saved_request(path: str, refresh: bool, parallelism: int | None, lock_timeout: float) -> ApplyRequest:
    """The request that applies the plan saved at ``path``: its variables, var files and options."""
    saved = load_saved(read_text_file(path), path)
    inputs = Inputs(dict(saved.variables), list(saved.var_files))
    options = PlanOptions(saved.targets, saved.replace)
    return ApplyRequest(inputs, options, saved, refresh=refresh, parallelism=parallelism, lock_timeout=lock_timeout)


@dataclass
class Applied:
    plan: Plan
    report: ApplyReport | None  # None: not approved, or nothing to do


def apply(
    project: Project, request: ApplyRequest, approve: Approve, listener: Listener, stop: asyncio.Event | None = None
) -> Applied:
    backend = project.backend()
    settings = api_settings(project)
    with backend.lock("apply", request.lock_timeout):
        desired = project.load(request.inputs)
        stored = backend.read()
        if request.saved is not None:
            check_basis(
                request.saved,
                stored.lineage if stored else None,
                stored.serial if stored else None,
                desired.manifests_digest,
            )
        saved = request.saved
        state = stored or new_state(
            saved.lineage if saved else None, saved.salt if saved else None, project.stack.metadata.name
        )
        parallelism = request.parallelism or project.stack.spec.parallelism
        return asyncio.run(
            _apply(
                backend,
                settings,
                state,
                stored is not None,
                desired,
                project.stack.metadata.name,
                request,
                parallelism,
                approve,
                listener,
                stop,
            )
        )


async def _apply(
    backend: StateBackend,
    settings: ApiSettings,
    state: State,
    exists: bool,
    desired: DesiredStack,
    stack_name: str,
    request: ApplyRequest,
    parallelism: int,
    approve: Approve,
    listener: Listener,
    stop: asyncio.Event | None,
) -> Applied:
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    async with WorkflowClient(settings, max_connections=parallelism + 2, redactor=redactor_of(desired)) as client:
        workflows = {run.workflow for run in desired.runs.values()}
        definitions = await read_definitions_with(client, workflows, parallelism)  # once, kept for offline checks
        await asyncio.to_thread(backend.write_definitions, settings.url, list(definitions.known.values()))
        checked = check_runs(desired, definitions)  # what plan checks, before anything starts
        if checked.problems:
            raise ManifestError(list(checked.problems))
        recorder = Recorder(backend, state)
        if exists:
            recorder.start()
            if request.refresh:
                for name, record in (await refresh_records(client, state.runs, parallelism)).items():
                    recorder.put(name, record)
        plan = make_plan(desired, recorder.snapshot(), exists, request.options)
        refused = foreign_state_problem(stack_name, state, plan)
        if refused is not None:
            await recorder.close()
            raise StateError(refused)
        if request.saved is not None:
            check_same(request.saved, plan)
        if not plan.has_changes or (request.saved is None and not approve(plan)):
            await recorder.close()
            return Applied(plan, None)
        if not exists:
            await asyncio.to_thread(backend.write, state, None)
            recorder.start()
        request.starting()
        record_moves(recorder, plan)
        engine = Engine(plan, desired, recorder, client, parallelism, listener, stop, settings.request_timeout)
        try:
            report = await engine.run()
        finally:
            await recorder.close()
        return Applied(plan, report)


def record_moves(recorder: Recorder, plan: Plan) -> None:
    """Rename the records the plan moves (``spec.movedFrom``) before anything starts, by the rule of
    ``state mv``. Each move is a put and a remove queued together (no await between): the recorder
    writes them in one journal group, so a crash leaves the record under one name, never two."""
    for move in plan.moves:
        refused = rename_problem(recorder.runs, move.old, move.new)
        if refused is not None:  # the plan was made from this very state: a bug if it happens
            raise StateError(f"cannot move {move.old!r} to {move.new!r}: {refused}")
        record = recorder.runs[move.old]
        recorder.put(move.new, record)
        recorder.remove(move.old)


def _stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C / SIGTERM: start nothing new, record what is started, then exit non-zero."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():  # the second one: quit now; the durable intents let the next apply adopt
            sys.stderr.write("\nStopped at once. The next apply looks up and adopts what was started.\n")
            sys.stderr.flush()
            _end_by(sig)
        sys.stderr.write(
            "\nStopping: nothing new starts; recording what was started. Press Ctrl-C again to quit at once.\n"
        )
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)


def _end_by(sig: signal.Signals) -> None:
    """End the process as ``sig``'s default action does (the shell sees 128 + its number)."""
    signal.signal(sig, signal.SIG_DFL)
    signal.raise_signal(sig)


def refresh(project: Project, lock_timeout: float) -> dict[str, RunRecord]:
    backend = project.backend()
    settings = api_settings(project)
    with backend.lock("refresh", lock_timeout):
        state = backend.read()
        if state is None:
            return {}
        redactor, declared = _known_secrets(project)
        # the definitions re-read: those of the declared and recorded runs, and those kept already
        workflows = declared | {r.workflow for r in state.runs.values()} | set(cached_definitions(project).known)
        return asyncio.run(_refresh(backend, settings, state, project.stack.spec.parallelism, redactor, workflows))


def _known_secrets(project: Project) -> tuple[Redactor, set[str]]:
    """The secrets of the declared runs when the manifests load without variables (``refresh`` takes
    none), so that what the server echoes of them is redacted; else none (only what the state holds).
    And the workflows those runs use."""
    try:
        desired = project.load(Inputs())
    except ReconcilerError:
        return Redactor(), set()
    return redactor_of(desired), {run.workflow for run in desired.runs.values()}


async def _refresh(
    backend: StateBackend,
    settings: ApiSettings,
    state: State,
    parallelism: int,
    redactor: Redactor,
    workflows: set[str],
) -> dict[str, RunRecord]:
    async with WorkflowClient(settings, redactor=redactor) as client:
        changed = await refresh_records(client, state.runs, parallelism)
        definitions = await read_definitions_with(client, workflows, parallelism)
    backend.write_definitions(settings.url, list(definitions.known.values()))
    if changed:
        recorder = Recorder(backend, state)
        recorder.start()
        for name, record in changed.items():
            recorder.put(name, record)
        await recorder.close()
    return changed


def import_execution(project: Project, inputs: Inputs, run: str, execution_id: str, lock_timeout: float) -> RunRecord:
    """Adopt an execution that already exists on the server as the record of declared run ``run``."""
    backend = project.backend()
    settings = api_settings(project)
    with backend.lock("import", lock_timeout):
        desired = project.load(inputs)
        if run not in desired.runs:
            raise UserError(f"no run named {run!r} is declared in the manifests; declare it before importing")
        stored = backend.read()
        state = stored or new_state(stack=project.stack.metadata.name)
        if run in state.runs:
            raise UserError(f"run {run!r} is already recorded (use `reconciler state rm {run}` first)")
        return asyncio.run(_import(backend, settings, state, stored is not None, desired, run, execution_id))


async def _import(
    backend: StateBackend,
    settings: ApiSettings,
    state: State,
    exists: bool,
    desired: DesiredStack,
    run: str,
    execution_id: str,
) -> RunRecord:
    spec = desired.runs[run]
    async with WorkflowClient(settings, redactor=redactor_of(desired)) as client:
        remote = await client.get_execution(spec.workflow, execution_id)
    plan = make_plan(desired, state, exists, PlanOptions(targets=(run,)))
    change = plan.by_run()[run]
    matches = all(
        i.value is not UNKNOWN and name in remote.inputs and same_value(i.type, i.value, remote.inputs[name][1])
        for name, i in change.inputs.items()
    )
    key = planned_key(spec, change.inputs, state.salt) if matches else None
    base = RunRecord(
        workflow=spec.workflow,
        key=key or f"imported:{execution_id}",
        revision=spec.revision,
        attempts=1,
        depends_on=sorted(spec.depends_on),
    )
    base = base.model_copy(update={"inputs": adopted_inputs(change.inputs, remote.inputs, state.salt, same_value)})
    record = execution_record(base, remote)
    if not exists:
        await asyncio.to_thread(backend.write, state, None)
    recorder = Recorder(backend, state)
    recorder.start()
    recorder.put(run, record)
    await recorder.close()
    return record
