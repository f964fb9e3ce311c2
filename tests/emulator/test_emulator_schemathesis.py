"""schemathesis over the emulator (issue 12): a tool we did not write, reading VMware's definitions.

Through schemathesis' Python API (`schemathesis.engine`), over a real socket on 127.0.0.1, with every
phase (examples, coverage, fuzzing, stateful) and every check, a fixed seed and a fixed example count.
It logs in once through an auth provider and again on a 401 (``DELETE /sessions/current`` ends the
session on purpose); the workflow ids come from the catalog ``data/wire-catalog.yaml`` (90 % of the
time; the rest are unknown ids, which must be hidden), whose first workflow takes every parameter
type, all optional, so that generated starts succeed and the execution calls are reached.

The run fails on any check failure except the few in `ALLOWED`, each a quirk of the definitions
themselves, not of the emulator. With ``MAX_EXAMPLES = 25`` one run sent 789 requests (the count
moves a little from run to run: executions advance on the real clock; ``CASE_COUNT_FLOOR`` is
checked) in 12 s on 2 cores, 13 s at a load average of 7; 50 examples (1,320 requests) took 35 s
at that load, too close to the minute this test may take in ``make test``. ``pytest -s`` prints the
count and how many failures each allow-list entry absorbed.

Before the fixes of issue 12 this run found: execution answers with ``null`` in fields typed as
strings (item 1), and a schema-valid ``page=1000000000`` refused with 400.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from schemathesis.core.failures import Failure

from reconciler.emulator import EmulatorOptions, create_app, read_catalog, running_server

from .emulator_helpers import ACCEPT
from .vendoring import VENDORED

CATALOG = VENDORED.with_name("wire-catalog.yaml")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SEED = 20_261_201
MAX_EXAMPLES = 25
CASE_COUNT_FLOOR = 400  # the fixed seed and example count send more requests than this


@dataclass(frozen=True)
class Allowed:
    """A failure that is the definitions' fault: which check, on which operations, for which status."""

    failure: str  # the schemathesis Failure class name
    operations: tuple[str, ...]  # operation labels ("GET /1.0.0/sessions"); empty: every operation
    statuses: tuple[int, ...]  # response statuses; empty: any
    why: str

    def covers(self, failure: Failure, label: str, status: int) -> bool:
        return (
            type(failure).__name__ == self.failure
            and (not self.operations or label in self.operations)
            and (not self.statuses or status in self.statuses)
        )


_SESSION_BY_ID = (
    "GET /1.0.0/sessions/{id}",
    "DELETE /1.0.0/sessions/{id}",
    "GET /1.0.0/sessions/{id}/accessibleLocations",
    "GET /1.0.0/sessions/{id}/token",
)
_PAGED = ("GET /1.0.0/sessions", "GET /1.0.0/sessions/{id}/accessibleLocations")

ALLOWED = (
    # VCD answers 401 to any call without valid credentials; the definitions list 401 only on the
    # workflow calls and the logins.
    Allowed("UndefinedStatusCode", (), (401,), "401 is undocumented on the session reads and logouts"),
    # Another user's session, or an id that is none, is hidden (403, as for executions); the
    # definitions document only the success of these calls.
    Allowed("UndefinedStatusCode", _SESSION_BY_ID, (403,), "a session that is not the caller's"),
    # Out-of-range paging is refused with 400 (the definitions bound page >= 1 and pageSize 0-128
    # but document only 200).
    Allowed("UndefinedStatusCode", _PAGED, (400,), "paging out of the definitions' range"),
    # page and pageSize are marked required *and* given defaults (1, 25); VCD, like the emulator,
    # uses the defaults when they are left out.
    Allowed("AcceptedNegativeData", _PAGED, (200,), "page/pageSize left out: their defaults apply"),
    # A 204 has no body, so no Content-Type, although the definitions' produces is */*;version=37.2.
    Allowed("MissingContentType", (), (204,), "204 without Content-Type"),
    # The definitions cannot say which inputs a workflow takes: a well-formed ExecutionContext
    # naming inputs the workflow does not declare (or lacking required ones) is rightly a 400.
    Allowed("RejectedPositiveData", ("POST /workflows/{workflowId}/executions",), (400,), "inputs per workflow"),
    # Cancel of an execution that has ended, delete of one in progress: 400, as documented for both;
    # the definitions cannot say that the answer depends on the execution's state.
    Allowed(
        "RejectedPositiveData",
        (
            "DELETE /workflows/{workflowId}/executions/{executionId}/state",
            "DELETE /workflows/{workflowId}/executions/{executionId}",
        ),
        (400,),
        "cancel/delete in the wrong state",
    ),
    # The emulator answers getToken as a VCD without proxies: the documented 400 "Invalid configuration".
    Allowed("RejectedPositiveData", ("GET /1.0.0/sessions/{id}/token",), (400,), "no proxies configured"),
)


@dataclass
class Run:
    requests: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status) -> count
    allowed: Counter[str] = field(default_factory=Counter)  # why -> failures dropped
    failures: list[str] = field(default_factory=list)


def _login(url: str) -> str:
    credentials = base64.b64encode(b"admin@System:admin").decode()
    response = httpx.post(
        f"{url}/cloudapi/1.0.0/sessions/provider",
        headers={"Accept": ACCEPT, "Authorization": f"Basic {credentials}"},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"])


def _schema(url: str, workflow_ids: list[str]) -> Any:
    import schemathesis  # here: importing it costs every pytest worker 0.3 s at collection

    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": f"{url}/cloudapi",
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {"enabled": True},
            "phases": {"enabled": True},
            "headers": {"Accept": ACCEPT},
            "request-timeout": 10,
            "dictionaries": {"workflows": {"values": workflow_ids}},
            "parameters": {"path.workflowId": {"dictionary": "workflows", "probability": 0.9}},
        }
    )
    return schemathesis.openapi.from_path(str(VENDORED), config=config)


def _run(url: str, workflow_ids: list[str]) -> Run:
    schema = _schema(url, workflow_ids)
    run = Run()

    @schema.auth(refresh_interval=24 * 3600)  # log in once; schemathesis logs in again on a 401
    class BearerAuth:
        def get(self, case: Any, context: Any) -> str:
            return _login(url)

        def set(self, case: Any, token: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    def after_call(context: Any, case: Any, response: Any) -> None:
        run.requests += 1
        run.statuses[(case.operation.label, response.status_code)] += 1

    def filter_failure(context: Any, failure: Failure, case: Any, response: Any) -> bool:
        label, status = case.operation.label, response.status_code
        for allowed in ALLOWED:
            if allowed.covers(failure, label, status):
                run.allowed[allowed.why] += 1
                return False
        return True

    schema.hook(after_call)
    schema.hook(filter_failure)
    from schemathesis.engine import events, from_schema

    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            run.failures.extend(_failures(event.recorder))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.failures.append(f"engine error: {event!r}")
    return run


def _failures(recorder: Any) -> Iterator[str]:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            status = interaction.response.status_code if interaction and interaction.response else None
            failure = check.failure_info.failure
            sent = f"{interaction.request.method} {interaction.request.uri}" if interaction else "?"
            yield f"{recorder.label}: {check.name}: {sent} -> {status}: {failure.title}: {failure.message[:300]}"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    app = create_app(read_catalog(CATALOG), EmulatorOptions(seed=7))
    with running_server(app) as url:
        yield url


def test_schemathesis_finds_nothing_outside_the_allow_list(emulator_url: str, capsys: Any) -> None:
    workflow_ids = [workflow.id for workflow in read_catalog(CATALOG).workflows]
    run = _run(emulator_url, workflow_ids)
    with capsys.disabled():
        print(f"\nschemathesis: {run.requests} requests, seed {SEED}, {MAX_EXAMPLES} examples per operation")
        print(f"  allowed (definitions' quirks): {dict(run.allowed)}")
    assert not run.failures, "\n".join(run.failures)
    assert run.requests >= CASE_COUNT_FLOOR
    reached = {status for (label, status) in run.statuses if label == "POST /workflows/{workflowId}/executions"}
    assert {201, 400, 403} <= reached, f"the start was not explored: {sorted(reached)}"
