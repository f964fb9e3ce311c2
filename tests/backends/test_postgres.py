"""What only the PostgreSQL backend does: its rows, force-unlock by termination, redaction."""

from __future__ import annotations

import math
import random
import struct
import threading
from typing import Any

import pytest

from reconciler.backends.postgres import PostgresBackend, redact
from reconciler.errors import LockLostError, StateError, StateLockedError
from reconciler.state.models import State
from tests.support.stores import Store

from .samples import put, remove, state
from .test_parse_state import same


def query(backend: PostgresBackend, text: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(backend.dsn, autocommit=True) as conn:
        statement = sql.SQL(text).format(s=sql.Identifier(backend.schema))
        return conn.execute(statement, params).fetchall()


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://deployer:s3cr%40t@db:5432/state", "postgresql://deployer:***@db:5432/state"),
        ("host=db user=deployer password=s3cret dbname=state", "host=db user=deployer password=*** dbname=state"),
        ("host=db password='a b\\' c' dbname=x", "host=db password=*** dbname=x"),
        (
            "postgresql://db/state?user=u&password=s3cret&sslmode=require",
            "postgresql://db/state?user=u&password=***&sslmode=require",
        ),
        ("postgresql://deployer@db/state", "postgresql://deployer@db/state"),
    ],
)
def test_passwords_never_show(dsn: str, shown: str) -> None:
    assert redact(dsn) == shown


def test_connection_failure_is_a_state_error_without_the_password() -> None:
    backend = PostgresBackend("postgresql://someone:hunter2@127.0.0.1:1/nowhere")
    with pytest.raises(StateError, match="cannot connect to PostgreSQL") as raised:
        backend.read()
    assert "hunter2" not in str(raised.value)
    assert "hunter2" not in backend.describe()


def test_rows_hold_the_state_without_its_runs(pg_store: Store) -> None:
    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.write(state(serial=4, lineage="L", runs=2), None)
    [(serial, lineage, body)] = query(backend, "SELECT serial, lineage, body FROM {s}.states")
    assert (serial, lineage, body) == (4, "L", {"version": 1, "salt": "c2FsdA==", "stack": None})
    rows = query(backend, "SELECT workspace, name, record->>'key' FROM {s}.runs ORDER BY name")
    assert rows == [("main", "run-0", "k0"), ("main", "run-1", "k1")]


def test_append_touches_only_the_runs_it_names(pg_store: Store) -> None:
    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.write(state(serial=1, runs=5), None)
    before = dict(query(backend, "SELECT name, xmin::text FROM {s}.runs"))
    backend.append([put("run-1", key="new"), put("fresh"), remove("run-2"), put("gone"), remove("gone")], 2)
    after = dict(query(backend, "SELECT name, xmin::text FROM {s}.runs"))
    assert sorted(after) == ["fresh", "run-0", "run-1", "run-3", "run-4"]
    assert {name for name in after if before.get(name) == after[name]} == {"run-0", "run-3", "run-4"}


def test_workspaces_are_separate(pg_store: Store) -> None:
    prod, dev = pg_store.open_at("prod"), pg_store.open_at("dev")
    prod.write(state(serial=1, lineage="P"), None)
    assert dev.read() is None
    with prod.lock("apply"), dev.lock("apply"):
        pass


def test_tables_are_created_once_under_concurrency(pg_store: Store) -> None:
    errors: list[BaseException] = []

    def first_use(name: str) -> None:
        try:
            pg_store.open_at(name).read()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_force_unlock_terminates_the_holders_session(pg_store: Store) -> None:
    holder, breaker = pg_store.open(), pg_store.open()
    holder.write(state(serial=1), None)
    with holder.lock("apply") as info:
        with pytest.raises(StateLockedError, match="live PostgreSQL session"):
            breaker.force_unlock(info.id)  # a live holder: only with force
        breaker.force_unlock(info.id, force=True)
        with pytest.raises(LockLostError, match="this apply lost the state lock"):
            holder.append([put("late")], 2)  # the terminated holder can no longer write
        with breaker.lock("apply") as taken:
            assert taken.id != info.id
    assert "late" not in (breaker.read() or state()).runs


def test_a_row_left_by_a_dead_holder_is_overwritten_or_force_unlocked(pg_store: Store) -> None:
    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.read()  # creates the tables
    query(
        backend,
        "INSERT INTO {s}.locks VALUES ('main', 'dead-id', 'apply', 'x@y', 1, 'then', 'p', 999999) RETURNING 1",
    )
    assert backend.read_lock_info() is None  # no session holds the lock: the row is not a holder
    backend.force_unlock("dead-id")
    assert query(backend, "SELECT count(*) FROM {s}.locks") == [(0,)]
    query(
        backend,
        "INSERT INTO {s}.locks VALUES ('main', 'dead-id', 'apply', 'x@y', 1, 'then', 'p', 999999) RETURNING 1",
    )
    with backend.lock("apply") as info:
        assert backend.read_lock_info() == info
        assert query(backend, "SELECT id FROM {s}.locks") == [(info.id,)]


def decoded(backend: PostgresBackend) -> State | None:
    """The reference read: psycopg's decoded ``jsonb`` and ``State.model_validate``."""
    with backend._session("reading the state") as conn, conn.transaction():
        return backend._read_decoded(conn)


def test_rows_read_as_json_text_give_the_reference_state(pg_store: Store) -> None:
    backend, fast_only = pg_store.open(), pg_store.open()
    assert isinstance(backend, PostgresBackend) and isinstance(fast_only, PostgresBackend)
    fast_only._read_decoded = lambda conn: pytest.fail("fell back")  # type: ignore[method-assign]
    rng = random.Random(3)
    floats = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(500)]
    outputs: dict[str, Any] = {f"f{i}": x for i, x in enumerate(floats) if math.isfinite(x)}
    outputs |= {"big": 10**40, "neg": -(2**64), "zero": -0.0, "tiny": 5e-324, "text": 'é😀 "q" \\ \u2028 \x01'}
    outputs |= {"nested": {"list": [1, 2.5, None, True, "x", {"deep": []}], "empty": {}}}
    base = state(serial=3, lineage="L-é", runs=3)
    runs = dict(base.runs)
    runs['odd "name" é😀'] = runs["run-0"].model_copy(update={"outputs": outputs})
    backend.write(base.model_copy(update={"runs": runs}), None)
    read = fast_only.read()
    assert read is not None and same(read, decoded(backend))
    kept = read.runs['odd "name" é😀'].outputs  # jsonb prints large floats as integers: both paths read those
    assert all(same(kept[name], outputs[name]) for name in ("big", "neg", "tiny", "text", "nested", "f0"))
    # a body key that the columns override, numbers as jsonb keeps them, a record with every field unset
    query(backend, "UPDATE {s}.states SET body = body || %s::jsonb RETURNING 1", '{"serial": 99, "lineage": "x"}')
    record = '{"workflow": "w", "key": "k", "outputs": {"a": 1e400, "b": 1.50, "c": 0.1e1, "d": 12345678901234567890}}'
    query(backend, "UPDATE {s}.runs SET record = %s::jsonb WHERE name = 'run-1' RETURNING 1", record)
    read = fast_only.read()
    assert read is not None and same(read, decoded(backend))
    assert read.serial == 3 and read.lineage == "L-é" and read.runs["run-1"].outputs["d"] == 12345678901234567890


@pytest.mark.parametrize(
    "record",
    ['{"workflow": 1, "key": "k"}', '{"workflow": "w", "key": "k", "unknown": true}', '"text"', "[]"],
)
def test_an_invalid_stored_run_gives_the_reference_error(pg_store: Store, record: str) -> None:
    backend = pg_store.open()
    assert isinstance(backend, PostgresBackend)
    backend.write(state(serial=1, runs=2), None)
    query(backend, "UPDATE {s}.runs SET record = %s::jsonb WHERE name = 'run-1' RETURNING 1", record)
    with pytest.raises(StateError, match=r"the stored state is not valid:\n1 validation error for State") as raised:
        backend.read()
    with pytest.raises(StateError) as reference:
        decoded(backend)
    assert str(raised.value) == str(reference.value)
    assert "runs.run-1" in str(raised.value)
