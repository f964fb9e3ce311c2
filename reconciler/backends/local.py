"""The local backend: a state file, its journal, and a kernel lock, side by side.

Files, for ``path = reconciler.state.json`` (all mode 0600):

``reconciler.state.json``
    The state as pretty JSON (indent 2, fields in model order, runs sorted by name, trailing
    newline), exactly ``State.model_dump(mode="json", by_alias=True)``. Only ever replaced whole and
    atomically: temp file in the same folder, write, fsync, ``os.replace``, fsync of the folder.
``reconciler.state.json.backup``
    The previous state (journal included) as it was before the last ``write()``, same format.
``reconciler.state.json.journal``
    Append-only JSON lines: what happened since the state file was written. The first line names
    the state file it continues, then one line per event, grouped by ``append()`` call::

        {"journal": 1, "stateSha256": "<sha256 of the state file's bytes>", "baseSerial": 7}
        {"serial": 8, "part": 1, "of": 2, "event": {"op": "put", "run": "db", "record": {...}}}
        {"serial": 8, "part": 2, "of": 2, "event": {"op": "remove", "run": "old"}}

    ``serial`` is the state's serial once the group is applied. A group is written with one
    ``write`` and one ``fsync``; a group cut short by a crash (torn last line, missing parts) is
    ignored and cut off by the next append; a bad line before the end is a `StateError` naming the
    file and line. A journal whose ``stateSha256`` is not the state file's is left over from a
    compaction interrupted between its two steps and is ignored.
``reconciler.state.json.lock`` / ``reconciler.state.json.lock.info``
    ``flock(LOCK_EX)`` on the first (never deleted) is the lock: the kernel drops it when the holder
    exits or is killed, so a dead process never blocks the next run. ``flock`` (not POSIX ``fcntl``
    record locks) also makes two backend objects of one process conflict. The second file holds the
    holder's details, written after the lock is taken and removed before it is released::

        {"id": "<uuid4>", "operation": "apply", "who": "alice@build-7", "pid": 4242,
         "created": "2025-01-01T10:00:00Z", "path": "/stack/reconciler.state.json", "version": "0.1.0"}

    A leftover info file from a killed holder is simply overwritten by the next one.

Network file systems: Linux implements ``flock`` on NFS as a whole-file NFS lock, so a holder on
another host is seen as a holder; its lock lasts until that process exits (or the NFS server's lock
manager drops the dead client). We deliberately do not use "soft" locks (a file that exists =
locked, as filelock's SoftFileLock does): they survive a killed holder and need manual cleanup.
POSIX only (``fcntl``).

Creating a state: ``append()`` needs a state file. A caller that finds none (``read()`` is None)
creates ``State(lineage=..., salt=...)`` and ``write(state, None)`` before journaling. A journal
without a state file is ignored by ``read()`` and removed by that first ``write()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reconciler import killpoints
from reconciler.backends.base import LockInfo
from reconciler.backends.locking import locked_error, new_lock_info, poll_until, this_host
from reconciler.backends.serials import Stored, check_write
from reconciler.errors import StateError
from reconciler.state.models import State

if TYPE_CHECKING:
    from reconciler.state.events import PutRun, RemoveRun

JOURNAL_FORMAT = 1
FILE_MODE = 0o600
_BLANK = b"\x00 \t\r\n"  # what a crash may leave at the end of a file


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("reconciler")
    except Exception:
        return "unknown"


def state_bytes(state: State) -> bytes:
    """The state file's exact content for ``state``."""
    doc = state.model_dump(mode="json", by_alias=True)
    doc["runs"] = {name: doc["runs"][name] for name in sorted(doc["runs"])}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def validation_summary(error: ValidationError) -> str:
    return "\n".join(f"  {'.'.join(str(p) for p in item['loc']) or '(top)'}: {item['msg']}" for item in error.errors())


def parse_state(raw: bytes, name: str) -> State:
    """The state in a state file's bytes, or a `StateError` saying what is wrong where.

    pydantic's own JSON parser validates what it decodes (no intermediate dicts): on 10,000 runs that
    is ~0.04 s faster than ``json.loads`` + ``model_validate``, for the same `State`
    (tests/backends/test_parse_state.py compares them: floats, NaN/Infinity, big ints, unicode,
    duplicate keys). Its parse tree is freed to malloc, not to Python's allocator, so ``plan``'s peak
    RSS is ~20 MB higher on 10,000 runs. When it fails, the file is read again the old way, whose
    messages say what is wrong where (JSON line and column, not UTF-8, which field), and which also
    accepts what pydantic's parser does not (a UTF-8 BOM, UTF-16/32, lone surrogate escapes).
    """
    try:
        return State.model_validate_json(raw)
    except ValueError:  # pydantic's ValidationError, for bad JSON as for a bad state
        return parse_state_slowly(raw, name)


def parse_state_slowly(raw: bytes, name: str) -> State:
    """`parse_state` with ``json.loads`` then ``State.model_validate``: the reference, and its messages."""
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); the file was left as it is"
        ) from exc
    except UnicodeDecodeError as exc:
        raise StateError(f"{name}: not UTF-8 text ({exc.reason}); the file was left as it is") from exc
    try:
        return State.model_validate(doc)
    except ValidationError as exc:
        raise StateError(
            f"{name}: not a valid reconciler state; the file was left as it is:\n{validation_summary(exc)}"
        ) from exc


# --- the journal ---------------------------------------------------------------------------------


def header_line(state_sha: str, base_serial: int) -> bytes:
    doc = {"journal": JOURNAL_FORMAT, "stateSha256": state_sha, "baseSerial": base_serial}
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


def group_lines(events: Sequence[PutRun | RemoveRun], serial: int) -> bytes:
    """One append's lines: every event with the serial the group produces and its place in it."""
    count = len(events)
    lines = [
        json.dumps(
            {"serial": serial, "part": i, "of": count, "event": event.model_dump(mode="json", by_alias=True)},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for i, event in enumerate(events, start=1)
    ]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class _Line:
    number: int
    end: int  # offset just after this line
    text: bytes
    complete: bool  # ended by a newline


def split_lines(data: bytes) -> list[_Line]:
    lines: list[_Line] = []
    start = 0
    while start < len(data):
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline + 1
        lines.append(_Line(len(lines) + 1, end, data[start:end], newline >= 0))
        start = end
    return lines


@dataclass
class Replay:
    """What a journal adds to its state file, and where its last complete group ends."""

    events: list[PutRun | RemoveRun] = field(default_factory=list)
    serial: int | None = None
    valid_length: int = 0  # 0: no usable journal (the next append starts a new one with a header)


class _JournalReader:
    """Parses a journal's bytes; see the module docstring for the format."""

    def __init__(self, data: bytes, name: str, state_sha: str, state_serial: int) -> None:
        self.name = name
        self.lines = split_lines(data)
        self.state_sha = state_sha
        self.serial = state_serial
        self.last_meaningful = max((i for i, line in enumerate(self.lines) if line.text.strip(_BLANK)), default=-1)
        self.result = Replay()
        self.pending: list[PutRun | RemoveRun] = []

    def fail(self, line: _Line, what: str) -> StateError:
        return StateError(f"{self.name}:{line.number}: corrupt journal line ({what}); the file was left as it is")

    def parse(self, index: int) -> dict[str, Any] | None:
        """The line as a JSON object; None for a torn last line."""
        line = self.lines[index]
        try:
            doc = json.loads(line.text) if line.complete else None
        except ValueError:
            doc = None
        if doc is None:
            if index >= self.last_meaningful:
                return None
            raise self.fail(line, "not a complete JSON line")
        if not isinstance(doc, dict):
            raise self.fail(line, "not a JSON object")
        return doc

    def read(self) -> Replay:
        if not self.lines:
            return self.result
        header = self.parse(0)
        if header is None or header.get("stateSha256") != self.state_sha:
            return self.result  # torn header, or left over from an interrupted compaction
        if header.get("journal") != JOURNAL_FORMAT:
            raise self.fail(self.lines[0], f"unknown journal format {header.get('journal')!r}")
        self.result.valid_length = self.lines[0].end
        for index in range(1, len(self.lines)):
            doc = self.parse(index)
            if doc is None:
                break
            self.take(self.lines[index], doc)
        return self.result  # a group still pending here was cut short by a crash: ignored

    def take(self, line: _Line, doc: dict[str, Any]) -> None:
        serial, part, of = doc.get("serial"), doc.get("part"), doc.get("of")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (serial, part, of)):
            raise self.fail(line, "serial, part and of must be integers")
        assert isinstance(serial, int) and isinstance(part, int) and isinstance(of, int)
        if part != len(self.pending) + 1 or part > of:
            raise self.fail(line, f"part {part} of {of} out of order (an earlier group is incomplete?)")
        if serial <= self.serial:
            raise self.fail(line, f"serial {serial} does not follow {self.serial}")
        from reconciler.state.events import EVENT_ADAPTER  # built only when a journal has events (not for plan)

        try:
            self.pending.append(EVENT_ADAPTER.validate_python(doc.get("event")))
        except ValidationError as exc:
            raise self.fail(line, f"invalid event:\n{validation_summary(exc)}") from exc
        if part == of:
            self.result.events.extend(self.pending)
            self.pending = []
            self.serial = self.result.serial = serial
            self.result.valid_length = line.end


# --- files ---------------------------------------------------------------------------------------


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def replace_file(target: Path, data: bytes) -> None:
    """Atomically make ``target`` hold ``data`` (mode 0600), durable when this returns."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        killpoints.reach("temp-written")
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(target.parent)


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class _Tail:
    """What an append needs to know about the files (valid while we hold the lock)."""

    state_key: tuple[int, int, int, int]
    state_sha: str
    state_serial: int  # the state file's own serial (the journal header's baseSerial)
    journal_length: int  # bytes of complete groups; 0 = start a new journal
    serial: int  # the serial with the journal replayed


@dataclass
class _Loaded:
    state: State
    tail: _Tail


class LocalBackend:
    """State in a local file (see the module docstring for every file it keeps)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_info_path = self.path.with_name(self.path.name + ".lock.info")
        self._tail: _Tail | None = None
        self._mutex = threading.Lock()  # append() may be called from a worker thread

    def describe(self) -> str:
        return f"local state file {self.path}"

    # --- reading ---

    def read(self) -> State | None:
        with self._mutex:
            loaded = self._load()
        return None if loaded is None else loaded.state

    def _load(self) -> _Loaded | None:
        """The state file plus journal; retried if a writer replaced the file while we read."""
        for _ in range(5):
            loaded = self._load_once()
            if loaded is None or self._state_key() == loaded.tail.state_key:
                self._tail = None if loaded is None else loaded.tail
                return loaded
        raise StateError(f"{self.path} kept changing while being read; is another process writing it?")

    def _state_key(self) -> tuple[int, int, int, int] | None:
        try:
            return stat_key(os.stat(self.path))
        except FileNotFoundError:
            return None

    def _load_once(self) -> _Loaded | None:
        try:
            with open(self.path, "rb") as handle:
                key = stat_key(os.fstat(handle.fileno()))
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc
        base = parse_state(raw, str(self.path))
        sha = hashlib.sha256(raw).hexdigest()
        journal = self._read_journal(sha, base.serial)
        if journal.serial is None:
            state = base
        else:
            from reconciler.state.events import replay  # only with a journal to replay (not for plan)

            state = replay(base, journal.events, journal.serial)
        tail = _Tail(key, sha, base.serial, journal.valid_length, state.serial)
        return _Loaded(state, tail)

    def _read_journal(self, state_sha: str, state_serial: int) -> Replay:
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return Replay()
        except OSError as exc:
            raise StateError(f"cannot read {self.journal_path}: {exc.strerror}") from exc
        return _JournalReader(data, str(self.journal_path), state_sha, state_serial).read()

    # --- writing ---

    def write(self, state: State, expected_serial: int | None, *, force: bool = False) -> None:
        """Replace the whole state (compacting the journal).

        Refused when the stored serial is not ``expected_serial`` (None: no state may exist yet) or
        the stored lineage differs; ``force`` (``state push -force``) skips both checks. A state file
        that cannot be read is never overwritten, forced or not.
        """
        with self._mutex:
            current = self._load()
            stored = None if current is None else Stored(current.state.serial, current.state.lineage)
            check_write(self.describe(), stored, state.lineage, expected_serial, force)
            try:
                if current is not None:
                    replace_file(self.backup_path, state_bytes(current.state))
                    killpoints.reach("backup-written")
                data = state_bytes(state)
                replace_file(self.path, data)
                killpoints.reach("state-replaced")
                self._remove_journal()
                key = stat_key(os.stat(self.path))
            except OSError as exc:
                raise StateError(f"cannot write {exc.filename or self.path}: {exc.strerror}") from exc
            self._tail = _Tail(key, hashlib.sha256(data).hexdigest(), state.serial, 0, state.serial)

    def _remove_journal(self) -> None:
        try:
            os.unlink(self.journal_path)
        except FileNotFoundError:
            return
        fsync_dir(self.path.parent)

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        """Make ``events`` durable as one group producing ``serial`` (above the current serial).

        One ``write`` and one ``fsync`` (plus one of the folder when the journal is created). An
        empty group changes nothing.
        """
        if not events:
            return
        with self._mutex:
            tail = self._current_tail()
            if serial <= tail.serial:
                raise StateError(f"{self.path}: new serial {serial} is not above the current serial {tail.serial}")
            payload = group_lines(events, serial)
            if tail.journal_length == 0:
                payload = header_line(tail.state_sha, tail.state_serial) + payload
            try:
                self._append_bytes(payload, tail.journal_length)
            except OSError as exc:
                self._tail = None
                raise StateError(f"cannot append to {self.journal_path}: {exc.strerror}") from exc
            tail.journal_length += len(payload)
            tail.serial = serial
            killpoints.reach("journal-appended")

    def _current_tail(self) -> _Tail:
        """The cached tail if the files are as we left them, else reloaded from disk."""
        tail = self._tail
        if tail is None or self._state_key() != tail.state_key or self._journal_size() != tail.journal_length:
            loaded = self._load()
            if loaded is None:
                raise StateError(f"{self.path} does not exist: write the initial state before appending events to it")
            tail = loaded.tail
        return tail

    def _journal_size(self) -> int:
        try:
            return os.stat(self.journal_path).st_size
        except FileNotFoundError:
            return 0

    def _append_bytes(self, payload: bytes, keep: int) -> None:
        """Cut the journal to its ``keep`` valid bytes (dropping a torn tail) and append ``payload``."""
        created = not self.journal_path.exists()
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            if created:
                os.fchmod(fd, FILE_MODE)
            if os.fstat(fd).st_size != keep:
                os.ftruncate(fd, keep)
            write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)

    # --- locking ---

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the state's lock (see the module docstring); `StateLockedError` when it is taken."""
        fd = self._acquire(timeout)
        info: LockInfo | None = None
        try:
            info = new_lock_info(operation, str(self.path))
            self._write_lock_info(info)
            self._tail = None  # others may have written while we did not hold the lock
            yield info
        finally:
            if info is not None:
                self._remove_lock_info(info.id)
            os.close(fd)  # releases the flock

    def _open_lock_file(self) -> int:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)  # a state path in a new folder
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise StateError(f"cannot open the lock file {self.lock_path}: {exc.strerror}") from exc
        return fd

    def _acquire(self, timeout: float) -> int:
        fd = self._open_lock_file()
        if poll_until(lambda: try_flock(fd), timeout):
            return fd
        os.close(fd)
        holder = self.read_lock_info() or poll_until(self.read_lock_info, 0.3)
        raise locked_error(holder, f"Lock file: {self.lock_path}")

    def _write_lock_info(self, info: LockInfo) -> None:
        doc = {**info.__dict__, "version": _version()}
        try:
            replace_file(self.lock_info_path, (json.dumps(doc, indent=2) + "\n").encode())
        except OSError as exc:
            raise StateError(f"cannot write {self.lock_info_path}: {exc.strerror}") from exc

    def _remove_lock_info(self, lock_id: str) -> None:
        current = self.read_lock_info()
        if current is not None and current.id == lock_id:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.lock_info_path)

    def read_lock_info(self) -> LockInfo | None:
        """The details of the current (or last, if its holder was killed) lock holder."""
        try:
            doc = json.loads(self.lock_info_path.read_bytes())
            return LockInfo(
                id=str(doc["id"]),
                operation=str(doc["operation"]),
                who=str(doc["who"]),
                pid=int(doc["pid"]),
                created=str(doc["created"]),
                path=str(doc["path"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock ``lock_id`` if its holder is gone.

        A kernel lock of a live process cannot be broken from outside: that is refused, naming the
        process; the lock goes away when it exits.
        """
        info = self.read_lock_info()
        if info is None:
            raise StateError(f"{self.path} is not locked (no lock details in {self.lock_info_path})")
        if info.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current lock {info.id}")
        fd = self._open_lock_file()
        try:
            if not try_flock(fd):
                raise StateError(live_holder_message(info))
            self._remove_lock_info(lock_id)
        finally:
            os.close(fd)


def try_flock(fd: int) -> bool | None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_holder_message(info: LockInfo) -> str:
    host = info.who.rpartition("@")[2]
    if host != this_host():
        return (
            f"cannot force-unlock {info.id}: the lock is held by process {info.pid} on host {host} "
            f"({info.who}); a file lock cannot be broken from another host. It is released when that "
            "process exits (or when the file server drops that host's locks)."
        )
    if pid_alive(info.pid):
        return (
            f"cannot force-unlock {info.id}: the lock is held by live process {info.pid} on this host "
            f"({info.who}, {info.operation}); it will be released when it exits. Stop that process "
            "rather than unlocking."
        )
    return (
        f"cannot force-unlock {info.id}: process {info.pid} has exited, but another process on this "
        "host still holds the lock (a child that inherited it?); it is released when that one exits."
    )
