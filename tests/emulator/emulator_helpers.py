"""Helpers shared by the emulator tests: demo ids, login, parameter builders."""

from __future__ import annotations

import base64
from typing import Any

import httpx

VERSION = "37.2"
ACCEPT = f"application/json;version={VERSION}"
NETWORK = "0c5d7a8e-1f2b-4c3d-9e4f-5a6b7c8d9e01"
VM = "6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a"
DNS = "3f9a1b2c-4d5e-4f60-8a71-92b3c4d5e6f7"


def basic(user: str, org: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}@{org}:{password}".encode()).decode()


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator.test")


async def login(client: httpx.AsyncClient, user: str = "admin", org: str = "System", password: str = "") -> None:
    """Log in and make the client send the bearer token and the version header from now on."""
    path = "/cloudapi/1.0.0/sessions/provider" if org == "System" else "/cloudapi/1.0.0/sessions"
    response = await client.post(path, headers={"Authorization": basic(user, org, password or user), "Accept": ACCEPT})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.headers['X-VMWARE-VCLOUD-ACCESS-TOKEN']}"
    client.headers["Accept"] = ACCEPT


def openapi(name: str, type_name: str, value: Any) -> dict[str, Any]:
    """A WsParameter in the openapi format, for the simple types the tests use."""
    kinds = {"string": "string", "number": "number", "boolean": "boolean", "SecureString": "secureString"}
    if type_name.startswith("Array/"):
        element = type_name.removeprefix("Array/")
        items = [{"inputType": kinds[element], "value": v} for v in value]
        encoded: dict[str, Any] = {"inputType": "array", "value": items}
    else:
        encoded = {"inputType": kinds[type_name], "value": value}
    return {"name": name, "type": type_name, "scope": "local", "value": encoded}


def vm_parameters(vm_name: str = "web-01", **overrides: Any) -> list[dict[str, Any]]:
    values: dict[str, tuple[str, Any]] = {
        "vmName": ("string", vm_name),
        "cpuCount": ("number", 2),
        "memoryGb": ("number", 8),
        "powerOn": ("boolean", True),
        "tags": ("Array/string", ["prod", "web"]),
        "network": ("string", "net-1234"),
        "adminPassword": ("SecureString", "s3cret"),
    }
    for name, value in overrides.items():
        values[name] = (values[name][0], value)
    return [openapi(name, type_name, value) for name, (type_name, value) in values.items()]


def param_value(parameters: list[dict[str, Any]], name: str) -> Any:
    """The wire value of one parameter of an answer."""
    return next(p["value"] for p in parameters if p["name"] == name)
