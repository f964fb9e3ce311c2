"""Building blocks of the apply-engine tests: a small catalog, stacks from YAML, and one `World`.

A `World` is the emulator in-process on real time (workflows last 0.1-0.5 s), the real client on it
through `httpx.ASGITransport` (wrapped to count requests in flight), and a local state file. Its
`apply` does what ``reconciler apply`` does between reading the state and closing the recorder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import yaml

from reconciler.applying.engine import Engine
from reconciler.applying.recorder import Recorder
from reconciler.applying.reports import ApplyEvent, ApplyReport
from reconciler.backends.local import LocalBackend
from reconciler.desired.loading import load_stack
from reconciler.desired.runs import DesiredStack
from reconciler.emulator import EmulatorOptions, create_app, emulator_of, parse_catalog
from reconciler.emulator.clock import Clock
from reconciler.emulator.context import Emulator
from reconciler.planning.changes import Plan
from reconciler.planning.planner import make_plan
from reconciler.remote import ApiSettings, WorkflowClient
from reconciler.state.models import State

ECHO = "00000000-0000-4000-8000-0000000a0001"  # name, note -> id (from name only), shout; 0.1 s
READS = "00000000-0000-4000-8000-0000000a0002"  # upstream -> seen; 0.1 s
FAILS = "00000000-0000-4000-8000-0000000a0003"  # name -> ok; fails when name starts with "bad"
HANGS = "00000000-0000-4000-8000-0000000a0004"  # name -> done; never ends when name starts with "stuck"
WIDE = "00000000-0000-4000-8000-0000000a0005"  # name -> done; 0.5 s, to see many running at once

LINEAGE = "0b9c7f7e-1d2a-4c3b-9e8f-00000000a991"
SALT = "c2FsdC1mb3ItYXBwbHlpbmc="
SETTINGS = ApiSettings(url="http://emulator", api_version="37.1", org="System", username="admin", password="admin")


def _workflow(wid: str, name: str, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], **more: Any) -> Any:
    return {"id": wid, "name": name, "inputs": inputs, "outputs": outputs, "initializing": 0.02, **more}


_NAME = {"name": "name", "type": "string"}
CATALOG = parse_catalog(
    yaml.safe_dump(
        {
            "apiVersions": ["37.1"],
            "workflows": [
                _workflow(
                    ECHO,
                    "Echo",
                    [_NAME, {"name": "note", "type": "string", "required": False, "default": ""}],
                    [
                        {"name": "id", "type": "string", "template": "id-${inputs.name|hash:8}"},
                        {"name": "shout", "type": "string", "template": "${inputs.name|upper}"},
                    ],
                    duration=0.1,
                ),
                _workflow(
                    READS,
                    "Reads",
                    [{"name": "upstream", "type": "string"}],
                    [{"name": "seen", "type": "string", "template": "seen-${inputs.upstream}"}],
                    duration=0.1,
                ),
                _workflow(
                    FAILS,
                    "Maybe fails",
                    [_NAME],
                    [{"name": "ok", "type": "string", "template": "ok-${inputs.name}"}],
                    duration=0.1,
                    failWhen=[{"input": "name", "matches": "^bad", "message": "refused ${inputs.name}: quota"}],
                ),
                _workflow(
                    HANGS,
                    "Hangs",
                    [_NAME],
                    [{"name": "done", "type": "string", "template": "done-${inputs.name}"}],
                    duration=0.1,
                    hangWhen=[{"input": "name", "matches": "^stuck"}],
                ),
                _workflow(
                    WIDE,
                    "Wide",
                    [_NAME],
                    [{"name": "done", "type": "string", "template": "wide-${inputs.name}"}],
                    duration=0.5,
                ),
            ],
            "users": [{"name": "admin", "org": "System", "password": "admin"}],
        }
    )
)

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: applying-tests}
spec:
  endpoint:
    url: http://emulator
    apiVersion: "37.1"
    org: System
    auth: {username: admin, passwordFrom: {env: VCD_PASSWORD}}
"""


def run_doc(name: str, workflow: str, parameters: Mapping[str, Any], **spec: Any) -> dict[str, Any]:
    """One WorkflowRun manifest document; ``spec`` adds dependsOn, timeoutSeconds, ..."""
    body = {"workflow": workflow, "parameters": dict(parameters), **spec}
    return {"apiVersion": "reconciler/v1", "kind": "WorkflowRun", "metadata": {"name": name}, "spec": body}


def desired_of(*documents: Mapping[str, Any]) -> DesiredStack:
    text = "---\n".join(yaml.safe_dump(dict(d), sort_keys=False) for d in documents)
    _, desired = load_stack(STACK, "reconciler.yaml", [("manifests/runs.yaml", text)], {}, [], {}, _no_files)
    return desired


def _no_files(path: str) -> str:
    raise FileNotFoundError(path)


def empty_state() -> State:
    return State(lineage=LINEAGE, salt=SALT)


class CountingTransport(httpx.AsyncBaseTransport):
    """ASGITransport that tracks how many requests are in flight at once (and the most ever)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    def reset(self) -> None:
        self.max_in_flight = self.in_flight
        self.requests.clear()


@dataclass
class Applied:
    plan: Plan
    report: ApplyReport
    events: list[ApplyEvent]
    state: State  # as a new backend object reads it from disk afterwards


@dataclass
class World:
    path: Path
    latency: float = 0.0
    clock: Clock | None = None  # the emulator's; real time when None
    app: Any = field(init=False)
    transport: CountingTransport = field(init=False)
    client: WorkflowClient = field(init=False)

    def __post_init__(self) -> None:
        self.app = create_app(CATALOG, EmulatorOptions(latency=self.latency, seed=11), clock=self.clock)
        self.transport = CountingTransport(self.app)
        self.client = WorkflowClient(SETTINGS, transport=self.transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.client.aclose()

    @property
    def emulator(self) -> Emulator:
        return emulator_of(self.app)

    def backend(self) -> LocalBackend:
        return LocalBackend(self.path)

    def stored(self) -> State:
        state = self.backend().read()
        assert state is not None
        return state

    def write(self, state: State) -> None:
        """Replace the state file with ``state`` (whatever is there)."""
        backend = self.backend()
        current = backend.read()
        backend.write(state, None if current is None else current.serial, force=True)

    def starts(self, workflow: str, **inputs: Any) -> list[Any]:
        """The starts the emulator accepted for ``workflow`` whose inputs include ``inputs``."""
        return [
            s
            for s in self.emulator.starts
            if s.workflow_id == workflow and all(s.inputs.get(k) == v for k, v in inputs.items())
        ]

    async def apply(
        self, desired: DesiredStack, *, parallelism: int = 10, stop: asyncio.Event | None = None
    ) -> Applied:
        """Plan against the stored state (an empty one when none) and carry the plan out."""
        backend = self.backend()
        state = backend.read()
        if state is None:
            state = empty_state()
            backend.write(state, None)
        recorder = Recorder(backend, state)
        recorder.start()
        plan = make_plan(desired, recorder.snapshot(), exists=True)
        events: list[ApplyEvent] = []
        engine = Engine(plan, desired, recorder, self.client, parallelism, events.append, stop)
        try:
            report = await asyncio.wait_for(engine.run(), timeout=10)
        finally:
            await recorder.close()
        return Applied(plan, report, events, self.stored())
