"""Helpers to run the real client against the real emulator in-process (``httpx.ASGITransport``).

The emulator simulates a connection closed without an answer by raising its own exception in-process
(over a socket it really closes the connection). The client only knows httpx, so `DropsAsHttpx`
converts that exception into the httpx error a real socket would produce.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.clock import ManualClock
from reconciler.emulator.context import Emulator, emulator_of
from reconciler.emulator.faults import ConnectionDropped
from reconciler.emulator.options import EmulatorOptions
from reconciler.emulator.serving import load_catalog
from reconciler.remote import ApiSettings

PROVISION_VM = "6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a"
CREATE_NETWORK = "0c5d7a8e-1f2b-4c3d-9e4f-5a6b7c8d9e01"
REGISTER_DNS = "3f9a1b2c-4d5e-4f60-8a71-92b3c4d5e6f7"
BASE_URL = "https://vcd.emulated"


class DropsAsHttpx(httpx.AsyncBaseTransport):
    """ASGITransport whose in-process 'connection dropped' surfaces as httpx.RemoteProtocolError."""

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from exc


def make_app(clock: ManualClock, **knobs: Any) -> Starlette:
    knobs.setdefault("seed", 7)
    return create_app(load_catalog(None), EmulatorOptions(**knobs), clock=clock)


def emulator(app: Starlette) -> Emulator:
    return emulator_of(app)


def tenant(url: str = BASE_URL, **overrides: Any) -> ApiSettings:
    fields: dict[str, Any] = {
        "url": url,
        "api_version": "37.1",
        "org": "acme",
        "username": "deployer",
        "password": "deployer",
    }
    return ApiSettings(**(fields | overrides))


def provider(url: str = BASE_URL, **overrides: Any) -> ApiSettings:
    return tenant(url, org="System", username="admin", password="admin", **overrides)


def now_of(clock: ManualClock) -> datetime:
    return datetime.fromtimestamp(clock(), tz=UTC)


def vm_inputs(name: str = "web-01", **extra: tuple[str, Any]) -> dict[str, tuple[str, Any]]:
    return {
        "vmName": ("string", name),
        "cpuCount": ("number", 2),
        "memoryGb": ("number", 8),
        "network": ("string", "net-1234"),
        "adminPassword": ("SecureString", "s3cret!"),
        "tags": ("Array/string", ["prod", "web"]),
        **extra,
    }


def starts_of(app: Starlette, workflow_id: str) -> list[Any]:
    return [s for s in emulator(app).starts if s.workflow_id == workflow_id]
