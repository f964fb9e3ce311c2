"""A scripted VCD for `httpx.MockTransport`: logins always work, other answers are queued per route.

Used for the error paths whose exact sequence matters (401 twice, 406 text, Retry-After, a lost
start); the emulator tests cover the real behaviour.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
WF = "6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a"
EXECUTIONS = f"/cloudapi/workflows/{WF}/executions"


def execution_body(execution_id: str = "e-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": execution_id,
        "name": "Provision VM",
        "state": "running",
        "startDate": "2026-01-31T10:00:00.000+00:00",
        "endDate": None,
        "startedBy": "deployer@acme",
        "inputParameters": [],
        "outputParameters": [],
    }
    return body | fields


def error(status: int, message: str, minor: str = "BAD_REQUEST", **headers: str) -> httpx.Response:
    body = {"minorErrorCode": minor, "message": message, "stackTrace": None}
    return httpx.Response(status, json=body, headers=headers)


class ScriptedVcd:
    """Records every request; answers logins itself and the rest from per-route queues."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.queues: dict[tuple[str, str], list[Answer]] = defaultdict(list)
        self.defaults: dict[tuple[str, str], Answer] = {}
        self.logins = 0
        self.valid: set[str] = set()
        self._counter = itertools.count(1)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def queue(self, method: str, path: str, *answers: Answer) -> None:
        self.queues[(method, path)].extend(answers)

    def default(self, method: str, path: str, answer: Answer) -> None:
        self.defaults[(method, path)] = answer

    def expire_tokens(self) -> None:
        self.valid.clear()

    def calls(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.startswith(("/cloudapi/1.0.0/sessions", "/oauth/")) and request.method == "POST":
            return self._login(request)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return error(401, "Either no credentials were supplied or they are invalid.", "UNAUTHORIZED")
        key = (request.method, path)
        answer = self.queues[key].pop(0) if self.queues[key] else self.defaults.get(key)
        if answer is None:
            return error(404, f"no script for {request.method} {path}", "RESOURCE_NOT_FOUND")
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def _login(self, request: httpx.Request) -> httpx.Response:
        self.logins += 1
        token = f"token-{next(self._counter)}"
        self.valid.add(token)
        if request.url.path.startswith("/oauth/"):
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer"})
        body = {"user": {"name": "deployer"}, "org": {"name": "acme"}}
        return httpx.Response(200, json=body, headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": token})


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)
