"""A server that echoes a secret input in an execution's error (`contentException`): the secret is
redacted before it is stored or shown, in every command's output and in every file of the stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.e2e import Emulator, Stack, run_doc, start_emulator, stop

pytestmark = pytest.mark.slow

ECHOES = "00000000-0000-4000-8000-00000000f101"  # name, password -> fails echoing the password ("bad...")
SECRET_VALUE = "zq9-echoed-Secret"
CATALOG: dict[str, Any] = {
    "apiVersions": ["37.2"],
    "workflows": [
        {
            "id": ECHOES,
            "name": "Echoes",
            "inputs": [{"name": "name", "type": "string"}, {"name": "password", "type": "SecureString"}],
            "outputs": [{"name": "id", "type": "string", "template": "id-${inputs.name}"}],
            "duration": 0.1,
            "initializing": 0.02,
            "failWhen": [{"input": "name", "matches": "^bad", "message": "login with ${inputs.password} refused"}],
        }
    ],
    "users": [{"name": "admin", "org": "System", "password": "e2e-pw"}],
}


@pytest.fixture
def echoing(tmp_path: Path) -> Iterator[Emulator]:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG), encoding="utf-8")
    emulator = start_emulator(path)
    try:
        yield emulator
    finally:
        stop(emulator.process)


def test_a_secret_echoed_in_an_execution_error_is_never_stored_or_shown(tmp_path: Path, echoing: Emulator) -> None:
    root = tmp_path / "stack"
    root.mkdir()
    stack = Stack(root, echoing.url, env={"E2E_SECRET": SECRET_VALUE})
    stack.write_stack()
    password = {"type": "SecureString", "valueFrom": {"env": "E2E_SECRET"}}
    stack.write_runs([run_doc("vault", ECHOES, {"name": "bad-vault", "password": password})])
    texts: list[str] = []

    def run(*args: str) -> None:
        result = stack.cli(list(args))
        texts.extend([result.out, result.err])

    run("apply", "--auto-approve")
    run("apply", "--auto-approve", "--json")
    for command in (["plan"], ["plan", "--json"], ["show"], ["show", "--json"], ["state", "show", "vault"]):
        run(*command)
    run("refresh")
    run("state", "pull")

    record = stack.state()["runs"]["vault"]
    assert record["execution"]["state"] == "failed"
    assert record["execution"]["error"] == "login with (sensitive) refused"  # the server's words, redacted
    assert any("login with (sensitive) refused" in t for t in texts)  # and shown so
    files = [p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()]
    for text in [*texts, *files]:
        assert SECRET_VALUE not in text
