"""Over a real socket: uvicorn serving the emulator, and dropped connections seen as transport errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import emulator_of, running_server

from .emulator_helpers import ACCEPT, DNS, VM, basic, vm_parameters

pytestmark = pytest.mark.slow

TIMEOUT = httpx.Timeout(5.0)
CLI = str(Path(sys.executable).with_name("reconciler"))


def _login(client: httpx.Client) -> None:
    response = client.post(
        "/cloudapi/1.0.0/sessions/provider",
        headers={"Authorization": basic("admin", "System", "admin"), "Accept": ACCEPT},
    )
    response.raise_for_status()
    client.headers.update(
        {"Authorization": f"Bearer {response.headers['X-VMWARE-VCLOUD-ACCESS-TOKEN']}", "Accept": ACCEPT}
    )


def test_start_and_read_over_a_socket(make_app: Callable[..., Any]) -> None:
    with running_server(make_app()) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        _login(client)
        started = client.post(f"/cloudapi/workflows/{VM}/executions", json={"parameters": vm_parameters()})
        assert started.status_code == 201
        assert started.headers["content-type"] == "application/json;version=37.2"
        execution = client.get(f"/cloudapi/workflows/{VM}/executions/{started.json()['id']}")
        assert execution.json()["id"] == started.json()["id"]


@pytest.mark.parametrize(("kind", "starts"), [("drop", 0), ("lost", 1)])
def test_dropped_connections_are_transport_errors(make_app: Callable[..., Any], kind: str, starts: int) -> None:
    app = make_app()
    emulator = emulator_of(app)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        _login(client)
        emulator.faults.enqueue(kind, method="POST")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(f"/cloudapi/workflows/{VM}/executions", json={"parameters": vm_parameters()})
        assert len(emulator.starts) == starts
        assert client.get(f"/cloudapi/workflows/{VM}/executions").json()["total"] == starts  # next call works


def test_status_fault_over_a_socket(make_app: Callable[..., Any]) -> None:
    app = make_app(fault_rate=1.0, fault_kinds=["429"])
    with running_server(app) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        _login(client)
        response = client.get(f"/cloudapi/workflows/{VM}/executions")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"


def test_serve_announces_and_answers() -> None:
    code = "from reconciler.emulator import serve; serve(port=0)"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.removeprefix("listening on ")
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(f"{url}/_emulator/health", timeout=TIMEOUT).status_code == 200
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_cli_knobs_reach_the_server() -> None:
    """``reconciler emulator`` with the wire knobs, as a subprocess."""
    command = [CLI, "emulator", "--port", "0"]
    command += ["--session-idle-timeout", "90s", "--max-body-size", "1000", "--nulls", "--value-format", "vro"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        with httpx.Client(base_url=line.removeprefix("listening on "), timeout=TIMEOUT) as client:
            _login(client)
            assert client.get("/cloudapi/1.0.0/sessions/current").json()["sessionIdleTimeoutMinutes"] == 2
            big = client.post(f"/cloudapi/workflows/{VM}/executions", json={"parameters": vm_parameters("x" * 1000)})
            assert big.status_code == 413, big.text
            parameters = [{"name": "hostname", "type": "string", "value": {"inputType": "string", "value": "h"}}]
            parameters.append({"name": "ip", "type": "string", "value": {"inputType": "string", "value": "10.0.0.1"}})
            started = client.post(f"/cloudapi/workflows/{DNS}/executions", json={"parameters": parameters})
            assert started.status_code == 201, started.text
            assert started.json()["endDate"] is None  # --nulls
            assert started.json()["inputParameters"][0]["value"] == {"string": {"value": "h"}}  # --value-format vro
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_cli_refuses_a_zero_idle_timeout() -> None:
    command = [CLI, "emulator", "--port", "0", "--session-idle-timeout", "0s"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stderr
    assert "idle timeout" in done.stderr and "Traceback" not in done.stderr
