"""The real client against the real emulator in-process: every call, error, login flow and fault."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.emulator.clock import ManualClock
from reconciler.errors import (
    AuthError,
    NotFoundError,
    OutcomeUnknownError,
    PermanentRemoteError,
    VersionNotSupportedError,
)
from reconciler.remote import ANY_USER, ApiSettings, WorkflowClient
from tests.support.fakes import FakeSleep

from .emulated import (
    BASE_URL,
    CREATE_NETWORK,
    PROVISION_VM,
    REGISTER_DNS,
    DropsAsHttpx,
    emulator,
    make_app,
    now_of,
    provider,
    starts_of,
    tenant,
    vm_inputs,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock) -> Starlette:
    return make_app(clock)


def connect(app: Starlette, settings: ApiSettings, sleep: FakeSleep) -> WorkflowClient:
    return WorkflowClient(settings, transport=DropsAsHttpx(app), sleep=sleep)


@pytest.mark.parametrize("fmt", ["openapi", "vro"])
async def test_start_read_list_and_complete(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep, fmt: str
) -> None:
    async with connect(app, tenant(value_format=fmt), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        assert started.workflow_id == PROVISION_VM
        assert started.started_by is not None and started.started_by.lower() == "deployer@acme"
        assert c.identity is not None and c.identity.lower() == "deployer@acme"
        assert not started.is_terminal
        assert await c.get_state(PROVISION_VM, started.id) in ("initializing", "running")

        clock.advance(10)
        done = await c.get_execution(PROVISION_VM, started.id)
        assert done.state == "completed" and done.end_date is not None and done.start_date is not None
        assert done.end_date > done.start_date
        assert done.inputs["vmName"] == ("string", "web-01")
        assert done.inputs["tags"] == ("Array/string", ["prod", "web"])
        assert done.inputs["cpuCount"] == ("number", 2)
        assert set(done.outputs) >= {"vmId", "ipAddress"}
        assert done.outputs["vmId"][0] == "string" and done.outputs["vmId"][1].startswith("vm-")
        assert all(name.startswith(("_vcd_", "_vdc_")) for name in done.token_inputs)
        assert not any(name.startswith("_vcd_") for name in done.inputs)

        rows = await c.list_executions(PROVISION_VM)
        assert [(r.id, r.state) for r in rows] == [(started.id, "completed")]
        assert await c.get_state(PROVISION_VM, started.id) == "completed"


async def test_state_as_an_object_is_read_too(clock: ManualClock, fake_sleep: FakeSleep) -> None:
    app = make_app(clock, state_format="object")
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        assert await c.get_state(PROVISION_VM, started.id) in ("initializing", "running")


@pytest.mark.parametrize("output_format", ["openapi", "vro"])
async def test_answers_in_either_format_are_decoded(
    clock: ManualClock, fake_sleep: FakeSleep, output_format: str
) -> None:
    app = make_app(clock, output_format=output_format)
    async with connect(app, tenant(value_format="openapi"), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        again = await c.get_execution(PROVISION_VM, started.id)
    assert again.inputs["tags"] == ("Array/string", ["prod", "web"])


async def test_cancel(app: Starlette, clock: ManualClock, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        stuck = await c.start_execution(PROVISION_VM, vm_inputs("stuck-1"))
        clock.advance(60)
        assert await c.get_state(PROVISION_VM, stuck.id) == "running"
        await c.cancel(PROVISION_VM, stuck.id)
        assert await c.get_state(PROVISION_VM, stuck.id) == "canceled"


async def test_failed_execution_carries_the_content_exception(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs("fail-1"))
        clock.advance(10)
        failed = await c.get_execution(PROVISION_VM, started.id)
    assert failed.state == "failed"
    assert failed.content_exception is not None and "datastore full" in failed.content_exception


async def test_presentation(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        definition = await c.presentation(PROVISION_VM)
    inputs = {d.name: d for d in definition.inputs}
    outputs = {d.name for d in definition.outputs}
    assert definition.workflow_id == PROVISION_VM and definition.read_at is not None
    assert inputs["cpuCount"].type == "number"
    assert inputs["tags"].type == "Array/string"
    assert inputs["owner"].default == "platform-team"
    assert outputs >= {"vmId", "ipAddress"}


async def test_invalid_input_is_a_permanent_error_naming_operation_status_and_message(
    app: Starlette, fake_sleep: FakeSleep
) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        with pytest.raises(PermanentRemoteError) as info:
            await c.start_execution(PROVISION_VM, vm_inputs(cpuCount=("string", "two")))
    message = str(info.value)
    assert message.startswith(f"start execution of workflow {PROVISION_VM}: 400 Bad Request: ")
    assert "cpuCount" in message
    assert starts_of(app, PROVISION_VM) == []


@pytest.mark.parametrize("missing_status", [403, 404])
async def test_unknown_workflow_is_not_found(clock: ManualClock, fake_sleep: FakeSleep, missing_status: int) -> None:
    app = make_app(clock, missing_status=missing_status)
    async with connect(app, tenant(), fake_sleep) as c:
        with pytest.raises(NotFoundError) as info:
            await c.list_executions("00000000-0000-0000-0000-000000000000")
    assert info.value.status == missing_status
    assert str(info.value).startswith(
        f"list executions of workflow 00000000-0000-0000-0000-000000000000: {missing_status}"
    )


async def test_unsupported_version(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(api_version="99.0"), fake_sleep) as c:
        with pytest.raises(
            VersionNotSupportedError, match=r"does not support API version 99\.0; it offers .*37\.1.*or to auto"
        ):
            await c.list_executions(PROVISION_VM)


async def test_auto_uses_the_highest_tested_version_the_server_offers(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(api_version="auto"), fake_sleep) as c:
        assert c.api_version == "auto"
        await c.list_executions(PROVISION_VM)
        assert c.api_version == "38.0"  # the emulator offers 36.3 to 38.0, none deprecated


async def test_wrong_password_is_an_auth_error(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(password="wrong"), fake_sleep) as c:
        with pytest.raises(AuthError, match="log in as deployer@acme: 401"):
            await c.list_executions(PROVISION_VM)


@pytest.mark.parametrize(
    ("settings", "identity"),
    [
        (tenant(), "deployer@acme"),
        (provider(), "admin@system"),
        (ApiSettings(url=BASE_URL, api_version="37.1", org="System", api_token="demo-token"), "admin@system"),
        (ApiSettings(url=BASE_URL, api_version="37.1", org="acme", api_token="acme-token"), "deployer@acme"),
    ],
)
async def test_login_flows(app: Starlette, fake_sleep: FakeSleep, settings: ApiSettings, identity: str) -> None:
    async with connect(app, settings, fake_sleep) as c:
        assert (await c.login() or "").lower() == identity
        await c.list_executions(PROVISION_VM)


async def test_bad_api_token_is_an_auth_error(app: Starlette, fake_sleep: FakeSleep) -> None:
    settings = ApiSettings(url=BASE_URL, api_version="37.1", org="acme", api_token="nope")
    async with connect(app, settings, fake_sleep) as c:
        with pytest.raises(AuthError, match="log in to org acme with an API token: 400"):
            await c.login()


async def test_tenant_user_cannot_use_the_provider_login(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(org="System"), fake_sleep) as c:
        with pytest.raises(AuthError):
            await c.login()


async def test_logs_in_again_after_the_server_forgets_the_session(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        await c.list_executions(PROVISION_VM)
        emulator(app).sessions._by_token.clear()  # the server restarted / the session expired
        assert await c.list_executions(PROVISION_VM) == []
        assert len(emulator(app).sessions._by_token) == 1


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "429", "drop", "lost"])
async def test_reads_survive_every_fault_kind(app: Starlette, fake_sleep: FakeSleep, kind: str) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        emulator(app).faults.enqueue(kind, method="GET")
        emulator(app).faults.enqueue(kind, method="GET")
        assert (await c.get_execution(PROVISION_VM, started.id)).id == started.id
    assert len(fake_sleep.delays) == 2
    if kind in ("429", "503"):
        assert all(delay >= 1.0 for delay in fake_sleep.delays)  # Retry-After: 1


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "429", "drop", "lost"])
async def test_start_exactly_once_under_every_fault_kind(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep, kind: str
) -> None:
    since = now_of(clock)
    async with connect(app, tenant(), fake_sleep) as c:
        emulator(app).faults.enqueue(kind, method="POST", path_contains="/executions")
        execution = await c.start_exactly_once(PROVISION_VM, vm_inputs(), since)
    starts = starts_of(app, PROVISION_VM)
    assert len(starts) == 1
    assert starts[0].execution_id == execution.id


async def test_processed_then_dropped_is_adopted_not_restarted(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    since = now_of(clock)
    async with connect(app, tenant(), fake_sleep) as c:
        await c.start_execution(PROVISION_VM, vm_inputs("web-00"))  # same user, other inputs
        clock.advance(1)
        emulator(app).faults.enqueue("lost", method="POST")
        adopted = await c.start_exactly_once(PROVISION_VM, vm_inputs("web-01"), since)
    assert adopted.inputs["vmName"] == ("string", "web-01")
    assert [s.execution_id for s in starts_of(app, PROVISION_VM)][-1] == adopted.id
    assert len(starts_of(app, PROVISION_VM)) == 2
    assert fake_sleep.delays == []  # found on the first look


async def test_lost_start_with_the_list_failing_for_a_while(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    since = now_of(clock)
    async with connect(app, tenant(), fake_sleep) as c:
        emulator(app).faults.enqueue("lost", method="POST")
        for _ in range(3):
            emulator(app).faults.enqueue("503", method="GET")
        execution = await c.start_exactly_once(PROVISION_VM, vm_inputs(), since)
    assert [s.execution_id for s in starts_of(app, PROVISION_VM)] == [execution.id]


async def test_find_started_many_lists_once_and_reads_each_candidate_once(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    since = now_of(clock)
    async with connect(app, tenant(), fake_sleep) as c:
        ids = {}
        for name in ("a", "b", "c"):
            ids[name] = (await c.start_execution(PROVISION_VM, vm_inputs(f"web-{name}"))).id
            clock.advance(1)
        net = await c.start_execution(CREATE_NETWORK, {"name": ("string", "n"), "cidr": ("string", "10.0.1.0/24")})
        wanted = [(name, vm_inputs(f"web-{name}"), since) for name in ("a", "b", "c", "missing")]
        found = await c.find_started_many(PROVISION_VM, wanted)
        assert {k: (v.id if v else None) for k, v in found.items()} == {**ids, "missing": None}
        later = await c.find_started(PROVISION_VM, vm_inputs("web-a"), since + timedelta(minutes=10))
        assert later is None
        excluded = await c.find_started(PROVISION_VM, vm_inputs("web-a"), since, exclude=[ids["a"]])
        assert excluded is None
        other_user = await c.find_started(PROVISION_VM, vm_inputs("web-a"), since, user="admin@System")
        assert other_user is None
        anyone = await c.find_started(PROVISION_VM, vm_inputs("web-a"), since, user=ANY_USER)
        assert anyone is not None and anyone.id == ids["a"]
        assert (
            await c.find_started(CREATE_NETWORK, {"name": ("string", "n"), "cidr": ("string", "10.0.1.0/24")}, since)
        ) == await c.get_execution(CREATE_NETWORK, net.id)


async def test_a_defaulted_input_does_not_prevent_adoption(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    since = now_of(clock)
    inputs = {"hostname": ("string", "web-01"), "ip": ("string", "10.0.0.5")}  # zone defaults to demo.internal
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(REGISTER_DNS, inputs)
        found = await c.find_started(REGISTER_DNS, inputs, since)
    assert found is not None and found.id == started.id


async def test_many_concurrent_starts_share_one_login(app: Starlette, fake_sleep: FakeSleep) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        results = await asyncio.gather(*(c.start_execution(PROVISION_VM, vm_inputs(f"web-{i}")) for i in range(25)))
    assert len({e.id for e in results}) == 25
    assert len(emulator(app).sessions._by_token) == 1


async def test_cancel_of_an_execution_that_already_ended_is_fine(
    app: Starlette, clock: ManualClock, fake_sleep: FakeSleep
) -> None:
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        clock.advance(10)
        await c.cancel(PROVISION_VM, started.id)
        assert await c.get_state(PROVISION_VM, started.id) == "completed"


async def test_naive_since_is_taken_as_utc(app: Starlette, clock: ManualClock, fake_sleep: FakeSleep) -> None:
    since = now_of(clock).replace(tzinfo=None)
    async with connect(app, tenant(), fake_sleep) as c:
        started = await c.start_execution(PROVISION_VM, vm_inputs())
        found = await c.find_started(PROVISION_VM, vm_inputs(), since)
    assert found is not None and found.id == started.id


@pytest.mark.parametrize("seed", [1, 7, 42, 1234])
async def test_exactly_once_under_random_faults(clock: ManualClock, fake_sleep: FakeSleep, seed: int) -> None:
    app = make_app(clock, fault_rate=0.3, seed=seed)
    since = now_of(clock)
    names = [f"web-{i:02d}" for i in range(30)]
    outcomes: dict[str, str] = {}

    async def run(name: str) -> None:
        try:
            outcomes[name] = (await c.start_exactly_once(PROVISION_VM, vm_inputs(name), since)).id
        except OutcomeUnknownError:
            outcomes[name] = "unknown"

    async with connect(app, tenant(), fake_sleep) as c:
        await asyncio.gather(*(run(name) for name in names))
    per_name: dict[str, list[str]] = {}
    for start in starts_of(app, PROVISION_VM):
        per_name.setdefault(start.inputs["vmName"], []).append(start.execution_id)
    assert emulator(app).faults.injected  # faults really happened
    for name in names:
        assert len(per_name.get(name, [])) <= 1, name  # never started twice
        if outcomes[name] != "unknown":
            assert per_name[name] == [outcomes[name]]


async def test_auto_reads_the_versions_once_and_a_relogin_keeps_the_version(app: Starlette) -> None:
    seen: list[str] = []

    class Counting(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(f"{request.method} {request.url.path}")
            return await self.inner.handle_async_request(request)

    async with WorkflowClient(tenant(api_version="auto"), transport=Counting(DropsAsHttpx(app))) as c:
        offered, _ = await c.versions()  # as `reconciler check` reads them first
        assert offered
        first = await c.session()
        second = await c.session()  # a re-login (what a 401 leads to) keeps the chosen version
    assert seen.count("GET /api/versions") == 1, seen
    assert first.api_version == second.api_version == "38.0"
