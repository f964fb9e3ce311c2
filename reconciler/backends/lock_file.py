"""The local backend's lock: a kernel ``flock`` on ``<state>.lock``, its holder in ``<state>.lock.info``.

``flock(LOCK_EX)`` on the first file (never deleted) is the lock: the kernel drops it when the holder
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
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

from reconciler.backends.base import LockInfo
from reconciler.backends.files import FILE_MODE, StatKey, replace_file, stat_key
from reconciler.backends.locking import locked_error, poll_until, this_host
from reconciler.errors import StateError

log = logging.getLogger("reconciler.state")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("reconciler")
    except Exception:
        return "unknown"


class LockFile:
    """The lock of the state file ``state_path``: its two files and what is done with them."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self.info_path = state_path.with_name(state_path.name + ".lock.info")

    def acquire(self, timeout: float) -> int:
        """The open lock file, locked; `StateLockedError` naming the holder when it stays taken.
        Closing the descriptor releases the lock."""
        fd = self._open()
        try:
            taken = poll_until(lambda: try_flock(fd), timeout)
        except OSError as exc:  # e.g. ENOLCK on a file system without locks
            os.close(fd)
            raise StateError(f"cannot lock {self.path}: {exc.strerror}") from exc
        if taken:
            return fd
        os.close(fd)
        holder = self.read_info() or poll_until(self.read_info, 0.3)
        raise locked_error(holder, f"Lock file: {self.path}")

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a state path in a new folder
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise StateError(f"cannot open the lock file {self.path}: {exc.strerror}") from exc
        return fd

    def write_info(self, info: LockInfo) -> None:
        doc = {**info.__dict__, "version": _version()}
        try:
            replace_file(self.info_path, (json.dumps(doc, indent=2) + "\n").encode())
        except OSError as exc:
            raise StateError(f"cannot write {self.info_path}: {exc.strerror}") from exc

    def remove_info(self, lock_id: str) -> None:
        current = self.read_info()
        if current is not None and current.id == lock_id:
            try:
                os.unlink(self.info_path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StateError(f"cannot remove {self.info_path}: {exc.strerror}") from exc

    def forget_info(self, lock_id: str) -> None:
        """`remove_info` on release: a failure is only a warning (the kernel lock goes anyway, and the
        next holder overwrites the file)."""
        try:
            self.remove_info(lock_id)
        except StateError as exc:
            log.warning("%s (the lock itself is released)", exc)

    def info_key(self) -> StatKey | None:
        """The info file's stat key (None when there is none): it changes whenever the file does."""
        try:
            return stat_key(os.stat(self.info_path))
        except OSError:
            return None

    def read_info(self) -> LockInfo | None:
        """The details of the current (or last, if its holder was killed) lock holder."""
        try:
            doc = json.loads(self.info_path.read_bytes())
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
        """Remove the lock ``lock_id`` if its holder is gone; a live holder's lock cannot be broken."""
        info = self.read_info()
        if info is None:
            raise StateError(f"{self.state_path} is not locked (no lock details in {self.info_path})")
        if info.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current lock {info.id}")
        fd = self._open()
        try:
            if not try_flock(fd):
                raise StateError(live_holder_message(info))
            self.remove_info(lock_id)
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
