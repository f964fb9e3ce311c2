"""A client generated from VMware's definitions (``vcd_client``, see its README) drives the whole flow
against the emulator over a socket: login, presentation, a start with every parameter type, state
polling, outputs, list, cancel, delete, the session calls, logout. Every answer must parse into the
generated models: a field the emulator writes differently from the definitions (a null where a
string is declared, a date that is not ISO 8601) fails here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorOptions, create_app, read_catalog, running_server

from .emulator_helpers import ACCEPT, basic
from .vcd_client import AuthenticatedClient, Client
from .vcd_client.api.sessions import (
    get_accessible_locations,
    get_current_session,
    get_current_sessions,
    get_session,
    get_token,
    login,
    logout_current_session,
    provider_login,
)
from .vcd_client.api.vro_workflow_execution import (
    cancel_workflow_execution,
    delete_workflow_execution,
    get_all_workflow_executions,
    get_workflow_execution,
    get_workflow_execution_state,
    start_workflow_execution,
)
from .vcd_client.api.vro_workflow_presentation import get_workflow_presentation
from .vcd_client.models import (
    AccessibleLocations,
    ArrayParam,
    BooleanParam,
    DateParam,
    Error,
    ExecutionContext,
    ExecutionState,
    KeyValuePair,
    NumberParam,
    Parameter,
    Presentation,
    PresentationExecutionsList,
    Properties,
    SdkObject,
    SecureString,
    Session,
    Sessions,
    StringParam,
    WsParameter,
    WsParameterScope,
    WsWorkflowExecution,
)
from .vcd_client.types import Unset
from .vendoring import VENDORED

pytestmark = pytest.mark.timeout(60)  # over a socket on the real clock, but about a second

CATALOG = VENDORED.with_name("wire-catalog.yaml")
EVERY_TYPE = "5e1b7c3a-0f4d-4b8e-9a2c-6d7e8f9a0b1c"
WHEN = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
SUBTYPES: dict[str, Any] = {
    "string": StringParam,
    "number": NumberParam,
    "boolean": BooleanParam,
    "date": DateParam,
    "secureString": SecureString,
    "array": ArrayParam,
    "properties": Properties,
    "sdkObject": SdkObject,
    "keyValuePair": KeyValuePair,
}


def as_parameter(model: Any) -> Parameter:
    """A subtype model as the polymorphic ``Parameter`` a WsParameter holds."""
    return Parameter.from_dict(model.to_dict())


def subtype(value: Parameter | Unset) -> Any:
    """A ``Parameter`` read as the subtype its ``inputType`` names."""
    assert isinstance(value, Parameter)
    return SUBTYPES[value.input_type].from_dict(value.to_dict())


def local(name: str, type_name: str, value: Any) -> WsParameter:
    return WsParameter(name=name, type_=type_name, scope=WsParameterScope.LOCAL, value=as_parameter(value))


def every_type(text: str) -> ExecutionContext:
    labels = Properties(
        input_type="properties",
        property_=[
            KeyValuePair(input_type="keyValuePair", key="team", value=as_parameter(StringParam("string", "web"))),
            KeyValuePair(input_type="keyValuePair", key="size", value=as_parameter(NumberParam("number", 3))),
        ],
    )
    names = ArrayParam("array", [as_parameter(StringParam("string", "a")), as_parameter(StringParam("string", "b"))])
    return ExecutionContext(
        parameters=[
            local("text", "string", StringParam("string", text)),
            local("count", "number", NumberParam("number", 2.5)),
            local("flag", "boolean", BooleanParam("boolean", True)),
            local("when", "Date", DateParam("date", WHEN)),
            local("secret", "SecureString", SecureString("secureString", "s3cret", is_plain_text=True)),
            local("names", "Array/string", names),
            local("labels", "Properties", labels),
            local("vm", "VC:VirtualMachine", SdkObject("sdkObject", type_="VC:VirtualMachine", id="vm-42")),
        ]
    )


@pytest.fixture
def url() -> Iterator[str]:
    app = create_app(read_catalog(CATALOG), EmulatorOptions(seed=3))
    with running_server(app) as base:
        yield f"{base}/cloudapi"


def logged_in(url: str, user: str, org: str) -> tuple[AuthenticatedClient, Session]:
    anonymous = Client(base_url=url, headers={"Accept": ACCEPT}, raise_on_unexpected_status=True)
    call = provider_login if org == "System" else login
    with anonymous:
        answer = call.sync_detailed(client=anonymous, authorization=basic(user, org, user))
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, Session)
    token = answer.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
    client = AuthenticatedClient(base_url=url, token=token, headers={"Accept": ACCEPT}, raise_on_unexpected_status=True)
    return client, answer.parsed


def wait_for(client: AuthenticatedClient, execution_id: str, wanted: set[ExecutionState]) -> ExecutionState:
    deadline = time.monotonic() + 20
    while True:
        state = get_workflow_execution_state.sync(EVERY_TYPE, execution_id, client=client)
        assert isinstance(state, ExecutionState), state
        if state in wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_the_generated_client_runs_the_whole_flow(url: str) -> None:
    client, session = logged_in(url, "deployer", "acme")
    with client:
        whole_flow(client, session)


def whole_flow(client: AuthenticatedClient, session: Session) -> None:
    assert isinstance(session.org, object) and session.id and str(session.id).startswith("urn:vcloud:session:")

    presentation = get_workflow_presentation.sync(EVERY_TYPE, client=client)
    assert isinstance(presentation, Presentation)
    assert isinstance(presentation.input_parameters, list)
    assert [p.name for p in presentation.input_parameters] == [
        "text", "count", "flag", "when", "secret", "names", "labels", "vm",
    ]  # fmt: skip

    started = start_workflow_execution.sync_detailed(EVERY_TYPE, client=client, body=every_type("web-01"))
    assert started.status_code == 201, started.content
    execution = started.parsed
    assert isinstance(execution, WsWorkflowExecution) and isinstance(execution.id, str)
    assert execution.state in (ExecutionState.INITIALIZING, ExecutionState.RUNNING)
    assert isinstance(execution.start_date, datetime) and isinstance(execution.end_date, Unset)
    assert started.headers["Location"].endswith(f"/executions/{execution.id}")

    assert wait_for(client, execution.id, {ExecutionState.COMPLETED}) == ExecutionState.COMPLETED
    done = get_workflow_execution.sync(EVERY_TYPE, execution.id, client=client)
    assert isinstance(done, WsWorkflowExecution) and isinstance(done.end_date, datetime)
    assert isinstance(done.input_parameters, list) and isinstance(done.output_parameters, list)
    inputs = {p.name: subtype(p.value) for p in done.input_parameters}
    assert inputs["secret"].value == "********" and inputs["secret"].is_plain_text is False
    outputs = {p.name: subtype(p.value) for p in done.output_parameters}
    assert outputs["textOut"].value == "web-01"
    assert outputs["countOut"].value == 2.5
    assert outputs["flagOut"].value is True
    assert outputs["whenOut"].value == WHEN
    assert [subtype(item).value for item in outputs["namesOut"].value] == ["a", "b"]
    pairs = {subtype(as_parameter(entry)).key: subtype(entry.value).value for entry in outputs["labelsOut"].property_}
    assert pairs == {"team": "web", "size": 3}
    assert (outputs["vmOut"].id, outputs["vmOut"].type_) == ("vm-42", "VC:VirtualMachine")
    assert outputs["token"].value.startswith("tok-") and outputs["token"].is_plain_text is True

    hanging = start_workflow_execution.sync(EVERY_TYPE, client=client, body=every_type("hang"))
    assert isinstance(hanging, WsWorkflowExecution) and isinstance(hanging.id, str)
    listed = get_all_workflow_executions.sync(EVERY_TYPE, client=client)
    assert isinstance(listed, PresentationExecutionsList) and isinstance(listed.executions, list)
    assert {e.id for e in listed.executions} == {execution.id, hanging.id} and listed.total == 2

    assert cancel_workflow_execution.sync_detailed(EVERY_TYPE, hanging.id, client=client).status_code == 204
    assert wait_for(client, hanging.id, {ExecutionState.CANCELED}) == ExecutionState.CANCELED
    for finished in (execution.id, hanging.id):
        assert delete_workflow_execution.sync_detailed(EVERY_TYPE, finished, client=client).status_code == 204
    gone = get_workflow_execution.sync_detailed(EVERY_TYPE, execution.id, client=client)
    assert gone.status_code == 403
    listed = get_all_workflow_executions.sync(EVERY_TYPE, client=client)
    assert isinstance(listed, PresentationExecutionsList) and listed.executions == [] and listed.total == 0

    check_sessions(client, str(session.id))
    assert logout_current_session.sync_detailed(client=client).status_code == 204
    with pytest.raises(Exception, match="401"):
        get_current_session.sync_detailed(client=client)


def check_sessions(client: AuthenticatedClient, session_id: str) -> None:
    current = get_current_session.sync(client=client)
    assert isinstance(current, Session) and current.id == session_id
    assert current.session_idle_timeout_minutes == 30
    sessions = get_current_sessions.sync(client=client, page=1, page_size=25)
    assert isinstance(sessions, Sessions) and isinstance(sessions.values, list)
    assert [s.id for s in sessions.values] == [session_id] and sessions.result_total == 1
    one = get_session.sync(session_id, client=client)
    assert isinstance(one, Session) and one.id == session_id
    locations = get_accessible_locations.sync(session_id, client=client, page=1, page_size=25)
    assert isinstance(locations, AccessibleLocations) and isinstance(locations.values, list)
    assert [location.api_version for location in locations.values] == ["37.2"]
    token = get_token.sync_detailed(session_id, client=client)
    assert token.status_code == 400 and isinstance(token.parsed, Error)


def test_a_provider_login_and_an_expired_token(url: str) -> None:
    client, session = logged_in(url, "admin", "System")
    assert isinstance(session.roles, list) and session.roles == ["System Administrator"]
    with AuthenticatedClient(base_url=url, token="nope", headers={"Accept": ACCEPT}) as bad:
        refused = get_all_workflow_executions.sync_detailed(EVERY_TYPE, client=bad)
    assert refused.status_code == 401 and refused.parsed is None
    with httpx.Client(base_url=url, headers={"Accept": ACCEPT}) as raw:
        error = raw.get(f"/workflows/{EVERY_TYPE}/executions", headers={"Authorization": "Bearer nope"}).json()
    assert Error.from_dict(error).minor_error_code == "UNAUTHORIZED"
    with client:
        listed = get_all_workflow_executions.sync(EVERY_TYPE, client=client)
    assert isinstance(listed, PresentationExecutionsList) and listed.total == 0
