"""Fencing: a holder that lost its lock writes nothing and learns it at its next check.

PostgreSQL: the lock generation (fencing token) goes up each time the lock is taken; every write of a
holder checks it in its own transaction, and ``ensure_held()`` checks the advisory lock and the
generation on the lock's connection. Local: ``ensure_held()`` checks that the recorded holder is us.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.base import LockInfo
from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend
from reconciler.errors import LockLostError, StateLockedError, UserError
from reconciler.operations import state as surgery
from tests.support.stores import Store

from .samples import put, state

pytestmark = pytest.mark.postgres


def _pg(store: Store, name: str = "main") -> PostgresBackend:
    backend = store.open_at(name)
    assert isinstance(backend, PostgresBackend)
    return backend


def _generation(backend: PostgresBackend) -> Any:
    import psycopg
    from psycopg import sql

    with psycopg.connect(backend.dsn, autocommit=True) as conn:
        statement = sql.SQL("SELECT generation, released FROM {}.fences WHERE workspace = %s").format(
            sql.Identifier(backend.schema)
        )
        return conn.execute(statement, [backend.workspace]).fetchone()


def _reconnect(backend: PostgresBackend) -> Any:
    """What a reconnecting holder would do: write through a fresh session (that holds no lock)."""
    backend._lock_conn = backend._connect()
    return backend._lock_conn


def test_each_taking_of_the_lock_is_a_new_generation(pg_store: Store) -> None:
    backend = _pg(pg_store)
    with backend.lock("apply"):
        first = backend.held()
        assert first is not None and first.generation is not None and not first.handover
        backend.ensure_held()
    assert backend.held() is None
    assert _generation(backend) == (first.generation, True)  # the row stays, marked released
    with backend.lock("apply"):
        second = backend.held()
        assert second is not None and second.generation == first.generation + 1
        assert not second.handover  # the previous holder released it


def test_a_terminated_holder_fails_its_check_then_every_write(pg_store: Store) -> None:
    old, new = _pg(pg_store), _pg(pg_store)
    old.write(state(serial=1), None)
    with old.lock("apply") as info:
        new.force_unlock(info.id, force=True)
        with pytest.raises(LockLostError, match=r"this apply lost the state lock.*session.*starts nothing more"):
            old.ensure_held()
        with new.lock("apply") as taken:
            held = new.held()
            assert held is not None and held.handover  # the previous holder never released it
            with pytest.raises(LockLostError, match=f"taken over by .* lock {taken.id}"):
                old.append([put("late")], 2)
            with _reconnect(old):  # even through another session, the stale generation writes nothing
                with pytest.raises(LockLostError, match=f"taken over by .* lock {taken.id}"):
                    old.append([put("late")], 2)
                with pytest.raises(LockLostError, match="taken over by"):
                    old.write(state(serial=5), 1, force=True)
                with pytest.raises(LockLostError, match="taken over by"):
                    old.ensure_held()  # a session that does not hold the advisory lock
            new.append([put("mine")], 2)
    final = new.read()
    assert final is not None and "late" not in final.runs and "mine" in final.runs and final.serial == 2


def test_a_stale_generation_is_refused_even_on_a_session_holding_the_lock(pg_store: Store) -> None:
    """The generation, not only the session, decides: a holder whose token moved on writes nothing."""
    backend = _pg(pg_store)
    backend.write(state(serial=1), None)
    with backend.lock("apply"):
        import psycopg
        from psycopg import sql

        with psycopg.connect(backend.dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("UPDATE {}.fences SET generation = generation + 1, who = 'someone@else'").format(
                    sql.Identifier(backend.schema)
                )
            )
        with pytest.raises(LockLostError, match="taken over by someone@else"):
            backend.append([put("late")], 2)
        with pytest.raises(LockLostError, match="taken over by someone@else"):
            backend.ensure_held()
    assert "late" not in (backend.read() or state()).runs


def test_force_unlock_refuses_a_live_session_unless_forced(pg_store: Store) -> None:
    holder, breaker = _pg(pg_store), _pg(pg_store)
    with holder.lock("apply") as info:
        with pytest.raises(StateLockedError, match=f"cannot force-unlock {info.id}: .*live PostgreSQL session"):
            breaker.force_unlock(info.id)
        holder.ensure_held()  # untouched
        breaker.force_unlock(info.id, force=True)
        with pytest.raises(LockLostError):
            holder.ensure_held()


def test_without_a_lock_there_is_nothing_to_check(pg_store: Store) -> None:
    backend = _pg(pg_store)
    backend.ensure_held()
    assert backend.held() is None


def test_local_holder_whose_lock_info_was_replaced_has_lost_it(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.state.json"
    backend, other = LocalBackend(path), LocalBackend(path)
    with backend.lock("apply") as info:
        backend.ensure_held()
        held = backend.held()
        assert held is not None and held.info == info and not held.handover
        other.lock_file.write_info(info.__class__(**{**info.__dict__, "id": "someone-else", "who": "eve@host"}))
        with pytest.raises(LockLostError, match=r"this apply lost the state lock.*eve@host.*someone-else"):
            backend.ensure_held()
    assert backend.held() is None
    backend.ensure_held()  # no lock held: nothing to check


def test_local_lock_info_left_by_a_dead_holder_is_a_handover(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.state.json"
    backend = LocalBackend(path)
    with backend.lock("apply") as info:
        pass
    with backend.lock("apply"):
        held = backend.held()
        assert held is not None and not held.handover  # released cleanly
    backend.lock_file.write_info(info)  # what a killed holder leaves behind
    with backend.lock("apply"):
        held = backend.held()
        assert held is not None and held.handover


def test_force_unlock_of_a_live_holder_asks_first_naming_it(pg_store: Store) -> None:
    holder, breaker = _pg(pg_store), _pg(pg_store)
    asked: list[LockInfo] = []
    with holder.lock("apply") as info:
        with pytest.raises(UserError, match="cancelled"):
            surgery.force_unlock(breaker, info.id, True, lambda shown: asked.append(shown) or False)  # type: ignore[func-returns-value]
        assert asked == [info]  # the prompt was shown the holder's details
        holder.ensure_held()  # a "no" leaves the lock alone
        with pytest.raises(StateLockedError, match="live PostgreSQL session"):
            surgery.force_unlock(breaker, info.id, False, lambda shown: True)  # no --force: never asked
        assert len(asked) == 1
        surgery.force_unlock(breaker, info.id, True, lambda shown: True)
        with pytest.raises(LockLostError):
            holder.ensure_held()


def test_local_holder_whose_lock_info_was_removed_has_lost_it(tmp_path: Path) -> None:
    """A check that found the info file unchanged since the last one costs a stat; a removed file
    (a force-unlock) is seen by the next check all the same."""
    path = tmp_path / "reconciler.state.json"
    backend = LocalBackend(path)
    with backend.lock("apply"):
        backend.ensure_held()
        backend.ensure_held()  # unchanged: the stat says so
        backend.lock_file.info_path.unlink()
        with pytest.raises(LockLostError, match=r"this apply lost the state lock \(unlocked"):
            backend.ensure_held()
