"""The local backend: a state file, its journal, and a kernel lock, side by side.

Files, for ``path = reconciler.state.json`` (all mode 0600):

``reconciler.state.json``
    The state as pretty JSON (indent 2, fields in model order, runs sorted by name, trailing
    newline), exactly ``State.model_dump(mode="json", by_alias=True)``. Only ever replaced whole and
    atomically: temp file in the same folder, write, fsync, ``os.replace``, fsync of the folder.
``reconciler.state.json.backup``
    The state as it was before the last command that changed it, same format. The first change a
    command makes under the lock (its first journal append, or a whole-state ``write()``) first saves
    the state as it is then: a copy of the state file, or, when a journal left by a killed command
    is there, the merged state (the state file is then compacted to it too). So after ``apply`` it is
    the state before that apply, never a copy of the new one; and while a journal exists it holds
    the very state that journal continues: if the state file is lost or damaged,
    ``reconciler state push reconciler.state.json.backup`` restores everything (the journal is kept
    and replayed on top of it). Restoring it after a command ended undoes that command.
``reconciler.state.json.journal``
    Append-only JSON lines: what happened since the state file was written, one group of lines
    per ``append()`` call (format: `reconciler.backends.journal`). A group cut short by a crash is
    ignored and cut off by the next append; a write cut short by a full disk is cut off at once, so
    a failed append leaves nothing behind. The journal is matched to the state file by lineage and
    serial (a state file reformatted by hand still matches). A journal already merged into the state
    (left over from a compaction cut short between its two steps) is ignored. Any other journal
    (another lineage, a base above the state's serial...) stops every command with a `StateError`
    naming both files and what to do: it is never dropped silently.
``reconciler.state.json.lock`` / ``reconciler.state.json.lock.info``
    The kernel lock (``flock``) and its holder's details (`reconciler.backends.lock_file`): a dead
    process never blocks the next run. POSIX only.

Creating a state: ``append()`` needs a state file. A caller that finds none (``read()`` is None)
creates ``State(lineage=..., salt=...)`` and ``write(state, None)`` before journaling. A journal
without any complete group is ignored and removed by that first ``write()``.

A missing state file is not "no state yet" while ``.backup`` holds a state with runs or the journal
holds changes: ``read()`` refuses with a `StateError` that says how to restore (``state push`` of the
backup) or start anew (move the files away), so nothing is started again by mistake. A state file
that is missing, cannot be read, or does not fit its journal is replaced only by ``write(state,
None)`` of a state of the lineage those files record (or forced): that is ``state push``'s restore.
A journal that continues the pushed state is kept; one with changes the pushed state lacks is
refused unless forced. A state file so replaced is kept as ``reconciler.state.json.replaced``.

``reconciler.state.json.definitions.json``
    The workflow definitions cache (format: `reconciler.backends.definitions_store`): the
    definitions last read from each endpoint, by workflow id, with when they were read. Replaced
    whole and atomically like the state file, but without the lock (a cache: last writer wins). A
    cache file that cannot be read or parsed is a warning and reads as empty; the next write
    replaces it.

Temporary files (``.reconciler.state.json[.backup|.lock.info|.definitions.json].<8 hex>.tmp``) left by a writer killed
before its rename are removed by the next lock holder; nothing else in the folder is touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import killpoints
from reconciler.backends.base import HeldLock, LockInfo
from reconciler.backends.definitions_store import Cached, cache_bytes, merged, parse_cache
from reconciler.backends.files import StatKey, append_cut, remove_durably, replace_file, stat_key
from reconciler.backends.journal import Replay, group_lines, header_line, read_journal
from reconciler.backends.lock_file import LockFile
from reconciler.backends.locking import new_lock_info
from reconciler.backends.serials import Stored, check_write
from reconciler.backends.state_file import parse_state, state_bytes
from reconciler.errors import InvalidValueError, LockLostError, StateError
from reconciler.state.models import State

if TYPE_CHECKING:
    from reconciler.definitions import WorkflowDefinition
    from reconciler.state.events import PutRun, RemoveRun

log = logging.getLogger("reconciler.state")


@dataclass
class _Tail:
    """What an append needs to know about the files (valid while we hold the lock)."""

    state_key: StatKey
    state_sha: str | None  # of the state file's bytes: None until a new journal's header needs it
    lineage: str
    state_serial: int  # the state file's own serial (the journal header's baseSerial)
    journal_length: int  # bytes of complete groups; 0 = start a new journal
    serial: int  # the serial with the journal replayed


@dataclass
class _Loaded:
    state: State
    tail: _Tail
    raw: bytes  # the state file's bytes


class LocalBackend:
    """State in a local file (see the module docstring for every file it keeps)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.replaced_path = self.path.with_name(self.path.name + ".replaced")
        self.definitions_path = self.path.with_name(self.path.name + ".definitions.json")
        self.lock_file = LockFile(self.path)
        self._tail: _Tail | None = None
        self._backup_saved = False  # this lock holding's first change saved `.backup` already
        self._mutex = threading.Lock()  # append() may be called from a worker thread

    def describe(self) -> str:
        return f"local state file {self.path}"

    # --- reading ---

    def read(self) -> State | None:
        """The state, journal replayed; None when there is none (`StateError` if one was lost)."""
        with self._mutex:
            loaded = self._load()
            if loaded is None:
                self._refuse_lost_state()
        return None if loaded is None else loaded.state

    def _load(self) -> _Loaded | None:
        """The state file plus journal; retried if a writer replaced the file while we read."""
        for _ in range(5):
            loaded = self._load_once()
            if loaded is None or self._state_key() == loaded.tail.state_key:
                self._tail = None if loaded is None else loaded.tail
                return loaded
        raise StateError(f"{self.path} kept changing while being read; is another process writing it?")

    def _state_key(self) -> StatKey | None:
        try:
            return stat_key(os.stat(self.path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc

    def _load_once(self) -> _Loaded | None:
        try:
            with open(self.path, "rb") as handle:
                key = stat_key(os.fstat(handle.fileno()))
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            base = parse_state(raw, str(self.path))
        except StateError as exc:
            raise StateError(f"{exc}\n{self._restore_hint()}") from exc
        journal = self._matching_journal(base)
        if journal.serial is None:
            state = base
        else:
            from reconciler.state.events import replay  # only with a journal to replay (not for plan)

            state = replay(base, journal.events, journal.serial)
        tail = _Tail(key, None, base.lineage, base.serial, journal.valid_length, state.serial)
        return _Loaded(state, tail, raw)

    def _read_journal(self) -> Replay:
        """The journal as written (any state it continues); an empty `Replay` when there is none."""
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return Replay()
        except OSError as exc:
            raise StateError(f"cannot read {self.journal_path}: {exc.strerror}") from exc
        try:
            return read_journal(data, str(self.journal_path))
        except StateError as exc:
            raise StateError(
                f"{exc}\nA crash only ever tears the last line: was the file edited? It holds changes not yet merged "
                f"into {self.path.name}: repair that line, or move {self.journal_path.name} away to drop them (runs it "
                "records as started would then be started again)."
            ) from exc

    def _matching_journal(self, base: State) -> Replay:
        """The journal's changes to ``base``; empty when it adds nothing; `StateError` when it does
        not fit (see the module docstring: matched by lineage and serial, never dropped silently)."""
        journal = self._read_journal()
        if journal.continues(base.lineage, base.serial) and journal.serial is not None:
            return journal
        if journal.merged_into(base.lineage, base.serial):
            return Replay()  # nothing complete in it, or left over from a compaction cut short
        raise StateError(
            f"{self.journal_path} does not continue {self.path}: the journal holds {journal.describe()}, "
            f"but the state file has serial {base.serial} of lineage {base.lineage} (was it replaced or "
            f"edited?). Nothing was changed.\n{self._journal_hint(journal)}"
        )

    def _journal_hint(self, journal: Replay) -> str:
        backup = self._peek_backup()
        if (
            backup is not None
            and not isinstance(backup, StateError)
            and journal.continues(backup.lineage, backup.serial)
        ):
            return (
                f"{self.backup_path} is the state it continues: restore it with "
                f"`reconciler state push {self.backup_path}` (the journal is then replayed)."
            )
        return (
            f"Put back the state file of serial {journal.base_serial} it continues and run the command again "
            f"(`reconciler state push FILE`), or move {self.journal_path} away to drop its changes for good."
        )

    def _restore_hint(self) -> str:
        backup = self._peek_backup()
        if backup is None:
            return f"There is no {self.backup_path} to restore from: repair the file, or push a copy with `reconciler state push FILE`."
        if isinstance(backup, StateError):
            return f"{self.backup_path} cannot be read either: repair one of them."
        return (
            f"{self.backup_path} holds serial {backup.serial} ({len(backup.runs)} run(s)), the state before the last "
            f"command that changed it: restore it with `reconciler state push {self.backup_path}` (any journal of it "
            f"is replayed; the damaged file is kept as {self.replaced_path.name})."
        )

    def _peek_backup(self) -> State | StateError | None:
        """The state in ``.backup``; None when there is none; the error when it cannot be read."""
        try:
            raw = self.backup_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return StateError(f"cannot read {self.backup_path}: {exc.strerror}")
        try:
            return parse_state(raw, str(self.backup_path))
        except StateError as exc:
            return exc

    def _refuse_lost_state(self) -> None:
        """`StateError` when the state file is missing but a backup or a journal with changes says
        there was one: starting anew would start every recorded run again."""
        backup = self._peek_backup()
        journal = self._read_journal()
        if backup is None and journal.serial is None:
            return
        found = [self._describe_backup(backup)] if backup is not None else []
        if journal.serial is not None:
            found.append(f"{self.journal_path} holds {journal.describe()}")
        raise StateError(
            f"{self.path} does not exist, but {' and '.join(found)}: starting from an empty state could start "
            f"every run again. Nothing was changed.\n{self._lost_state_hint(backup, journal)}"
        )

    def _describe_backup(self, backup: State | StateError) -> str:
        if isinstance(backup, StateError):
            return f"{self.backup_path} exists (and cannot be read: {backup})"
        return f"{self.backup_path} holds a state with {len(backup.runs)} run(s) (serial {backup.serial})"

    def _lost_state_hint(self, backup: State | StateError | None, journal: Replay) -> str:
        anew = f"To start anew instead, move {self.backup_path.name} and {self.journal_path.name} away."
        copy = "put back the state file from a copy (`reconciler state push FILE`)"
        if not isinstance(backup, State):
            return f"If the state file was deleted by mistake, {copy}. {anew}"
        push = f"reconciler state push {self.backup_path}"
        if journal.serial is None:
            if not backup.runs:
                return f"The backup holds no run (the state before the first apply): {copy}. {anew}"
            return f"If the state file was deleted by mistake, restore it with `{push}`. {anew}"
        if journal.continues(backup.lineage, backup.serial):
            return f"Restore it with `{push}` (the journal is replayed on top of it). {anew}"
        return (
            f"The journal continues serial {journal.base_serial}, not the backup's {backup.serial}: {copy}, "
            f"or run `{push} --force` to restore the backup and drop the journal's changes. {anew}"
        )

    # --- writing ---

    def write(self, state: State, expected_serial: int | None, *, force: bool = False) -> None:
        """Replace the whole state (compacting the journal).

        Refused when the stored serial is not ``expected_serial`` (None: no state may exist yet) or
        the stored lineage differs; ``force`` (``state push -force``) skips both checks. A state file
        that is missing, cannot be read or does not fit its journal is replaced only as a restore
        (see the module docstring).
        """
        with self._mutex:
            current: _Loaded | None = None
            tail = self._unchanged_tail() if self._backup_saved else None
            if tail is None:  # else the files are as this lock holding left them: nothing to read again
                try:
                    current = self._load()
                except StateError:
                    if expected_serial is not None:
                        raise
                    self._restore(state, force)
                    return
                if current is None:
                    check_write(self.describe(), None, state.lineage, expected_serial, force)
                    self._restore(state, force)
                    return
                tail = current.tail
            check_write(self.describe(), Stored(tail.serial, tail.lineage), state.lineage, expected_serial, force)
            self._guarded(lambda: self._replace(state, current))

    def _guarded(self, action: Callable[[], None]) -> None:
        """``action``, with any OSError turned into a `StateError` naming the file."""
        try:
            action()
        except OSError as exc:
            self._tail = None
            raise StateError(f"cannot write {exc.filename or self.path}: {exc.strerror}") from exc

    def _replace(self, state: State, current: _Loaded | None, keep_journal: bool = False) -> None:
        """Save `.backup` if this is the command's first change, then replace the state file."""
        if current is not None and not self._backup_saved:
            merged = current.tail.serial != current.tail.state_serial
            replace_file(self.backup_path, state_bytes(current.state) if merged else current.raw)
            killpoints.reach("backup-written")
            self._backup_saved = True
        data = state_bytes(state)
        replace_file(self.path, data)
        killpoints.reach("state-replaced")
        if keep_journal:
            self._tail = None  # the journal it keeps is read (replayed) again by the next read or append
            return
        remove_durably(self.journal_path)
        key = stat_key(os.stat(self.path))
        self._tail = _Tail(key, None, state.lineage, state.serial, 0, state.serial)  # hashed if appended to

    def _restore(self, state: State, force: bool) -> None:
        """Write ``state`` where no readable state fits (missing, unreadable, or not what the journal
        continues): only a state of the lineage the leftovers record, unless forced."""
        keep_journal = self._journal_fate(state, force)
        if not force:
            self._check_restore_lineage(state)
        self._tail = None

        def act() -> None:
            if self.path.exists():
                os.replace(self.path, self.replaced_path)
                log.warning("the state file it replaced is kept as %s", self.replaced_path)
            self._replace(state, None, keep_journal)

        self._guarded(act)

    def _journal_fate(self, state: State, force: bool) -> bool:
        """True when the journal continues ``state`` (kept); False when it may go; else `StateError`."""
        try:
            journal = self._read_journal()
        except StateError as exc:
            if force:
                log.warning("dropping %s, as forced: %s", self.journal_path, exc)
                return False
            raise
        if journal.serial is not None and journal.continues(state.lineage, state.serial):
            return True
        if journal.merged_into(state.lineage, state.serial):
            return False
        if force:
            log.warning("dropping %s (%s), as forced", self.journal_path, journal.describe())
            return False
        raise StateError(
            f"{self.journal_path} holds {journal.describe()}, which the new state (serial {state.serial}, lineage "
            f"{state.lineage}) does not carry: writing it would forget them. Push the state that journal continues "
            f"(serial {journal.base_serial}), or use --force to drop the journal's changes."
        )

    def _check_restore_lineage(self, state: State) -> None:
        """Refuse a state of another lineage over a lost, unreadable or mismatched state."""
        known = self._recorded_lineages()
        if state.lineage in known or (not known and not self.path.exists()):
            return  # a restore, or a state created where there was none
        where = f"the state of lineage {', '.join(sorted(known))} recorded there" if known else "it"
        raise StateError(
            f"{self.path} is missing, cannot be read or does not fit its journal, and refusing to write a state of "
            f"lineage {state.lineage} over {where}: it is another state. Use --force to replace it anyway."
        )

    def _recorded_lineages(self) -> set[str]:
        """The lineages the state file, `.backup` and the journal record, as far as they can be read."""
        known: set[str] = set()
        for candidate in (self._peek_state(), self._peek_backup()):
            if isinstance(candidate, State):
                known.add(candidate.lineage)
        journal = self._read_journal()  # it was read by _journal_fate already: readable
        if journal.serial is not None and journal.lineage:
            known.add(journal.lineage)
        return known

    def _peek_state(self) -> State | None:
        try:
            return parse_state(self.path.read_bytes(), str(self.path))
        except (OSError, StateError):
            return None

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        """Make ``events`` durable as one group producing ``serial`` (above the current serial).

        One ``write`` and one ``fsync`` (plus one of the folder when the journal is created). An
        empty group changes nothing. The first append of a lock holding saves `.backup` first.
        """
        if not events:
            return
        with self._mutex:
            tail = self._current_tail()
            if serial <= tail.serial:
                raise StateError(f"{self.path}: new serial {serial} is not above the current serial {tail.serial}")
            if not self._backup_saved:
                tail = self._save_backup(tail)
            payload = group_lines(events, serial)
            if tail.journal_length == 0:
                payload = header_line(tail.lineage, tail.state_serial, self._state_sha(tail)) + payload
            try:
                append_cut(self.journal_path, payload, tail.journal_length)
            except OSError as exc:
                self._tail = None
                raise StateError(f"cannot append to {self.journal_path}: {exc.strerror}") from exc
            tail.journal_length += len(payload)
            tail.serial = serial
            killpoints.reach("journal-appended")

    def _save_backup(self, tail: _Tail) -> _Tail:
        """A command's first change: `.backup` := the state now; a journal left by a killed command is
        compacted first, so that `.backup` is always the state the new journal continues."""
        if tail.serial == tail.state_serial:  # no journal to merge: copy the state file as it is
            raw = self._read_state_bytes(tail.state_key)
            if raw is not None:
                self._guarded(lambda: replace_file(self.backup_path, raw))
                killpoints.reach("backup-written")
                self._backup_saved = True
                return tail
        loaded = self._load()
        if loaded is None:
            raise StateError(f"{self.path} disappeared while the state was locked")
        self._guarded(lambda: self._replace(loaded.state, loaded))
        assert self._tail is not None
        return self._tail

    def _state_sha(self, tail: _Tail) -> str:
        """The sha256 a new journal's header gives the state file it continues (a read has no use for
        it: hashed on the first append only)."""
        if tail.state_sha is None:
            raw = self._read_state_bytes(tail.state_key)
            if raw is None:
                raise StateError(f"{self.path} was replaced while the state was locked")
            tail.state_sha = hashlib.sha256(raw).hexdigest()
        return tail.state_sha

    def _read_state_bytes(self, key: StatKey) -> bytes | None:
        """The state file's bytes if it is still the file of stat ``key``, else None."""
        try:
            with open(self.path, "rb") as handle:
                if stat_key(os.fstat(handle.fileno())) != key:
                    return None
                return handle.read()
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc

    def _current_tail(self) -> _Tail:
        """The cached tail if the files are as we left them, else reloaded from disk."""
        tail = self._unchanged_tail()
        if tail is None:
            loaded = self._load()
            if loaded is None:
                raise StateError(f"{self.path} does not exist: write the initial state before appending events to it")
            tail = loaded.tail
        return tail

    def _unchanged_tail(self) -> _Tail | None:
        """The cached tail if the state file and the journal are as we left them (one stat each)."""
        tail = self._tail
        if tail is None or self._state_key() != tail.state_key or self._journal_size() != tail.journal_length:
            return None
        return tail

    def _journal_size(self) -> int:
        try:
            return os.stat(self.journal_path).st_size
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StateError(f"cannot read {self.journal_path}: {exc.strerror}") from exc

    def _remove_stale_temps(self) -> None:
        """Remove the temporary files a killed writer of this state left (only ours, by name)."""
        pattern = re.compile(
            rf"\.{re.escape(self.path.name)}(?:\.backup|\.lock\.info|\.definitions\.json)?\.[0-9a-f]{{8}}\.tmp"
        )
        try:
            for name in os.listdir(self.path.parent):
                if pattern.fullmatch(name):
                    os.unlink(self.path.parent / name)
        except OSError as exc:
            log.warning("cannot remove a temporary file of %s: %s", self.path, exc)

    # --- the workflow definitions cache ---

    def read_definitions(self) -> Cached:
        """The kept definitions; empty (and a warning) when the cache file is unreadable or corrupt."""
        try:
            data = self.definitions_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("cannot read the workflow definitions cache %s (%s); it is ignored", exc.filename, exc.strerror)
            return {}
        try:
            return parse_cache(data)
        except InvalidValueError as exc:
            log.warning(
                "the workflow definitions cache %s is not valid (%s); it is ignored", self.definitions_path, exc
            )
            return {}

    def write_definitions(self, endpoint: str, definitions: Sequence[WorkflowDefinition]) -> None:
        """Keep ``definitions`` (read from ``endpoint``) over the same keys; a failed write is a warning."""
        if not definitions:
            return
        data = cache_bytes(merged(self.read_definitions(), endpoint, definitions))
        try:
            replace_file(self.definitions_path, data, killpoint=None)
        except OSError as exc:
            log.warning("cannot write the workflow definitions cache %s: %s", self.definitions_path, exc.strerror)

    # --- locking ---

    _held: HeldLock | None = None  # set while this object holds the lock
    _held_info_key: StatKey | None = None  # the lock info file as last seen holding our lock
    quick_held_check = True  # ensure_held() is one stat of the lock info file while it is unchanged

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the state's lock (see the module docstring); `StateLockedError` when it is taken."""
        fd = self.lock_file.acquire(timeout)
        info: LockInfo | None = None
        try:
            self._remove_stale_temps()
            info = new_lock_info(operation, str(self.path))
            left = self.read_lock_info()  # a holder's details left behind: it died holding the lock
            self.lock_file.write_info(info)
            self._tail = None  # others may have written while we did not hold the lock
            self._backup_saved = False  # the first change of this holding saves `.backup`
            self._held = HeldLock(info, None, time.monotonic(), handover=left is not None)
            yield info
        finally:
            self._held = self._held_info_key = None
            if info is not None:
                self.lock_file.forget_info(info.id)  # never raises: it must not hide the command's own error
            os.close(fd)  # releases the flock

    def held(self) -> HeldLock | None:
        """The lock this object holds now, if any."""
        return self._held

    def ensure_held(self) -> None:
        """`LockLostError` when the recorded holder is no longer us (the info file was removed or
        replaced: a force-unlock of what looked like a dead holder). No-op without a lock."""
        held = self.held()
        if held is None:
            return
        key = self.lock_file.info_key()
        if key is not None and key == self._held_info_key:  # the very file read as ours last time
            return
        current = self.read_lock_info()
        if current == held.info:
            self._held_info_key = key
        else:
            now = f"taken over by {current.who} (pid {current.pid}) at {current.created}" if current else "unlocked"
            raise LockLostError(
                f"{self.describe()}: this {held.info.operation} lost the state lock ({now}, lock "
                f"{current.id if current else 'none'}); it starts nothing more"
            )

    def read_lock_info(self) -> LockInfo | None:
        """The details of the current (or last, if its holder was killed) lock holder."""
        return self.lock_file.read_info()

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None:
        """Remove the lock ``lock_id`` if its holder is gone.

        A kernel lock of a live process cannot be broken from outside: that is refused, naming the
        process, even with ``force``; the lock goes away when it exits.
        """
        self.lock_file.force_unlock(lock_id)
