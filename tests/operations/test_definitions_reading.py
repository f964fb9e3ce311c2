"""Reading workflow definitions for a command (reconciler/operations/definitions.py): once per
workflow, within the parallelism, through one client; what each kind of answer becomes; the cache
that apply and refresh fill and that offline commands read."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from reconciler.definitions import Definitions
from reconciler.emulator import running_server
from reconciler.emulator.app import create_app
from reconciler.emulator.catalog import parse_catalog
from reconciler.emulator.clock import ManualClock
from reconciler.emulator.options import EmulatorOptions
from reconciler.emulator.serving import load_catalog
from reconciler.operations.apply import ApplyRequest, apply, refresh
from reconciler.operations.definitions import (
    cached_definitions,
    endpoint_url,
    keep_definitions,
    read_definitions,
    read_definitions_with,
)
from reconciler.operations.project import Inputs, Project, open_project
from reconciler.planning.planner import PlanOptions
from reconciler.remote.client import WorkflowClient
from reconciler.remote.retrying import RetryPolicy
from tests.remote.emulated import CREATE_NETWORK, PROVISION_VM, REGISTER_DNS, DropsAsHttpx, provider, tenant
from tests.remote.scripted_vcd import ScriptedVcd, error
from tests.support.fakes import FakeSleep

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
PRESENTATION = "/presentation"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Counting:
    """An ASGI wrapper that counts presentation requests per path and the most in flight at once."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.paths: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = scope["type"] == "http" and str(scope["path"]).endswith(PRESENTATION)
        if counted:
            self.paths[scope["path"]] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            if counted:
                self.in_flight -= 1

    def reads(self) -> int:
        return sum(self.paths.values())


def many_workflows(count: int) -> str:
    workflows = "".join(
        f"  - {{id: wf-{i}, name: W{i}, inputs: [{{name: a, type: string}}], "
        f"outputs: [{{name: b, type: string, from: a}}]}}\n"
        for i in range(count)
    )
    return f"workflows:\n{workflows}users:\n  - {{name: admin, org: System, password: admin}}\n"


def in_process(app: Any, **settings: Any) -> WorkflowClient:
    return WorkflowClient(provider(**settings), transport=DropsAsHttpx(cast(Starlette, app)), sleep=FakeSleep())


async def test_each_workflow_is_read_once_and_no_more_than_parallelism_at_a_time() -> None:
    app = create_app(parse_catalog(many_workflows(12)), EmulatorOptions(latency=0.02), clock=ManualClock())
    counting = Counting(app)
    wanted = [f"wf-{i}" for i in range(12)] * 3  # each named three times: still one read each
    async with in_process(counting) as client:
        definitions = await read_definitions_with(client, wanted, parallelism=3)
    assert sorted(definitions.known) == sorted(set(wanted))
    assert counting.reads() == 12
    assert set(counting.paths.values()) == {1}
    assert counting.most_in_flight == 3
    assert definitions.source == "server"
    assert (definitions.unavailable, definitions.unread) == ({}, {})


async def test_the_definitions_read_carry_types_mandatory_flags_and_when_they_were_read() -> None:
    app = create_app(load_catalog(None), EmulatorOptions(), clock=ManualClock())
    async with in_process(app) as client:
        definitions = await read_definitions_with(client, [PROVISION_VM, REGISTER_DNS], parallelism=2)
    vm = definitions.known[PROVISION_VM]
    assert vm.read_at is not None
    assert {p.name for p in vm.inputs if p.mandatory} == {"vmName", "cpuCount", "memoryGb", "network", "adminPassword"}
    assert {p.name for p in vm.inputs if p.mandatory is False} == {"powerOn", "tags", "owner"}
    assert [(p.name, p.type) for p in vm.outputs] == [
        ("vmId", "string"),
        ("ipAddress", "string"),
        ("initialToken", "SecureString"),
    ]
    dns = definitions.known[REGISTER_DNS]
    zone = dns.input("zone")
    assert zone is not None and (zone.default, zone.description) == ("demo.internal", "DNS zone")


@pytest.mark.parametrize(("missing_status", "minor"), [(403, "not found or not accessible"), (404, "not found")])
async def test_a_workflow_the_server_refuses_is_unavailable_with_status_and_message(
    missing_status: int, minor: str
) -> None:
    options = EmulatorOptions(missing_status=cast(Any, missing_status))
    app = create_app(load_catalog(None), options, clock=ManualClock())
    async with in_process(app) as client:
        definitions = await read_definitions_with(client, ["nope", CREATE_NETWORK], parallelism=2)
    assert list(definitions.known) == [CREATE_NETWORK]
    unavailable = definitions.unavailable["nope"]
    assert (unavailable.workflow_id, unavailable.status) == ("nope", missing_status)
    assert unavailable.message == "Workflow nope not found or not accessible"
    assert minor in unavailable.message


async def test_a_workflow_hidden_from_the_users_org_is_unavailable() -> None:
    catalog = parse_catalog(
        "workflows:\n  - {id: mine, name: Mine, orgs: [acme]}\n  - {id: theirs, name: Theirs, orgs: [globex]}\n"
        "users:\n  - {name: deployer, org: acme, password: deployer}\n"
    )
    app = create_app(catalog, EmulatorOptions(), clock=ManualClock())
    async with WorkflowClient(tenant(), transport=DropsAsHttpx(app)) as client:
        definitions = await read_definitions_with(client, ["mine", "theirs"], parallelism=2)
    assert list(definitions.known) == ["mine"]
    assert definitions.unavailable["theirs"].status == 403


def scripted(*answers: tuple[str, httpx.Response]) -> ScriptedVcd:
    vcd = ScriptedVcd()
    for workflow, answer in answers:
        vcd.default("GET", f"/cloudapi/workflows/{workflow}/presentation", answer)
    return vcd


def scripted_client(vcd: ScriptedVcd) -> WorkflowClient:
    settings = provider("https://vcd.scripted")
    return WorkflowClient(settings, transport=vcd.transport(), sleep=FakeSleep(), retry=RetryPolicy(attempts=2))


GOOD = {"name": "Good", "inputParameters": [{"name": "a", "type": "string"}], "outputParameters": []}


async def test_a_malformed_presentation_is_unread_naming_the_workflow_and_what_was_wrong() -> None:
    vcd = scripted(
        ("nameless", httpx.Response(200, json={"inputParameters": [{"type": "string"}]})),
        ("listless", httpx.Response(200, json={"outputParameters": {"a": 1}})),
        ("formless", httpx.Response(200, json={**GOOD, "steps": [{"elements": ["field"]}]})),
        ("text", httpx.Response(200, text="<html>maintenance</html>")),
        ("good", httpx.Response(200, json=GOOD)),
    )
    async with scripted_client(vcd) as client:
        definitions = await read_definitions_with(client, ["nameless", "listless", "formless", "text", "good"], 4)
    assert list(definitions.known) == ["good"]
    unread = definitions.unread
    assert unread["nameless"].startswith("the presentation of workflow nameless is malformed: ")
    assert "input parameter {'type': 'string'} has no name" in unread["nameless"]
    assert "outputParameters is dict, not a list" in unread["listless"]
    assert "steps[0].elements[0] is str, not an object" in unread["formless"]
    assert "the presentation of workflow text is malformed" in unread["text"]


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (error(405, "Method not allowed", "METHOD_NOT_ALLOWED"), "405 Method Not Allowed: Method not allowed"),
        (error(501, "Not implemented", "NOT_IMPLEMENTED"), "501 Not Implemented: Not implemented"),
        (error(400, "Presentations are not supported"), "400 Bad Request: Presentations are not supported"),
    ],
)
async def test_a_server_that_does_not_serve_presentations_leaves_them_unread_with_why(
    answer: httpx.Response, shown: str
) -> None:
    vcd = scripted(("a", answer), ("b", answer))
    async with scripted_client(vcd) as client:
        definitions = await read_definitions_with(client, ["a", "b"], parallelism=1)
    assert definitions.known == {} and definitions.unavailable == {}
    assert definitions.unread["a"] == f"the server did not serve it: read the presentation of workflow a: {shown}"
    assert set(definitions.unread) == {"a", "b"}


async def test_an_unreachable_server_is_tried_once_for_all_workflows() -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    settings = provider("https://vcd.down")
    client = WorkflowClient(
        settings, transport=httpx.MockTransport(refuse), sleep=FakeSleep(), retry=RetryPolicy(attempts=1)
    )
    async with client:
        definitions = await read_definitions_with(client, ["a", "b", "c"], parallelism=1)
    assert set(definitions.unread) == {"a", "b", "c"}
    assert len(set(definitions.unread.values())) == 1
    assert definitions.unread["a"].startswith("the server could not be used: ")
    assert "cannot connect to https://vcd.down" in definitions.unread["a"]
    assert len(attempts) == 1  # the login of the first read; nothing more was tried


async def test_a_refused_login_leaves_every_workflow_unread() -> None:
    app = create_app(load_catalog(None), EmulatorOptions(), clock=ManualClock())
    async with WorkflowClient(tenant(password="wrong"), transport=DropsAsHttpx(app), sleep=FakeSleep()) as client:
        definitions = await read_definitions_with(client, [PROVISION_VM, REGISTER_DNS], parallelism=1)
    assert set(definitions.unread) == {PROVISION_VM, REGISTER_DNS}
    assert "401" in definitions.unread[PROVISION_VM]
    assert "wrong" not in definitions.unread[PROVISION_VM]


async def test_nothing_to_read_sends_nothing() -> None:
    vcd = ScriptedVcd()
    async with scripted_client(vcd) as client:
        definitions = await read_definitions_with(client, [], parallelism=4)
    assert definitions.known == {} and vcd.requests == []


# ------------------------------------------------------------------ a project, over a real socket

RUNS = f"""\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {{name: net}}
spec:
  workflow: {CREATE_NETWORK}
  parameters: {{name: n1, cidr: 10.0.1.0/24}}
---
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {{name: dns}}
spec:
  workflow: {REGISTER_DNS}
  parameters: {{hostname: h, ip: 10.0.1.5}}
"""


def write_project(root: Path, url: str, parallelism: int = 2) -> Project:
    stack = {
        "apiVersion": "reconciler/v1",
        "kind": "Stack",
        "metadata": {"name": "defs"},
        "spec": {
            "endpoint": {
                "url": url,
                "apiVersion": "37.2",
                "org": "System",
                "auth": {"username": "admin", "passwordFrom": {"env": "DEFS_PASSWORD"}},
            },
            "manifests": ["manifests"],
            "parallelism": parallelism,
        },
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(stack), encoding="utf-8")
    (root / "manifests").mkdir(exist_ok=True)
    (root / "manifests" / "runs.yaml").write_text(RUNS, encoding="utf-8")
    return open_project(str(root), {"DEFS_PASSWORD": "admin"})


@pytest.fixture
def served() -> Iterator[tuple[str, Counting]]:
    counting = Counting(create_app(load_catalog(None), EmulatorOptions()))
    with running_server(cast(Starlette, counting)) as url:
        yield url, counting


def test_read_definitions_of_a_project_over_a_socket(tmp_path: Path, served: tuple[str, Counting]) -> None:
    url, counting = served
    project = write_project(tmp_path, url + "/")
    definitions = read_definitions(project, [CREATE_NETWORK, REGISTER_DNS, "nope", CREATE_NETWORK])
    assert sorted(definitions.known) == sorted([CREATE_NETWORK, REGISTER_DNS])
    assert definitions.unavailable["nope"].status == 403
    assert counting.reads() == 3
    assert endpoint_url(project) == url
    assert cached_definitions(project).known == {}  # reading keeps nothing: plan is read-only


def test_kept_definitions_are_served_from_the_cache_without_the_server(tmp_path: Path) -> None:
    with running_server(create_app(load_catalog(None), EmulatorOptions())) as url:
        project = write_project(tmp_path, url)
        keep_definitions(project, read_definitions(project, [CREATE_NETWORK, REGISTER_DNS]))
    # the server is gone: the cache answers alone
    cached = cached_definitions(project)
    assert cached.source == "cache"
    assert sorted(cached.known) == sorted([CREATE_NETWORK, REGISTER_DNS])
    assert all(d.read_at is not None for d in cached.known.values())
    assert list(cached_definitions(project, [REGISTER_DNS]).known) == [REGISTER_DNS]
    moved = open_project(str(tmp_path), {"DEFS_PASSWORD": "admin", "RECONCILER_ENDPOINT": "https://elsewhere.test"})
    assert cached_definitions(moved).known == {}  # kept per endpoint


def test_settings_that_cannot_reach_a_server_leave_every_workflow_unread(tmp_path: Path) -> None:
    project = write_project(tmp_path, "https://vcd.test")
    unset = open_project(str(tmp_path), {})  # DEFS_PASSWORD is not set
    definitions = read_definitions(unset, [CREATE_NETWORK])
    assert "DEFS_PASSWORD is not set" in definitions.unread[CREATE_NETWORK]
    assert cached_definitions(project).known == {}


def test_apply_reads_the_definitions_once_at_its_start_and_keeps_them(
    tmp_path: Path, served: tuple[str, Counting]
) -> None:
    url, counting = served
    project = write_project(tmp_path, url)
    request = ApplyRequest(Inputs(), PlanOptions())
    applied = apply(project, request, approve=lambda plan: False, listener=lambda event: None)
    assert applied.report is None  # declined: nothing started, the definitions read are kept all the same
    assert counting.reads() == 2
    kept = cached_definitions(project)
    assert sorted(kept.known) == sorted([CREATE_NETWORK, REGISTER_DNS])
    network = kept.known[CREATE_NETWORK]
    assert [p.name for p in network.outputs] == ["networkId", "gateway"]


def test_refresh_re_reads_the_kept_definitions(tmp_path: Path, served: tuple[str, Counting]) -> None:
    url, counting = served
    project = write_project(tmp_path, url)
    assert apply(project, ApplyRequest(Inputs(), PlanOptions()), lambda plan: True, lambda event: None).report
    first = cached_definitions(project).known[REGISTER_DNS].read_at
    reads = counting.reads()
    refresh(project, lock_timeout=5.0)
    assert counting.reads() == reads + 2
    again = cached_definitions(project).known[REGISTER_DNS].read_at
    assert first is not None and again is not None and again > first


def test_a_backend_that_cannot_be_opened_gives_no_cached_definitions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_project(tmp_path, "https://vcd.test")
    doc = yaml.safe_load((tmp_path / "reconciler.yaml").read_text("utf-8"))
    doc["spec"]["backend"] = {"type": "postgres", "dsnFrom": {"env": "DEFS_DSN"}}
    (tmp_path / "reconciler.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    project = open_project(str(tmp_path), {})
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert cached_definitions(project) == Definitions(source="cache")
    assert "DEFS_DSN, which is not set" in caplog.text
