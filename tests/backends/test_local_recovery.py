"""The local state files never silently forget (issue 8, item 4), and fail cleanly on a broken disk
(item 3): a journal is matched to its state by lineage and serial, a lost state file is refused and
restored from ``.backup``, ``.backup`` is the state before the command, stale temp files are removed,
and every OS error is a `StateError` naming the file (the lock cleanup never hides it)."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends import files, local, lock_file
from reconciler.backends.journal import group_lines
from reconciler.backends.local import LocalBackend
from reconciler.backends.state_file import state_bytes
from reconciler.errors import StateError
from reconciler.operations import state as surgery
from reconciler.state.events import replay
from reconciler.state.models import State

from .samples import put, remove, state


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "reconciler.state.json"


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def killed_mid_command(path: Path, initial: State, *groups: list[Any]) -> State:
    """A command that wrote ``initial`` long ago, then appended ``groups`` and was killed (no compaction)."""
    LocalBackend(path).write(initial, None)
    backend = LocalBackend(path)
    with backend.lock("apply"):
        for serial, events in enumerate(groups, start=initial.serial + 1):
            backend.append(events, serial)
    merged = LocalBackend(path).read()
    assert merged is not None and merged.serial == initial.serial + len(groups)
    return merged


def reformat(path: Path) -> None:
    """What ``python -m json.tool`` does to the file: same content, other bytes."""
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4) + "\n")


# --- matching a journal to its state --------------------------------------------------------------


def test_a_reformatted_state_file_keeps_its_journal(path: Path) -> None:
    merged = killed_mid_command(path, state(serial=3), [put("a")], [put("b"), remove("run-0")])
    reformat(path)
    assert LocalBackend(path).read() == merged
    backend = LocalBackend(path)
    backend.append([put("c")], merged.serial + 1)  # appending goes on from there
    assert LocalBackend(path).read() == replay(merged, [put("c")], merged.serial + 1)


@pytest.mark.parametrize("edit", ["none", "reformat"])
def test_a_journal_of_an_earlier_version_is_still_read(path: Path, edit: str) -> None:
    """Journals written before the lineage was in the header (``stateSha256`` only)."""
    initial = state(serial=4)
    LocalBackend(path).write(initial, None)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    header = json.dumps({"journal": 1, "stateSha256": sha, "baseSerial": 4}).encode() + b"\n"
    sidecar(path, ".journal").write_bytes(header + group_lines([put("a")], 5))
    if edit == "reformat":
        reformat(path)
    assert LocalBackend(path).read() == replay(initial, [put("a")], 5)


def test_a_journal_that_does_not_fit_stops_every_command_and_is_kept(path: Path) -> None:
    initial = state(serial=3)
    merged = killed_mid_command(path, initial, [put("a")])
    journal = sidecar(path, ".journal").read_bytes()
    older = initial.model_copy(update={"serial": 2})
    path.write_bytes(state_bytes(older))  # an older copy put back while the journal holds changes
    backend = LocalBackend(path)
    with pytest.raises(StateError) as raised:
        backend.read()
    message = str(raised.value)
    assert f"{sidecar(path, '.journal')} does not continue {path}" in message
    assert "serial 2" in message and "made after serial 3" in message
    assert f"reconciler state push {sidecar(path, '.backup')}" in message  # it is the state the journal continues
    with pytest.raises(StateError, match="does not continue"):
        backend.append([put("b")], 5)
    with pytest.raises(StateError, match="does not continue"):
        backend.write(older.model_copy(update={"serial": 3}), 2)
    assert sidecar(path, ".journal").read_bytes() == journal
    # the restore it proposes
    restored = surgery.state_push(backend, sidecar(path, ".backup").read_text(), "backup", False, 0)
    assert restored == merged and LocalBackend(path).read() == merged
    assert sidecar(path, ".replaced").read_bytes() == state_bytes(older)


def test_a_journal_of_another_lineage_is_refused(path: Path) -> None:
    killed_mid_command(path, state(serial=1, lineage="lineage-a"), [put("a")])
    path.write_bytes(state_bytes(state(serial=1, lineage="lineage-b")))
    with pytest.raises(StateError, match="of lineage lineage-a, but the state file has serial 1 of lineage lineage-b"):
        LocalBackend(path).read()


# --- a lost state file ----------------------------------------------------------------------------


def test_a_deleted_state_file_is_refused_then_restored_from_its_backup(path: Path) -> None:
    merged = killed_mid_command(path, state(serial=3, runs=4), [put("a")], [remove("run-1")])
    path.unlink()
    backend = LocalBackend(path)
    with pytest.raises(StateError) as raised:
        backend.read()
    message = str(raised.value)
    assert f"{path} does not exist, but {sidecar(path, '.backup')} holds a state with 4 run(s) (serial 3)" in message
    assert f"`reconciler state push {sidecar(path, '.backup')}` (the journal is replayed on top of it)" in message
    fresh = State(lineage="brand-new", salt="c2FsdA==")
    with pytest.raises(StateError, match="does not carry: writing it would forget them"):
        backend.write(fresh, None)  # what apply would do: never over a lost state
    assert sidecar(path, ".journal").exists() and not path.exists()
    restored = surgery.state_push(backend, sidecar(path, ".backup").read_text(), "backup", False, 0)
    assert restored == merged and LocalBackend(path).read() == merged


def test_a_deleted_state_file_with_only_a_journal_is_refused(path: Path) -> None:
    initial = state(serial=0, runs=0)
    killed_mid_command(path, initial, [put("a")])
    path.unlink()
    sidecar(path, ".backup").unlink()
    with pytest.raises(StateError, match=r"does not exist, but .*\.journal holds changes up to serial 1"):
        LocalBackend(path).read()


def test_pushing_a_state_the_journal_does_not_continue_needs_force(path: Path) -> None:
    killed_mid_command(path, state(serial=3), [put("a")])
    path.unlink()
    other = state(serial=1)
    backend = LocalBackend(path)
    with pytest.raises(StateError, match="does not carry: writing it would forget them"):
        surgery.state_push(backend, state_bytes(other).decode(), "other", False, 0)
    assert sidecar(path, ".journal").exists()
    pushed = surgery.state_push(backend, state_bytes(other).decode(), "other", True, 0)
    assert pushed == other and not sidecar(path, ".journal").exists()


def test_a_damaged_state_file_is_restored_from_its_backup_and_kept_aside(path: Path) -> None:
    merged = killed_mid_command(path, state(serial=3), [put("a")])
    path.write_bytes(b'{"version": 1, "serial": ')
    backend = LocalBackend(path)
    with pytest.raises(StateError) as raised:
        backend.read()
    backup = sidecar(path, ".backup")
    assert f"restore it with `reconciler state push {backup}`" in str(raised.value)
    assert surgery.state_push(backend, backup.read_text(), "backup", False, 0) == merged
    assert sidecar(path, ".replaced").read_bytes() == b'{"version": 1, "serial": '


# --- what .backup holds ---------------------------------------------------------------------------


def test_backup_is_the_state_before_the_command_not_a_copy_of_the_new_one(path: Path) -> None:
    first = LocalBackend(path)
    with first.lock("apply"):
        first.write(state(serial=0, runs=0), None)
        first.append([put("a")], 1)
        first.write(first.read() or state(), 1)  # the compaction at the end of apply
    after_first = path.read_bytes()
    assert sidecar(path, ".backup").read_bytes() == state_bytes(
        state(serial=0, runs=0).model_copy(update={"lineage": json.loads(after_first)["lineage"]})
    )
    second = LocalBackend(path)
    with second.lock("apply"):
        second.append([put("b")], 2)
        assert sidecar(path, ".backup").read_bytes() == after_first  # saved before the first change
        second.append([put("c")], 3)
        second.write(second.read() or state(), 3)
    assert sidecar(path, ".backup").read_bytes() == after_first
    assert path.read_bytes() != after_first


def test_a_journal_left_by_a_killed_command_is_compacted_before_the_next_change(path: Path) -> None:
    merged = killed_mid_command(path, state(serial=3), [put("a")])
    backend = LocalBackend(path)
    with backend.lock("apply"):
        backend.append([put("b")], 5)
        assert sidecar(path, ".backup").read_bytes() == state_bytes(merged)  # the state before this command
        assert path.read_bytes() == state_bytes(merged)  # and the state the new journal continues
    path.unlink()  # even now, the backup restores everything
    restored = surgery.state_push(LocalBackend(path), sidecar(path, ".backup").read_text(), "backup", False, 0)
    assert restored == replay(merged, [put("b")], 5)


def test_stale_temp_files_of_this_state_are_removed_under_the_lock(path: Path) -> None:
    LocalBackend(path).write(state(serial=1), None)
    ours = [f".{path.name}.0123abcd.tmp", f".{path.name}.backup.deadbeef.tmp", f".{path.name}.lock.info.00ff00ff.tmp"]
    theirs = [".other.json.0123abcd.tmp", f".{path.name}.backup.tmp", f".{path.name}.backup.0123abcd.tmp.keep"]
    for name in ours + theirs:
        (path.parent / name).write_text("x")
    LocalBackend(path).read()
    assert all((path.parent / name).exists() for name in ours)  # reading never deletes
    with LocalBackend(path).lock("apply"):
        pass
    assert sorted(p.name for p in path.parent.iterdir() if ".tmp" in p.name) == sorted(theirs)


# --- a broken disk --------------------------------------------------------------------------------


def _no_space_for(target: Path, after: int) -> Any:
    """``os.write`` that writes ``after`` bytes to ``target`` then fails with ENOSPC (other fds: real)."""
    real = os.write

    def write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}") != str(target):
            return real(fd, data)
        if after:
            real(fd, bytes(data)[:after])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


@pytest.mark.parametrize("after", [0, 30])
def test_a_full_disk_records_nothing_of_the_failed_append(
    path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    initial = state(serial=1)
    backend = LocalBackend(path)
    backend.write(initial, None)
    backend.append([put("a")], 2)
    journal = sidecar(path, ".journal")
    before = journal.read_bytes()
    monkeypatch.setattr("reconciler.backends.local.os.write", _no_space_for(journal, after))
    with pytest.raises(StateError, match=f"cannot append to {journal}: No space left on device"):
        backend.append([put("b"), put("c")], 3)
    monkeypatch.undo()
    assert journal.read_bytes() == before  # the torn group was cut off at once
    assert LocalBackend(path).read() == replay(initial, [put("a")], 2)
    backend.append([put("d")], 3)
    assert LocalBackend(path).read() == replay(initial, [put("a"), put("d")], 3)


def test_a_torn_tail_left_by_a_full_disk_is_dropped_by_the_next_read(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initial = state(serial=1)
    backend = LocalBackend(path)
    backend.write(initial, None)
    backend.append([put("a")], 2)
    journal = sidecar(path, ".journal")
    monkeypatch.setattr("reconciler.backends.local.os.write", _no_space_for(journal, 45))

    def no_truncate(fd: int, length: int) -> None:  # the cut-off fails too (then the process dies)
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("reconciler.backends.local.os.ftruncate", no_truncate)
    with pytest.raises(StateError, match="No space left on device"):
        backend.append([put("b")], 3)
    monkeypatch.undo()
    assert not journal.read_bytes().endswith(b"\n")  # a torn line stayed
    assert LocalBackend(path).read() == replay(initial, [put("a")], 2)


@pytest.fixture
def read_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Turn the state folder read-only. Not root: ``chmod a-w`` on it and its files. Root (chmod
    stops nothing): the backend modules' ``os`` is swapped for one whose writes in the folder fail
    with EACCES, as they would for another user (what a read-only folder does to the backend)."""
    folder = path.parent
    changed: list[tuple[Path, int]] = []

    def lock() -> None:
        if os.geteuid() != 0:
            for item in [folder, *folder.iterdir()]:
                changed.append((item, item.stat().st_mode))
                item.chmod(item.stat().st_mode & ~0o222)
            return
        for module in (local, files, lock_file):
            monkeypatch.setattr(module, "os", _read_only_os(folder))

    yield lock
    for item, mode in reversed(changed):
        item.chmod(mode)


def _read_only_os(folder: Path) -> Any:
    def inside(target: Any) -> bool:
        return Path(target).absolute().parent == folder

    def deny(target: Any) -> OSError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))

    def open_(target: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if inside(target) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise deny(target)
        return os.open(target, flags, *args, **kwargs)

    def change(target: Any, *args: Any, **kwargs: Any) -> None:
        if inside(target):
            raise deny(target)
        raise AssertionError("only the state folder is used")

    fake = types.SimpleNamespace(**{name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    fake.open, fake.unlink, fake.replace, fake.rename = open_, change, change, change
    return fake


def test_a_read_only_folder_mid_apply_gives_the_real_error(
    path: Path, read_only: Any, caplog: pytest.LogCaptureFixture
) -> None:
    backend = LocalBackend(path)
    backend.write(state(serial=1), None)
    with pytest.raises(StateError) as raised, backend.lock("apply"):
        backend.append([put("a")], 2)
        read_only()
        backend.append([put("b")], 3)
    assert str(raised.value) == f"cannot append to {sidecar(path, '.journal')}: Permission denied"
    assert "cannot remove" in caplog.text and ".lock.info" in caplog.text  # warned, never raised
    with pytest.raises(StateError, match=f"^cannot write {path}: Permission denied$"):
        backend.write(backend.read() or state(), 2)  # the compaction: a StateError naming the file
    assert (LocalBackend(path).read() or state()).serial == 2  # what was recorded stays
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_lock_info_cleanup_failure_never_hides_the_error(path: Path, read_only: Any, caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    backend = LocalBackend(path)
    with pytest.raises(KeyError, match="the real error"), backend.lock("apply"):
        read_only()
        raise KeyError("the real error")
    assert f"cannot remove {sidecar(path, '.lock.info')}: Permission denied" in caplog.text
