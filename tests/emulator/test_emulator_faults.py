"""Injected faults in-process: each kind, whether the request was processed, seeding, queueing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.emulator import ConnectionDropped, emulator_of

from .emulator_helpers import VM, client_for, login, vm_parameters

pytestmark = pytest.mark.anyio

EXECUTIONS = f"/cloudapi/workflows/{VM}/executions"


async def _start_with_fault(make_app: Callable[..., Any], kind: str) -> tuple[Any, Any]:
    """Queue ``kind`` for the next POST, start; (response or exception, number of starts recorded)."""
    app = make_app()
    emulator = emulator_of(app)
    async with client_for(app) as client:
        await login(client)
        emulator.faults.enqueue(kind, method="POST", path_contains="/executions")
        try:
            outcome: Any = await client.post(EXECUTIONS, json={"parameters": vm_parameters()})
        except ConnectionDropped as exc:
            outcome = exc
        return outcome, len(emulator.starts)


@pytest.mark.parametrize(
    ("kind", "processed"), [("500", False), ("502", False), ("503", False), ("429", False), ("504", True)]
)
async def test_status_faults(make_app: Callable[..., Any], kind: str, processed: bool) -> None:
    response, starts = await _start_with_fault(make_app, kind)
    assert response.status_code == int(kind)
    assert set(response.json()) == {"minorErrorCode", "message", "stackTrace"}
    assert starts == (1 if processed else 0)
    if kind in ("503", "429"):
        assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize(("kind", "processed"), [("drop", False), ("lost", True)])
async def test_connection_faults_raise_connection_dropped(
    make_app: Callable[..., Any], kind: str, processed: bool
) -> None:
    exc, starts = await _start_with_fault(make_app, kind)
    assert isinstance(exc, ConnectionDropped)
    assert isinstance(exc, ConnectionError)
    assert (exc.kind, exc.processed) == (kind, processed)
    assert starts == (1 if processed else 0)


async def test_admin_and_login_are_not_faulted_by_default(make_app: Callable[..., Any]) -> None:
    app = make_app(fault_rate=1.0, fault_kinds=["500"])
    async with client_for(app) as client:
        await login(client)
        assert (await client.get("/_emulator/health")).status_code == 200
        assert (await client.get(EXECUTIONS)).status_code == 500
        faults = (await client.get("/_emulator/faults")).json()
        assert faults["injected"] == {"500": 1}


async def test_login_can_be_faulted(make_app: Callable[..., Any]) -> None:
    async with client_for(make_app(fault_rate=1.0, fault_kinds=["503"], fault_login=True)) as client:
        response = await client.post("/cloudapi/1.0.0/sessions/provider")
        assert response.status_code == 503


async def _fault_sequence(make_app: Callable[..., Any], seed: int) -> list[int]:
    app = make_app(fault_rate=0.5, fault_kinds=["500", "502"], seed=seed)
    async with client_for(app) as client:
        await login(client)
        return [(await client.get(EXECUTIONS)).status_code for _ in range(30)]


async def test_seeded_faults_are_reproducible(make_app: Callable[..., Any]) -> None:
    first = await _fault_sequence(make_app, 7)
    assert first == await _fault_sequence(make_app, 7)
    assert 200 in first and ({500, 502} & set(first))
    assert first != await _fault_sequence(make_app, 8)


async def test_latency_still_answers(make_app: Callable[..., Any]) -> None:
    async with client_for(make_app(latency=0.01)) as client:
        await login(client)
        assert (await client.get(EXECUTIONS)).status_code == 200


def test_invalid_fault_options_are_refused(make_app: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="fault kinds"):
        make_app(fault_kinds=["418"])
    with pytest.raises(ValueError, match="rate"):
        make_app(fault_rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kind"):
        emulator_of(make_app()).faults.enqueue("teapot")
