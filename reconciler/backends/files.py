"""Durable file writes for the local backend: whole-file atomic replacement and cut-then-append.

Every file is created with mode 0600. ``replace_file`` writes a temporary file in the same folder
(``.<name>.<8 hex>.tmp``), syncs it, renames it over the target and syncs the folder, so a crash
leaves the old content or the new, never a mix. ``append_cut`` is the journal's write: one write and
one sync, after cutting the file back to its last known good length.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from reconciler import killpoints

FILE_MODE = 0o600
StatKey = tuple[int, int, int, int]


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


def replace_file(target: Path, data: bytes, *, killpoint: str | None = "temp-written") -> None:
    """Atomically make ``target`` hold ``data`` (mode 0600), durable when this returns.

    An `OSError` names ``target`` (not the temporary file); the temporary file is removed.
    ``killpoint``: the crash point reached between write and rename (None for files outside the
    state's crash tests, such as the definitions cache).
    """
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            try:
                os.fchmod(fd, FILE_MODE)
                write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if killpoint is not None:
                killpoints.reach(killpoint)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        fsync_dir(target.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from exc


def append_cut(path: Path, payload: bytes, keep: int) -> None:
    """Cut ``path`` to its ``keep`` valid bytes (dropping a torn tail) and append ``payload``.

    One write and one fsync (plus one of the folder when the file is created). If the write or its
    fsync fails (a full disk), what was written of it is cut off again at once (best effort; else
    the next read drops the torn tail): a failed append adds nothing.
    """
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        if created:
            os.fchmod(fd, FILE_MODE)
        if os.fstat(fd).st_size != keep:
            os.ftruncate(fd, keep)
        try:
            write_all(fd, payload)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, keep)
                os.fsync(fd)
            raise
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def remove_durably(path: Path) -> None:
    """Remove ``path`` (if it is there) and sync its folder."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def stat_key(st: os.stat_result) -> StatKey:
    """What tells one version of a file from another without reading it."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
