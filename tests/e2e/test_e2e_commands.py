"""Smoke tests of every other command through the CLI: apply --json, import, refresh, state *, graph, schema."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from tests.support.e2e import ECHO, FAILS, LONG, PASSWORD, READS, Emulator, Stack, run_doc, stop


def test_apply_json_prints_one_object_per_line(stack: Stack) -> None:
    stack.write_runs(
        [run_doc("up", ECHO, {"name": "up"}), run_doc("down", READS, {"upstream": "${runs.up.outputs.id}"})]
    )
    applied = stack.cli(["apply", "--auto-approve", "--json"])
    assert applied.code == 0, applied
    events = [json.loads(line) for line in applied.out.splitlines()]
    assert all(isinstance(e, dict) and "type" in e for e in events)
    types = [e["type"] for e in events]
    assert types.count("run_started") == 2
    assert types.count("run_completed") == 2
    assert types[-1] == "summary"
    assert events[-1]["ok"] is True
    assert events[-1]["results"]["completed"] == 2
    completed = {e["run"]: e for e in events if e["type"] == "run_completed"}
    assert completed["down"]["outputs"]["seen"] == f"seen-{completed['up']['outputs']['id']}"
    started = {e["run"]: e["execution"] for e in events if e["type"] == "run_started"}
    assert started == {n: e["execution"] for n, e in completed.items()}

    nothing = stack.cli(["apply", "--auto-approve", "--json"])
    assert nothing.code == 0, nothing
    last = [json.loads(line) for line in nothing.out.splitlines()]
    assert [e["type"] for e in last] == ["summary"]


def test_apply_without_approval_refuses_off_a_terminal(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"})])
    result = stack.cli(["apply"])
    assert result.code == 1, result
    assert "--auto-approve" in result.err
    assert emulator.starts() == []


def _start_directly(emulator: Emulator, name: str) -> str:
    accept = {"Accept": "application/json;version=37.2"}
    with httpx.Client(base_url=emulator.url, timeout=10, headers=accept) as client:
        login = client.post("/cloudapi/1.0.0/sessions/provider", auth=("admin@System", PASSWORD))
        login.raise_for_status()
        token = login.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
        parameter = {
            "name": "name",
            "type": "string",
            "scope": "local",
            "value": {"inputType": "string", "value": name},
            "encryptValue": False,
        }
        started = client.post(
            f"/cloudapi/workflows/{ECHO}/executions",
            json={"parameters": [parameter]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert started.status_code == 201, started.text
        return str(started.json()["id"])


def _wait_for(emulator: Emulator, execution: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while emulator.executions()[execution]["state"] != state:
        assert time.monotonic() < deadline, emulator.executions()[execution]
        time.sleep(0.05)


def test_import_adopts_an_existing_execution(stack: Stack, emulator: Emulator) -> None:
    execution = _start_directly(emulator, "adopted")
    _wait_for(emulator, execution, "completed")
    stack.write_runs([run_doc("adopted", ECHO, {"name": "adopted"}), run_doc("other", ECHO, {"name": "x"})])

    unknown = stack.cli(["import", "nope", execution])
    assert unknown.code == 1, unknown
    imported = stack.cli(["import", "adopted", execution])
    assert imported.code == 0, imported
    assert "inputs match" in imported.out
    record = stack.state()["runs"]["adopted"]
    assert record["execution"]["id"] == execution
    assert record["outputs"]["shout"] == "ADOPTED"

    planned = {c["run"]: c["action"] for c in stack.cli(["plan", "--json"]).json()["changes"]}
    assert planned == {"adopted": "noop", "other": "start"}
    twice = stack.cli(["import", "adopted", execution])
    assert twice.code == 1, twice
    assert "already" in twice.err


def test_refresh_records_what_finished_meanwhile(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("slowish", LONG, {"name": "s"}, timeout="1s")])
    timed_out = stack.cli(["apply", "--auto-approve"])
    assert timed_out.code == 1, timed_out
    record = stack.state()["runs"]["slowish"]
    assert record["execution"]["state"] in ("initializing", "running")
    _wait_for(emulator, record["execution"]["id"], "completed")

    opened = emulator.admin("sessions")["opened"]
    planned = stack.cli(["plan", "--json"]).json()  # plan reads it from the server, writes nothing
    assert emulator.admin("sessions")["opened"] == opened + 1  # one login: the definitions, then the refresh
    assert [c["action"] for c in planned["changes"]] == ["noop"]
    assert stack.state()["runs"]["slowish"]["execution"]["state"] != "completed"

    refreshed = stack.cli(["refresh"])
    assert refreshed.code == 0, refreshed
    assert "slowish: completed" in refreshed.out
    record = stack.state()["runs"]["slowish"]
    assert record["execution"]["state"] == "completed"
    assert record["outputs"] == {"done": "long-s"}
    assert stack.cli(["refresh"]).out.strip().endswith("0 record(s) changed.")
    assert len(emulator.starts()) == 1


def test_state_surgery(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert stack.cli(["state", "list"]).out.split() == ["a", "b"]
    shown = stack.cli(["state", "show", "a"])
    assert shown.code == 0 and "completed" in shown.out, shown
    assert stack.cli(["state", "show", "zzz"]).code == 1

    backup = stack.cli(["state", "pull"])
    assert backup.code == 0
    (stack.root / "backup.json").write_text(backup.out)
    pulled = backup.json()

    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("renamed", ECHO, {"name": "b"})])
    moved = stack.cli(["state", "mv", "b", "renamed"])
    assert moved.code == 0, moved
    assert stack.cli(["state", "list"]).out.split() == ["a", "renamed"]
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0  # the rename re-runs nothing
    assert stack.cli(["state", "mv", "a", "renamed"]).code == 1

    removed = stack.cli(["state", "rm", "a"])
    assert removed.code == 0, removed
    assert stack.cli(["state", "list"]).out.split() == ["renamed"]
    assert [c["action"] for c in stack.cli(["plan", "--json"]).json()["changes"] if c["run"] == "a"] == ["start"]

    stale = stack.cli(["state", "push", "backup.json"])  # older serial: refused
    assert stale.code == 1, stale
    assert "serial" in stale.err
    forced = stack.cli(["state", "push", "backup.json", "--force"])
    assert forced.code == 0, forced
    assert stack.cli(["state", "list"]).out.split() == ["a", "b"]
    assert stack.state()["lineage"] == pulled["lineage"]
    assert stack.state()["serial"] > pulled["serial"]

    other = dict(pulled, lineage="00000000-0000-4000-8000-000000000000")
    (stack.root / "other.json").write_text(json.dumps(other))
    assert "lineage" in stack.cli(["state", "push", "other.json"]).err
    (stack.root / "broken.json").write_text("{not json")
    broken = stack.cli(["state", "push", "broken.json"])
    assert broken.code == 1 and "broken.json:1:" in broken.err, broken
    assert len(emulator.starts()) == 2


def test_graph_is_dot(stack: Stack) -> None:
    stack.write_runs(
        [
            run_doc("up", ECHO, {"name": "up"}),
            run_doc("down", READS, {"upstream": "${runs.up.outputs.id}"}),
            run_doc("last", ECHO, {"name": "last"}, dependsOn=["down"]),
        ]
    )
    graph = stack.cli(["graph"])
    assert graph.code == 0, graph
    assert graph.out.startswith("digraph")
    assert graph.out.rstrip().endswith("}")
    assert '"up" -> "down";' in graph.out
    assert '"down" -> "last";' in graph.out


def _validate(schema: dict[str, Any], document: Any) -> None:
    jsonschema.validate(document, schema, cls=jsonschema.validators.validator_for(schema))


def test_schema_is_json_schema_matching_the_files(stack: Stack) -> None:
    result = stack.cli(["schema"])
    assert result.code == 0, result
    schema = result.json()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    stack.write_runs([run_doc("one", ECHO, {"name": "one"}, timeout="5m", onFailure="retry", maxAttempts=2)])
    for path in (stack.root / "reconciler.yaml", stack.root / "manifests" / "runs.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            _validate(schema, document)
    with pytest.raises(jsonschema.ValidationError):
        _validate(schema, run_doc("one", ECHO, {"name": "one"}, colour="blue"))


def test_offline_commands_never_contact_the_server(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("one", ECHO, {"name": "one"}), run_doc("bad", FAILS, {"name": "bad-x"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 1
    stop(emulator.process)
    stack.env["RECONCILER_GIVE_UP_AFTER"] = "2s"  # the endpoint is down: no need to wait the default out
    for args in (["validate"], ["plan", "--no-refresh"], ["plan"], ["show"], ["output", "--json"], ["graph"]):
        result = stack.cli(args)
        assert result.code == 0, result

    stack.write_runs([run_doc("one", ECHO, {"name": "one"}), run_doc("two", ECHO, {"name": "two"})])
    down = stack.cli(["apply", "--auto-approve", "--json"])
    assert down.code == 1, down
    assert "log in as admin@System: cannot connect" in down.err, down  # once, before any start
    assert all(r["pending"] is None for r in stack.state()["runs"].values())  # no intent left behind


def test_apply_json_reports_failures(stack: Stack) -> None:
    stack.write_runs(
        [run_doc("bad", FAILS, {"name": "bad-y"}), run_doc("next", READS, {"upstream": "${runs.bad.outputs.ok}"})]
    )
    applied = stack.cli(["apply", "--auto-approve", "--json"])
    assert applied.code == 1, applied
    events = [json.loads(line) for line in applied.out.splitlines()]
    by_type = {e["type"]: e for e in events}
    assert "refused bad-y: quota exceeded" in by_type["run_failed"]["message"]
    assert by_type["run_skipped"]["run"] == "next"
    assert by_type["summary"]["ok"] is False
    assert {p["run"] for p in by_type["summary"]["problems"]} == {"bad", "next"}
