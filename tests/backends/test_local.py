"""What only the local file backend does: file format, modes, journal recovery, linear appends."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from reconciler.errors import StateError
from reconciler.state.events import replay

from .samples import put, remove, state


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "reconciler.state.json"


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def mode(file: Path) -> int:
    return stat.S_IMODE(file.stat().st_mode)


def test_state_file_is_pretty_sorted_json_with_a_backup(path: Path) -> None:
    backend = LocalBackend(path)
    first = state(serial=1, runs=0).model_copy(update={"runs": {"zeta": put("z").record, "alpha": put("a").record}})
    backend.write(first, None)
    text = path.read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,\n  "serial": 1,')
    assert list(json.loads(text)["runs"]) == ["alpha", "zeta"]
    assert '"startDate": "2025-01-01T00:00:00Z"' in text  # camelCase on disk
    assert not sidecar(path, ".backup").exists()
    backend.append([remove("zeta")], 2)
    second = first.model_copy(update={"serial": 3})
    backend.write(second, 2)
    backup = sidecar(path, ".backup")
    assert backup.read_text() == text  # the state before this "command" (one backend object) changed it
    assert backup.read_bytes() != path.read_bytes()
    assert mode(path) == mode(backup) == 0o600
    assert not sidecar(path, ".journal").exists()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_journal_and_lock_info_are_private(path: Path) -> None:
    backend = LocalBackend(path)
    with backend.lock("apply") as info:
        backend.write(state(serial=1), None)
        backend.append([put("a")], 2)
        assert mode(sidecar(path, ".journal")) == 0o600
        lock_info = sidecar(path, ".lock.info")
        assert mode(lock_info) == 0o600
        recorded = json.loads(lock_info.read_text())
        assert recorded["id"] == info.id and recorded["operation"] == "apply" and recorded["pid"] == os.getpid()
        assert {"who", "created", "path", "version"} <= set(recorded)
    assert not lock_info.exists()
    assert sidecar(path, ".lock").exists()  # the flock file stays


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"version": 1,\n  "serial": 2,,}', r"not valid JSON \(line 2, column 15"),
        (b"", r"not valid JSON \(line 1, column 1"),
        (b"\xff\xfe", "not valid JSON|not UTF-8"),
        (b'{"version": 1, "serial": "x", "lineage": "L", "salt": "s"}', r"not a valid reconciler state.*\n  serial:"),
        (b'{"version": 7, "serial": 1, "lineage": "L", "salt": "s"}', "version"),
        (b"[1, 2]", "not a valid reconciler state"),
    ],
)
def test_a_corrupt_state_file_is_reported_and_kept(path: Path, content: bytes, expected: str) -> None:
    path.write_bytes(content)
    backend = LocalBackend(path)
    with pytest.raises(StateError, match=expected) as raised:
        backend.read()
    assert str(path) in str(raised.value)
    assert "There is no" in str(raised.value) and ".backup to restore from" in str(raised.value)
    with pytest.raises(StateError, match="missing, cannot be read"):
        backend.write(state(), None)
    with pytest.raises(StateError):
        backend.append([put("a")], 1)
    assert path.read_bytes() == content
    pushed = state()
    backend.write(pushed, None, force=True)  # `state push --force`: replaced, but kept aside
    assert sidecar(path, ".replaced").read_bytes() == content
    assert backend.read() == pushed


def test_torn_last_journal_line_is_ignored_and_cut_by_the_next_append(path: Path) -> None:
    backend = LocalBackend(path)
    initial = state(serial=1)
    backend.write(initial, None)
    backend.append([put("a")], 2)
    journal = sidecar(path, ".journal")
    with journal.open("ab") as handle:
        handle.write(b'{"serial": 3, "part": 1, "of": 1, "ev')  # a crash in the middle of a write
    fresh = LocalBackend(path)
    assert fresh.read() == replay(initial, [put("a")], 2)
    fresh.append([remove("a")], 3)
    assert LocalBackend(path).read() == replay(initial, [put("a"), remove("a")], 3)
    assert b'"ev\n' not in journal.read_bytes() and b"ev{" not in journal.read_bytes()


def test_a_group_cut_short_is_ignored_whole(path: Path) -> None:
    backend = LocalBackend(path)
    initial = state(serial=1)
    backend.write(initial, None)
    backend.append([put("a"), put("b")], 2)
    journal = sidecar(path, ".journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + b"\x00" * 40)  # second part lost, zeros after a crash
    assert LocalBackend(path).read() == initial


def test_a_corrupt_middle_journal_line_names_file_and_line(path: Path) -> None:
    backend = LocalBackend(path)
    backend.write(state(serial=1), None)
    backend.append([put("a")], 2)
    backend.append([put("b")], 3)
    journal = sidecar(path, ".journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[1] = b"garbage\n"
    journal.write_bytes(b"".join(lines))
    with pytest.raises(StateError, match=f"{journal}:2: corrupt journal line"):
        LocalBackend(path).read()


def test_a_journal_left_by_an_interrupted_compaction_is_ignored(path: Path) -> None:
    backend = LocalBackend(path)
    backend.write(state(serial=5), None)
    backend.append([put("a")], 6)
    leftover = sidecar(path, ".journal").read_bytes()
    compacted = backend.read()
    assert compacted is not None and compacted.serial == 6
    backend.write(compacted, 6)
    sidecar(path, ".journal").write_bytes(leftover)  # as if the crash came before removing it
    assert LocalBackend(path).read() == compacted
    LocalBackend(path).append([put("b")], 7)  # the next append starts a new journal
    assert (LocalBackend(path).read() or compacted).serial == 7


def test_a_journal_without_a_state_file_is_ignored_then_removed(path: Path) -> None:
    journal = sidecar(path, ".journal")
    journal.write_bytes(b'{"journal": 1, "stateSha256": "0", "baseSerial": 0}\n')
    backend = LocalBackend(path)
    assert backend.read() is None
    backend.write(state(serial=1), None)
    assert not journal.exists()


def test_appends_are_linear_and_never_rewrite_the_state_file(path: Path) -> None:
    backend = LocalBackend(path)
    backend.write(state(serial=9, runs=300), None)
    before = path.stat()
    journal = sidecar(path, ".journal")
    sizes = []
    for serial in range(10, 60):  # same digit count: same line length
        backend.append([put(f"run-{serial}")], serial)
        sizes.append(journal.stat().st_size)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    growth = {b - a for a, b in itertools.pairwise(sizes)}
    assert len(growth) == 1  # every one-event group costs the same bytes, whatever the state's size
    assert growth.pop() < before.st_size / 50


def test_force_unlock_refuses_a_live_holder_and_clears_a_dead_one(path: Path) -> None:
    holder, other = LocalBackend(path), LocalBackend(path)
    with holder.lock("apply") as info:
        with pytest.raises(StateError, match=f"held by live process {os.getpid()} on this host"):
            other.force_unlock(info.id)
        # what a SIGKILLed holder leaves behind: the info file, but no kernel lock
        stale = sidecar(path, ".lock.info").read_bytes()
    sidecar(path, ".lock.info").write_bytes(stale)
    other.force_unlock(info.id)
    assert not sidecar(path, ".lock.info").exists()
    with other.lock("apply"):
        pass


def test_the_compacting_write_after_appends_sees_a_change_made_behind_its_back(path: Path) -> None:
    """The write that ends a command trusts what it appended only while both files are as it left
    them: a group appended by another writer moves the serial, and the write is refused."""
    base = state(serial=1)
    mine, other = LocalBackend(path), LocalBackend(path)
    mine.write(base, None)
    mine.append([put("run-a")], 2)
    mine.write(base.model_copy(update={"serial": 2}), 2)  # nothing changed behind it: compacted
    mine.append([put("run-b")], 3)
    other.append([put("run-c")], 4)  # another writer (its lock is not this test's subject)
    with pytest.raises(StateError, match="serial 4, expected 3"):
        mine.write(base.model_copy(update={"serial": 3}), 3)
    kept = other.read()
    assert kept is not None and {"run-b", "run-c"} <= set(kept.runs)  # the refused write lost nothing


@pytest.mark.parametrize("first", ["read", "write"])
def test_a_new_journal_names_the_sha256_of_the_state_file_it_continues(path: Path, first: str) -> None:
    """A read does not hash the state file: the first append of a new journal does (after a read, or
    after a compacting write)."""
    initial = state(serial=3, runs=20)
    LocalBackend(path).write(initial, None)
    backend = LocalBackend(path)
    if first == "read":
        assert backend.read() is not None
    else:
        backend.write(initial.model_copy(update={"serial": 4}), 3)
    read = backend.read()
    assert read is not None
    serial = read.serial
    backend.append([put("b")], serial + 1)
    header = json.loads(sidecar(path, ".journal").read_bytes().splitlines()[0])
    assert header["stateSha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert header["baseSerial"] == serial
