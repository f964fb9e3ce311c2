"""The PostgreSQL backend: one state per workspace, per-run rows, an advisory lock.

Tables, in ``schema`` (default ``reconciler``), created on first use if missing (under a
transaction-level advisory lock, so concurrent first runs do not collide)::

    states(workspace text PRIMARY KEY, serial bigint, lineage text, body jsonb, updated_at timestamptz)
    runs(workspace text, name text, record jsonb, PRIMARY KEY (workspace, name))
    locks(workspace text PRIMARY KEY, id text, operation text, who text, pid integer, created text,
          path text, backend_pid integer)
    fences(workspace text PRIMARY KEY, generation bigint, lock_id text, operation text, who text,
           changed_at timestamptz)
    definitions(workspace text, endpoint text, workflow_id text, definition jsonb, read_at timestamptz,
                PRIMARY KEY (workspace, endpoint, workflow_id))

``definitions`` is the workflow definitions cache (`reconciler.backends.definitions_store`): one row
per definition read, ``definition`` in the JSON form of ``reconciler.definitions``. A cache: written
with an upsert (last writer wins, no lock check), and a row that cannot be read is skipped with a
warning, as is a database error while reading or writing it (never an error of the command).

``body`` is the State JSON (camelCase, ``model_dump(mode="json", by_alias=True)``) without ``runs``,
``serial`` and ``lineage``, which live in the columns and rows: ``{"version": 1, "salt": "..."}``.
``record`` is one ``RunRecord`` in the same JSON form. ``read()`` = the ``states`` row + its ``runs``
rows in one REPEATABLE READ snapshot. ``append()`` = in one transaction: bump ``serial`` (refused
unless the new serial is above the stored one) and upsert/delete only the runs the events touch, so
its cost is O(events). ``write()`` = in one transaction: compare-and-set on ``serial``, replace the
``states`` row and all the workspace's ``runs`` rows.

Lock: ``pg_try_advisory_lock(key)`` (a session lock; ``key`` = 64 bits of BLAKE2b of schema and
workspace) held on a connection dedicated to the lock for its lifetime. PostgreSQL releases it when
that connection or the holding process dies, so no lock is ever stale. The holder's details go in
``locks`` (a row left by a dead holder is just overwritten). While an object holds the lock its
writes go through the lock's connection: a holder whose session was terminated by ``force-unlock``
can no longer write.

Fencing: each time the lock is taken, ``fences.generation`` of the workspace goes up by one (the
fencing token; the row stays when the lock is released) and ``changed_at`` records when. Every
``write()`` / ``append()`` of a holder checks, in its own transaction (``FOR SHARE`` of that row),
that the generation is still the one it took, so a holder that lost its lock, whatever the
connection it writes through, gets `LockLostError` naming the new holder and writes nothing.
``ensure_held()`` is one query on the lock's connection: the advisory lock is still this session's
and the generation unchanged (apply calls it right before each start request).

``force_unlock(id, force)``: a stale row (holder gone) is removed. When ``id`` is the current lock's
and its session is alive, that is refused (as the local backend refuses a live process) unless
``force``: then the holder's session is terminated with ``pg_terminate_backend`` (needs superuser,
the same role, or ``pg_signal_backend``); the fencing above stops that holder at its next write or
lock check. Another id is refused.

Connections are synchronous (psycopg 3, imported lazily); ``append()`` may run in a worker thread.
Passwords in the DSN never appear in messages (``password=***``, ``user:***@``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reconciler import killpoints
from reconciler.backends.base import HeldLock, LockInfo
from reconciler.backends.definitions_store import Cached, endpoint_key
from reconciler.backends.locking import locked_error, new_lock_info, poll_until
from reconciler.backends.serials import Stored, check_write
from reconciler.definitions import WorkflowDefinition, definition_from_json, definition_to_json
from reconciler.errors import InvalidValueError, LockLostError, StateError, StateLockedError
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import State

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg.sql import Composed

log = logging.getLogger("reconciler.state")

CONNECT_TIMEOUT_SECONDS = 10
TERMINATE_WAIT_SECONDS = 5.0
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*(@)")

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE IF NOT EXISTS {s}.states (workspace text PRIMARY KEY, serial bigint NOT NULL,"
    " lineage text NOT NULL, body jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS {s}.runs (workspace text NOT NULL, name text NOT NULL,"
    " record jsonb NOT NULL, PRIMARY KEY (workspace, name))",
    "CREATE TABLE IF NOT EXISTS {s}.locks (workspace text PRIMARY KEY, id text NOT NULL,"
    " operation text NOT NULL, who text NOT NULL, pid integer NOT NULL, created text NOT NULL,"
    " path text NOT NULL, backend_pid integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {s}.fences (workspace text PRIMARY KEY, generation bigint NOT NULL,"
    " lock_id text NOT NULL, operation text NOT NULL, who text NOT NULL, changed_at timestamptz NOT NULL,"
    " released boolean NOT NULL DEFAULT false)",
    "CREATE TABLE IF NOT EXISTS {s}.definitions (workspace text NOT NULL, endpoint text NOT NULL,"
    " workflow_id text NOT NULL, definition jsonb NOT NULL, read_at timestamptz,"
    " PRIMARY KEY (workspace, endpoint, workflow_id))",
)

_BUMP_SQL = (  # the new generation, and whether the previous holder released the lock (None: first);
    # run only by the advisory lock's holder, so never concurrently for one workspace
    "WITH before AS MATERIALIZED (SELECT released FROM {s}.fences WHERE workspace = %(ws)s)"
    " INSERT INTO {s}.fences AS f (workspace, generation, lock_id, operation, who, changed_at)"
    " VALUES (%(ws)s, 1, %(id)s, %(op)s, %(who)s, now()) ON CONFLICT (workspace) DO UPDATE SET"
    " generation = f.generation + 1, lock_id = excluded.lock_id, operation = excluded.operation,"
    " who = excluded.who, changed_at = now(), released = false"
    " RETURNING generation, (SELECT released FROM before)"
)
_FENCE_SQL = "SELECT generation, lock_id, who, changed_at FROM {s}.fences WHERE workspace = %s"
_HELD_SQL = (
    "SELECT f.generation, f.lock_id, f.who, f.changed_at, EXISTS (SELECT 1 FROM pg_locks k"
    "  WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1 AND k.pid = pg_backend_pid()"
    "  AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "  AND k.classid::bigint = %(classid)s AND k.objid::bigint = %(objid)s) AS ours"
    " FROM (SELECT 1) AS one LEFT JOIN {s}.fences f ON f.workspace = %(ws)s"
)

_HOLDER_SQL = (
    "SELECT l.id, l.operation, l.who, l.pid, l.created, l.path, l.backend_pid,"
    " (SELECT k.pid FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1"
    "  AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "  AND k.classid::bigint = %(classid)s AND k.objid::bigint = %(objid)s) AS holder"
    " FROM (SELECT 1) AS one LEFT JOIN {s}.locks l ON l.workspace = %(ws)s"
)


def redact(text: str) -> str:
    """``text`` with any DSN password replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1***\2", _PASSWORD_KV.sub(r"\1***", text))


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts``."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def key_halves(key: int) -> tuple[int, int]:
    """How ``pg_locks`` shows a bigint advisory key: (classid, objid)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def body_of(state: State) -> dict[str, Any]:
    doc = state.model_dump(mode="json", by_alias=True, exclude={"runs", "serial", "lineage"})
    return doc


def state_text(serial: object, lineage: object, body: object, runs: Sequence[tuple[str, str]]) -> str | None:
    """The JSON text of ``{**body, "serial": serial, "lineage": lineage, "runs": {name: record}}`` from
    the rows' text (``body::text``, ``record::text``); None when ``body`` is not a JSON object's text.

    A key of ``body`` that comes again later is overridden, as in the dict: the last one wins.
    """
    if not isinstance(serial, int) or not isinstance(lineage, str) or not isinstance(body, str):
        return None
    if not (body.startswith("{") and body.endswith("}")):
        return None
    members = body[1:-1].strip()
    head = "{" + members + ", " if members else "{"
    records = ", ".join(f"{json.dumps(name)}: {record}" for name, record in runs)
    return f'{head}"serial": {serial}, "lineage": {json.dumps(lineage)}, "runs": {{{records}}}}}'


def _utc(moment: object) -> str:
    """A ``timestamptz`` as ISO 8601 UTC to the second (as lock infos show times)."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(moment)


def fold(events: Sequence[PutRun | RemoveRun]) -> dict[str, PutRun | RemoveRun]:
    """The last event of each run: what the group leaves behind."""
    last: dict[str, PutRun | RemoveRun] = {}
    for event in events:
        last.pop(event.run, None)
        last[event.run] = event
    return last


class PostgresBackend:
    """State in PostgreSQL (see the module docstring for the tables)."""

    quick_held_check = False  # a query: in a thread

    def __init__(self, dsn: str, workspace: str = "default", schema: str = "reconciler") -> None:
        self.dsn = dsn
        self.workspace = workspace
        self.schema = schema
        self._key = lock_key("reconciler-state", schema, workspace)
        self._ready = False
        self._mutex = threading.RLock()
        self._lock_conn: Connection[Any] | None = None
        self._held: HeldLock | None = None

    def describe(self) -> str:
        return f"postgres workspace {self.workspace!r} (schema {self.schema}) at {redact(self.dsn)}"

    @property
    def where(self) -> str:
        return f"{redact(self.dsn)} {self.schema}/{self.workspace}"

    # --- connections ---

    def _sql(self, text: str) -> Composed:
        from psycopg import sql

        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    def _connect(self) -> Connection[Any]:
        import psycopg

        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to PostgreSQL at {redact(self.dsn)}: {redact(str(exc))}") from exc
        try:
            with self._errors("creating the tables"):
                self._ensure_tables(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise StateError(f"PostgreSQL error while {action} ({self.where}): {redact(str(exc))}") from exc

    @contextlib.contextmanager
    def _session(self, action: str) -> Iterator[Connection[Any]]:
        """The lock's connection while we hold the lock, else a fresh one closed afterwards."""
        with self._mutex:
            if self._lock_conn is not None:
                with self._lock_errors(action, self._lock_conn):
                    yield self._lock_conn
                return
            conn = self._connect()
            try:
                with self._errors(action):
                    yield conn
            finally:
                conn.close()

    @contextlib.contextmanager
    def _lock_errors(self, action: str, conn: Connection[Any]) -> Iterator[None]:
        """`_errors` on the lock's connection: a lost session means a lost lock (`LockLostError`)."""
        import psycopg

        try:
            with self._errors(action):
                yield
        except StateError as exc:
            if isinstance(exc, LockLostError) or not isinstance(exc.__cause__, psycopg.Error) or not conn.broken:
                raise
            raise self._lost("its PostgreSQL session ended") from exc

    def _ensure_tables(self, conn: Connection[Any]) -> None:
        if self._ready:
            return
        found = conn.execute(
            "SELECT to_regclass(%(t)s || '.states') IS NOT NULL AND to_regclass(%(t)s || '.runs') IS NOT NULL"
            " AND to_regclass(%(t)s || '.locks') IS NOT NULL AND to_regclass(%(t)s || '.fences') IS NOT NULL"
            " AND to_regclass(%(t)s || '.definitions') IS NOT NULL",
            {"t": self._quoted_schema(conn)},
        ).fetchone()
        if not (found and found[0]):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key("reconciler-ddl", self.schema)])
                for statement in _DDL:
                    conn.execute(self._sql(statement))
        self._ready = True

    def _quoted_schema(self, conn: Connection[Any]) -> str:
        from psycopg import sql

        return sql.Identifier(self.schema).as_string(conn)

    # --- reading ---

    def read(self) -> State | None:
        with self._session("reading the state") as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return self._read_in(conn)

    def _read_in(self, conn: Connection[Any]) -> State | None:
        """The state in this snapshot (a REPEATABLE READ transaction).

        The rows come as JSON text and pydantic parses and validates them in one pass (no
        intermediate dicts), for the same `State` as decoding every ``jsonb`` and validating the
        dicts. When that fails, the same snapshot is read the old way (`_read_decoded`), whose errors
        say what is wrong.
        """
        rows = self._rows(conn, as_text=True)
        if rows is None:
            return None
        (serial, lineage, body), runs = rows
        text = state_text(serial, lineage, body, runs)
        if text is not None:
            try:
                return State.model_validate_json(text)
            except ValueError:  # pydantic's ValidationError
                pass
        return self._read_decoded(conn)

    def _read_decoded(self, conn: Connection[Any]) -> State | None:
        """`_read_in` with psycopg's decoded ``jsonb`` and ``State.model_validate``: the reference."""
        rows = self._rows(conn, as_text=False)
        if rows is None:
            return None
        (serial, lineage, body), runs = rows
        doc = {**body, "serial": serial, "lineage": lineage, "runs": dict(runs)}
        try:
            return State.model_validate(doc)
        except ValidationError as exc:
            raise StateError(f"{self.where}: the stored state is not valid:\n{exc}") from exc

    def _rows(self, conn: Connection[Any], *, as_text: bool) -> tuple[Any, list[Any]] | None:
        """This workspace's state row (serial, lineage, body) and run rows (name, record), in name
        order; the JSON columns as text with ``as_text``, else as psycopg decodes ``jsonb``."""
        cast = "::text" if as_text else ""
        row = conn.execute(
            self._sql(f"SELECT serial, lineage, body{cast} FROM {{s}}.states WHERE workspace = %s"), [self.workspace]
        ).fetchone()
        if row is None:
            return None
        runs = conn.execute(
            self._sql(f"SELECT name, record{cast} FROM {{s}}.runs WHERE workspace = %s ORDER BY name"),
            [self.workspace],
        ).fetchall()
        return row, runs

    # --- writing ---

    def write(self, state: State, expected_serial: int | None, *, force: bool = False) -> None:
        """Replace the workspace's state; same checks (and ``force``) as the local backend."""
        from psycopg.types.json import Jsonb

        with self._session("writing the state") as conn, conn.transaction():
            self._check_fence(conn)
            row = conn.execute(
                self._sql("SELECT serial, lineage FROM {s}.states WHERE workspace = %s FOR UPDATE"),
                [self.workspace],
            ).fetchone()
            stored = None if row is None else Stored(row[0], row[1])
            check_write(self.describe(), stored, state.lineage, expected_serial, force)
            self._put_state_row(conn, state, stored)
            conn.execute(self._sql("DELETE FROM {s}.runs WHERE workspace = %s"), [self.workspace])
            with conn.cursor() as cursor:
                cursor.executemany(
                    self._sql("INSERT INTO {s}.runs (workspace, name, record) VALUES (%s, %s, %s)"),
                    [
                        (self.workspace, name, Jsonb(record.model_dump(mode="json", by_alias=True)))
                        for name, record in sorted(state.runs.items())
                    ],
                )

    def _put_state_row(self, conn: Connection[Any], state: State, stored: Stored | None) -> None:
        from psycopg.types.json import Jsonb

        values = [state.serial, state.lineage, Jsonb(body_of(state)), self.workspace]
        if stored is None:
            done = conn.execute(
                self._sql(
                    "INSERT INTO {s}.states (serial, lineage, body, workspace) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (workspace) DO NOTHING"
                ),
                values,
            )
        else:
            done = conn.execute(
                self._sql(
                    "UPDATE {s}.states SET serial = %s, lineage = %s, body = %s, updated_at = now()"
                    " WHERE workspace = %s AND serial = %s"
                ),
                [*values, stored.serial],
            )
        if done.rowcount != 1:
            raise StateError(f"{self.describe()}: the state changed meanwhile; run the command again")

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        """Apply ``events`` as one transaction producing ``serial`` (above the current serial)."""
        if not events:
            return
        with self._session("recording state events") as conn, conn.transaction():
            self._check_fence(conn)
            self._bump_serial(conn, serial)
            last = fold(events)
            self._upsert_runs(conn, [e for e in last.values() if isinstance(e, PutRun)])
            removed = [(self.workspace, e.run) for e in last.values() if isinstance(e, RemoveRun)]
            with conn.cursor() as cursor:
                cursor.executemany(self._sql("DELETE FROM {s}.runs WHERE workspace = %s AND name = %s"), removed)
        killpoints.reach("journal-appended")

    def _bump_serial(self, conn: Connection[Any], serial: int) -> None:
        done = conn.execute(
            self._sql("UPDATE {s}.states SET serial = %s, updated_at = now() WHERE workspace = %s AND serial < %s"),
            [serial, self.workspace, serial],
        )
        if done.rowcount == 1:
            return
        row = conn.execute(self._sql("SELECT serial FROM {s}.states WHERE workspace = %s"), [self.workspace]).fetchone()
        if row is None:
            raise StateError(f"{self.describe()}: no state yet; write the initial state before appending events")
        raise StateError(f"{self.describe()}: new serial {serial} is not above the current serial {row[0]}")

    def _upsert_runs(self, conn: Connection[Any], puts: list[PutRun]) -> None:
        from psycopg.types.json import Jsonb

        with conn.cursor() as cursor:
            cursor.executemany(
                self._sql(
                    "INSERT INTO {s}.runs (workspace, name, record) VALUES (%s, %s, %s)"
                    " ON CONFLICT (workspace, name) DO UPDATE SET record = excluded.record"
                ),
                [(self.workspace, e.run, Jsonb(e.record.model_dump(mode="json", by_alias=True))) for e in puts],
            )

    # --- the workflow definitions cache ---

    def read_definitions(self) -> Cached:
        """The workspace's kept definitions; a row or a database error is a warning, never an error."""
        try:
            with self._session("reading the workflow definitions cache") as conn:
                rows = conn.execute(
                    self._sql("SELECT endpoint, workflow_id, definition FROM {s}.definitions WHERE workspace = %s"),
                    [self.workspace],
                ).fetchall()
        except StateError as exc:
            log.warning("%s; the cache is ignored", exc)
            return {}
        cached: Cached = {}
        for endpoint, workflow_id, body in rows:
            try:
                definition = definition_from_json(body)
            except InvalidValueError as exc:
                log.warning(
                    "%s: kept definition of workflow %s is not valid (%s); ignored", self.where, workflow_id, exc
                )
                continue
            cached[(endpoint, workflow_id)] = definition
        return cached

    def write_definitions(self, endpoint: str, definitions: Sequence[WorkflowDefinition]) -> None:
        """Upsert one row per definition (last writer wins); a database error is a warning."""
        from psycopg.types.json import Jsonb

        if not definitions:
            return
        rows = [
            (self.workspace, endpoint_key(endpoint), d.workflow_id, Jsonb(definition_to_json(d)), d.read_at)
            for d in definitions
        ]
        try:
            with self._session("writing the workflow definitions cache") as conn, conn.cursor() as cursor:
                cursor.executemany(
                    self._sql(
                        "INSERT INTO {s}.definitions (workspace, endpoint, workflow_id, definition, read_at)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (workspace, endpoint, workflow_id)"
                        " DO UPDATE SET definition = excluded.definition, read_at = excluded.read_at"
                    ),
                    rows,
                )
        except StateError as exc:
            log.warning("%s; the definitions read are not kept", exc)

    # --- locking ---

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the workspace's advisory lock; `StateLockedError` naming the holder when taken."""
        conn = self._connect()
        try:
            info, generation, handover = self._acquire(conn, operation, timeout)
            with self._mutex:
                self._lock_conn = conn
                self._held = HeldLock(info, generation, time.monotonic(), handover)
            try:
                yield info
            finally:
                with self._mutex:
                    self._lock_conn = None
                    self._held = None
                self._release(conn, info, generation)
        finally:
            conn.close()

    def _acquire(self, conn: Connection[Any], operation: str, timeout: float) -> tuple[LockInfo, int, bool]:
        """Take the lock: our details, the new generation, and whether the previous holder lost it."""
        with self._errors("taking the lock"):
            if not poll_until(lambda: self._try_lock(conn), timeout):
                holder, backend = self._holder(conn)
                raise locked_error(holder, f"Workspace: {self.where} (PostgreSQL backend pid {backend})")
            info = new_lock_info(operation, self.where)
            conn.execute(
                self._sql(
                    "INSERT INTO {s}.locks (workspace, id, operation, who, pid, created, path, backend_pid)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid())"
                    " ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, operation = excluded.operation,"
                    " who = excluded.who, pid = excluded.pid, created = excluded.created,"
                    " path = excluded.path, backend_pid = excluded.backend_pid"
                ),
                [self.workspace, info.id, info.operation, info.who, info.pid, info.created, info.path],
            )
            values = {"ws": self.workspace, "id": info.id, "op": info.operation, "who": info.who}
            row = conn.execute(self._sql(_BUMP_SQL), values).fetchone()
            assert row is not None
            return info, int(row[0]), row[1] is False

    def _try_lock(self, conn: Connection[Any]) -> bool | None:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [self._key]).fetchone()
        return True if row and row[0] else None

    def _release(self, conn: Connection[Any], info: LockInfo, generation: int) -> None:
        """Mark our generation released, drop our row and the lock; a dead connection has released the
        lock already (and the next holder, seeing it not released, waits for our requests in flight)."""
        import psycopg

        with contextlib.suppress(psycopg.Error):
            conn.execute(
                self._sql("UPDATE {s}.fences SET released = true WHERE workspace = %s AND generation = %s"),
                [self.workspace, generation],
            )
            conn.execute(self._sql("DELETE FROM {s}.locks WHERE workspace = %s AND id = %s"), [self.workspace, info.id])
            conn.execute("SELECT pg_advisory_unlock(%s)", [self._key])

    def _holder(self, conn: Connection[Any]) -> tuple[LockInfo | None, int | None]:
        """The recorded holder (if it is the session holding the lock) and that session's pid."""
        classid, objid = key_halves(self._key)
        row = conn.execute(
            self._sql(_HOLDER_SQL), {"classid": classid, "objid": objid, "ws": self.workspace}
        ).fetchone()
        if row is None:
            return None, None
        lock_id, operation, who, pid, created, path, backend_pid, holder = row
        if lock_id is None or backend_pid != holder:
            return None, holder
        return LockInfo(id=lock_id, operation=operation, who=who, pid=pid, created=created, path=path), holder

    # --- fencing ---

    def held(self) -> HeldLock | None:
        """The lock this object holds now, with its generation (fencing token)."""
        return self._held

    def ensure_held(self) -> None:
        """One query on the lock's connection: the advisory lock is still this session's and the
        generation is still ours; `LockLostError` otherwise. No-op when this object holds no lock."""
        held = self._held
        if held is None:
            return
        classid, objid = key_halves(self._key)
        with self._session("checking the state lock") as conn:
            found = conn.execute(self._sql(_HELD_SQL), {"classid": classid, "objid": objid, "ws": self.workspace})
            generation, _, _, _, ours = found.fetchone() or (None, None, None, None, False)
        if not ours or generation != held.generation:
            raise self._lost("its PostgreSQL session no longer holds the advisory lock" if not ours else None)

    def _check_fence(self, conn: Connection[Any]) -> None:
        """In a write's transaction: refuse unless the generation is still the one this holder took."""
        held = self._held
        if held is None:  # not a holder (the protocol's callers always are): nothing to fence
            return
        row = conn.execute(self._sql(_FENCE_SQL + " FOR SHARE"), [self.workspace]).fetchone()
        if row is None or row[0] != held.generation:
            raise self._lost(None, row)

    def _lost(self, why: str | None, fence: Any = None) -> LockLostError:
        """The error of a holder that lost its lock, naming who has it now (read afresh if not given)."""
        held = self._held
        operation = held.info.operation if held else "command"
        if fence is None:
            with contextlib.suppress(StateError, OSError):
                fence = self._fresh_fence()
        mine = held.generation if held else None
        if fence is not None and fence[0] != mine:
            generation, lock_id, who, changed_at = fence
            how = f"taken over by {who} at {_utc(changed_at)}: lock {lock_id}, generation {generation}"
        else:
            how = why or "it is no longer held"
        return LockLostError(f"{self.describe()}: this {operation} lost the state lock ({how}); it starts nothing more")

    def _fresh_fence(self) -> Any:
        conn = self._connect()
        try:
            with self._errors("reading the lock generation"):
                return conn.execute(self._sql(_FENCE_SQL), [self.workspace]).fetchone()
        finally:
            conn.close()

    def read_lock_info(self) -> LockInfo | None:
        """The current holder's details, or None when nobody holds the lock."""
        with self._session("reading the lock") as conn:
            return self._holder(conn)[0]

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None:
        """Break lock ``lock_id``; a live holder only with ``force``, by terminating its session."""
        with self._session("breaking the lock") as conn:
            row = conn.execute(self._sql("SELECT id FROM {s}.locks WHERE workspace = %s"), [self.workspace]).fetchone()
            if row is None:
                raise StateError(f"{self.describe()} is not locked")
            if row[0] != lock_id:
                raise StateError(f"lock id {lock_id} does not match the current lock {row[0]}")
            recorded, holder = self._holder(conn)
            if holder is not None and recorded is None:
                raise StateError(f"lock {lock_id} is gone: another session (pid {holder}) has just taken the lock")
            if holder is not None and not force:
                raise StateLockedError(live_session_message(recorded, holder), lock_id=lock_id)
            if holder is not None:
                self._terminate(conn, holder)
            conn.execute(self._sql("DELETE FROM {s}.locks WHERE workspace = %s AND id = %s"), [self.workspace, lock_id])

    # --- workspaces ---

    def workspaces(self) -> list[WorkspaceInfo]:
        """Every workspace of this schema that holds a state, with its run count, serial and last write."""
        with self._session("listing the workspaces") as conn:
            self._ensure_tables(conn)
            rows = conn.execute(
                self._sql(
                    "SELECT s.workspace, count(r.name), s.serial, s.updated_at FROM {s}.states s"
                    " LEFT JOIN {s}.runs r ON r.workspace = s.workspace"
                    " GROUP BY s.workspace, s.serial, s.updated_at ORDER BY s.workspace"
                )
            ).fetchall()
        return [WorkspaceInfo(name, runs, serial, updated) for name, runs, serial, updated in rows]

    def delete_workspace(self, *, force: bool = False, timeout: float = 0.0) -> int:
        """Delete this workspace (its state, runs and kept definitions), under its lock; one that still
        records runs only with ``force``. Its fence stays, so that generations never repeat. Returns how
        many run records went with it."""
        with self.lock("workspace delete", timeout), self._session("deleting the workspace") as conn:
            runs = conn.execute(
                self._sql("SELECT count(*) FROM {s}.runs WHERE workspace = %s"), [self.workspace]
            ).fetchone()
            count = int(runs[0]) if runs else 0
            if count and not force:
                raise StateError(
                    f"workspace {self.workspace!r} still records {count} run(s): deleting it forgets them (the "
                    "executions stay on the server). Use --force to delete it anyway"
                )
            with conn.transaction():
                for table in ("runs", "definitions", "states"):
                    conn.execute(self._sql(f"DELETE FROM {{s}}.{table} WHERE workspace = %s"), [self.workspace])
            return count

    def _terminate(self, conn: Connection[Any], backend_pid: int) -> None:
        import psycopg

        try:
            row = conn.execute("SELECT pg_terminate_backend(%s)", [backend_pid]).fetchone()
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StateError(
                f"cannot force-unlock: terminating the holder's session (pid {backend_pid}) needs superuser, "
                f"the same role, or pg_signal_backend: {redact(str(exc))}"
            ) from exc
        if not (row and row[0]):
            raise StateError(f"cannot force-unlock: PostgreSQL did not terminate session {backend_pid}")
        deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
        while self._holder(conn)[1] == backend_pid and time.monotonic() < deadline:
            time.sleep(0.05)


@dataclass(frozen=True)
class WorkspaceInfo:
    name: str
    runs: int
    serial: int
    updated_at: Any


def live_session_message(info: LockInfo | None, backend_pid: int) -> str:
    who = f"{info.who} (pid {info.pid}, {info.operation} since {info.created})" if info else "a session"
    lock_id = info.id if info else "?"
    return (
        f"cannot force-unlock {lock_id}: the lock is held by a live PostgreSQL session (backend pid "
        f"{backend_pid}) of {who}; it is released when that process finishes. Stop that process "
        "rather than unlocking; if it is hung, `reconciler force-unlock --force` terminates its session "
        "(it then writes and starts nothing more)."
    )
