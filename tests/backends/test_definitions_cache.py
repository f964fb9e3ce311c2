"""The workflow definitions cache kept beside the state: the same contract for the local file and
PostgreSQL (round trip, keyed by endpoint and workflow id, last writer wins), and a cache that
cannot be read is a warning and reads as empty, never an error."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.definitions_store import cache_bytes, parse_cache
from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend
from reconciler.definitions import (
    ParameterDefinition,
    WorkflowDefinition,
    definition_from_json,
    definition_to_json,
)
from reconciler.errors import InvalidValueError
from tests.support.stores import Store

pytestmark = pytest.mark.timeout(60)

VCD = "https://vcd.example.com"
OTHER = "https://other.example.com"
READ_AT = datetime(2026, 1, 31, 10, 0, 0, 123000, tzinfo=UTC)


def definition(
    workflow_id: str = "wf-1", *, extra_input: str | None = None, read_at: datetime = READ_AT
) -> WorkflowDefinition:
    inputs = [
        ParameterDefinition("vmName", "string", "input", "Name of the VM", True),
        ParameterDefinition("cpuCount", "number", "input", None, False, 2),
        ParameterDefinition("tags", "Array/string", "input", "Tags", None, ["a", "b"]),
        ParameterDefinition("props", "Properties", "input", None, False, {"k": 1, "nested": {"x": True}}),
        ParameterDefinition("vm", "VC:VirtualMachine", "input", None, False, {"id": "vm-1"}),
    ]
    if extra_input:
        inputs.append(ParameterDefinition(extra_input, "boolean", "input", None, True))
    outputs = (ParameterDefinition("vmId", "string", "output", "Id of the VM"),)
    return WorkflowDefinition(workflow_id, "Provision VM", tuple(inputs), outputs, read_at, "Clone a VM")


def test_an_empty_cache_reads_as_empty(store: Store) -> None:
    assert store.open().read_definitions() == {}


def test_definitions_round_trip_keyed_by_endpoint_and_workflow(store: Store) -> None:
    store.open().write_definitions(VCD + "/", [definition("wf-1"), definition("wf-2")])
    store.open().write_definitions(OTHER, [definition("wf-1", extra_input="fresh")])
    kept = store.open().read_definitions()
    assert kept == {
        (VCD, "wf-1"): definition("wf-1"),
        (VCD, "wf-2"): definition("wf-2"),
        (OTHER, "wf-1"): definition("wf-1", extra_input="fresh"),
    }
    assert kept[(VCD, "wf-1")].read_at == READ_AT


def test_a_newer_reading_replaces_the_kept_one_and_keeps_the_rest(store: Store) -> None:
    store.open().write_definitions(VCD, [definition("wf-1"), definition("wf-2")])
    later = datetime(2026, 2, 1, tzinfo=UTC)
    store.open().write_definitions(VCD, [definition("wf-1", extra_input="newParam", read_at=later)])
    kept = store.open().read_definitions()
    assert kept[(VCD, "wf-1")] == definition("wf-1", extra_input="newParam", read_at=later)
    assert kept[(VCD, "wf-2")] == definition("wf-2")


def test_writing_nothing_writes_nothing(store: Store) -> None:
    store.open().write_definitions(VCD, [])
    assert store.open().read_definitions() == {}


def test_secret_defaults_are_never_kept(store: Store) -> None:
    secret = ParameterDefinition("password", "SecureString", "input", None, False, "s3cret")
    secrets = ParameterDefinition("passwords", "Array/SecureString", "input", None, False, ["s3cret"])
    store.open().write_definitions(VCD, [WorkflowDefinition("wf-s", None, (secret, secrets), ())])
    kept = store.open().read_definitions()[(VCD, "wf-s")]
    assert [p.default for p in kept.inputs] == [None, None]


def test_each_state_has_its_own_cache(store: Store) -> None:
    store.open().write_definitions(VCD, [definition()])
    assert store.fresh().read_definitions() == {}


def test_a_corrupt_cache_file_is_a_warning_and_reads_as_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    backend.definitions_path.write_text('{"version": 1, "endpoints": {"x": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert backend.read_definitions() == {}
    assert "reconciler.state.json.definitions.json is not valid" in caplog.text
    backend.write_definitions(VCD, [definition()])  # the next write replaces it
    assert backend.read_definitions() == {(VCD, "wf-1"): definition()}


def test_a_cache_of_another_version_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = LocalBackend(tmp_path / "s.json")
    backend.definitions_path.write_text(json.dumps({"version": 99, "endpoints": {}}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert backend.read_definitions() == {}
    assert "not a version 1 definitions cache" in caplog.text


def test_an_unreadable_or_unwritable_cache_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = LocalBackend(tmp_path / "s.json")
    backend.definitions_path.mkdir()  # a folder where the file should be: neither read nor replaced
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert backend.read_definitions() == {}
        backend.write_definitions(VCD, [definition()])
    assert "cannot read the workflow definitions cache" in caplog.text
    assert "cannot write the workflow definitions cache" in caplog.text


def test_the_cache_file_is_private_and_beside_the_state(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    backend.write_definitions(VCD, [definition()])
    path = tmp_path / "reconciler.state.json.definitions.json"
    assert path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text("utf-8"))
    assert list(doc["endpoints"][VCD]) == ["wf-1"]
    assert doc["endpoints"][VCD]["wf-1"]["readAt"] == "2026-01-31T10:00:00.123000+00:00"
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_a_stale_cache_temp_file_is_removed_by_the_next_lock_holder(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "reconciler.state.json")
    stale = tmp_path / ".reconciler.state.json.definitions.json.0123abcd.tmp"
    stale.write_text("{}", encoding="utf-8")
    with backend.lock("apply"):
        pass
    assert not stale.exists()


@pytest.mark.postgres
def test_a_bad_row_is_skipped_with_a_warning(pg_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    import psycopg
    from psycopg import sql

    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.write_definitions(VCD, [definition("wf-1"), definition("wf-2")])
    with psycopg.connect(backend.dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("UPDATE {}.definitions SET definition = '{{\"workflowId\": 5}}' WHERE workflow_id = 'wf-2'").format(
                sql.Identifier(backend.schema)
            )
        )
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert backend.read_definitions() == {(VCD, "wf-1"): definition("wf-1")}
    assert "kept definition of workflow wf-2 is not valid" in caplog.text


@pytest.mark.postgres
def test_a_schema_made_before_the_cache_gets_its_table(pg_store: Store) -> None:
    import psycopg
    from psycopg import sql

    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.read_definitions()  # creates the tables
    with psycopg.connect(backend.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE {}.definitions").format(sql.Identifier(backend.schema)))
    again = pg_store.open()
    again.write_definitions(VCD, [definition()])
    assert pg_store.open().read_definitions() == {(VCD, "wf-1"): definition()}


@pytest.mark.postgres
def test_an_unreachable_database_is_a_warning_for_the_cache(caplog: pytest.LogCaptureFixture) -> None:
    backend = PostgresBackend("postgresql://postgres:pw@127.0.0.1:1/none?connect_timeout=2", schema="test_nowhere")
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert backend.read_definitions() == {}
        backend.write_definitions(VCD, [definition()])
    assert "cannot connect to PostgreSQL" in caplog.text
    assert "pw" not in caplog.text


@pytest.mark.postgres
def test_the_cache_is_written_while_holding_the_lock(pg_store: Store) -> None:
    backend = pg_store.open()
    with backend.lock("apply"):
        backend.write_definitions(VCD, [definition()])
        assert backend.read_definitions() == {(VCD, "wf-1"): definition()}
    assert pg_store.open().read_definitions() == {(VCD, "wf-1"): definition()}


# ------------------------------------------------------------------------------ the JSON form, pure


def test_the_json_form_round_trips() -> None:
    original = definition()
    assert definition_from_json(json.loads(json.dumps(definition_to_json(original)))) == original
    unread = WorkflowDefinition("wf-x", None, (), ())
    assert definition_from_json(definition_to_json(unread)) == unread
    cached = {(VCD, "wf-1"): original, (OTHER, "wf-1"): unread.__class__("wf-1", None, (), ())}
    assert parse_cache(cache_bytes(cached)) == cached


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ([], "must be a JSON object"),
        ({"name": "x"}, "has no workflowId"),
        ({"workflowId": "w", "inputs": {}}, "inputs must be a list"),
        ({"workflowId": "w", "inputs": [{"name": "a"}]}, "has no name or no type"),
        ({"workflowId": "w", "inputs": [{"name": "a", "type": "string", "mandatory": "yes"}]}, "mandatory of input"),
        ({"workflowId": "w", "readAt": "yesterday"}, "readAt 'yesterday' is not an ISO 8601 time"),
        ({"workflowId": "w", "name": 3}, "name must be a string"),
    ],
)
def test_a_bad_json_form_says_what_is_wrong(doc: Any, why: str) -> None:
    with pytest.raises(InvalidValueError, match=why):
        definition_from_json(doc)


def test_a_cache_keyed_under_another_workflow_is_refused() -> None:
    body = definition_to_json(definition("wf-1"))
    data = json.dumps({"version": 1, "endpoints": {VCD: {"wf-2": body}}}).encode()
    with pytest.raises(InvalidValueError, match="kept as wf-2 is of wf-1"):
        parse_cache(data)
