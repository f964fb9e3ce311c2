"""The recorder on a real LocalBackend: group commit, durability, compaction, failures."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.applying.recorder import Recorder
from reconciler.backends.local import LocalBackend
from reconciler.errors import StateError
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import Execution, RunRecord, State

from .harness import empty_state

pytestmark = pytest.mark.anyio


class CountingBackend:
    """A LocalBackend whose appends are counted (and can be held, or made to fail)."""

    def __init__(self, path: Path) -> None:
        self.inner = LocalBackend(path)
        self.groups: list[int] = []  # size of each appended group, in order
        self.serials: list[int] = []
        self.entered = threading.Event()  # set when an append has begun
        self.release = threading.Event()  # appends wait for it
        self.release.set()
        self.failure: Exception | None = None

    def read(self) -> State | None:
        return self.inner.read()

    def write(self, state: State, expected_serial: int | None, *, force: bool = False) -> None:
        self.inner.write(state, expected_serial, force=force)

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        self.entered.set()
        assert self.release.wait(10), "an append was held for too long"
        if self.failure is not None:
            raise self.failure
        self.inner.append(events, serial)
        self.groups.append(len(events))
        self.serials.append(serial)


def record(i: int) -> RunRecord:
    return RunRecord(
        workflow="wf",
        key=f"key-{i}",
        execution=Execution(id=f"exec-{i}", state="completed"),
        outputs={"n": i},
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "reconciler.state.json"
    LocalBackend(target).write(empty_state(), None)
    return target


async def test_concurrent_puts_are_grouped_and_all_durable(path: Path) -> None:
    backend = CountingBackend(path)
    recorder = Recorder(backend, empty_state())  # type: ignore[arg-type]
    recorder.start()

    async def put(i: int) -> None:
        for _ in range(i % 7):  # spread the puts over several loop iterations
            await asyncio.sleep(0)
        recorder.put(f"run-{i:03d}", record(i))
        await recorder.durable()

    await asyncio.wait_for(asyncio.gather(*(put(i) for i in range(200))), timeout=10)

    assert sum(backend.groups) == 200
    assert len(backend.groups) <= 20, f"200 events took {len(backend.groups)} appends"
    assert backend.serials == list(range(1, len(backend.groups) + 1))
    stored = LocalBackend(path).read()  # another backend object: only what is on disk
    assert stored is not None
    assert stored.serial == len(backend.groups)
    assert stored.runs == {f"run-{i:03d}": record(i) for i in range(200)}
    assert path.with_name(path.name + ".journal").exists()  # not compacted before close
    await recorder.close()


async def test_durable_returns_only_once_the_event_is_on_disk(path: Path) -> None:
    backend = CountingBackend(path)
    backend.release.clear()
    recorder = Recorder(backend, empty_state())  # type: ignore[arg-type]
    recorder.start()
    recorder.put("db", record(1))
    waiting = asyncio.ensure_future(recorder.durable())
    assert await asyncio.to_thread(backend.entered.wait, 10)
    await asyncio.sleep(0.05)
    assert not waiting.done(), "durable() returned while the append was still being written"
    seen = LocalBackend(path).read()
    assert seen is not None and "db" not in seen.runs

    backend.release.set()
    await asyncio.wait_for(waiting, timeout=10)
    seen = LocalBackend(path).read()
    assert seen is not None and seen.runs["db"] == record(1)
    await recorder.close()


async def test_durable_with_nothing_queued_returns_at_once(path: Path) -> None:
    backend = CountingBackend(path)
    recorder = Recorder(backend, empty_state())  # type: ignore[arg-type]
    recorder.start()
    await asyncio.wait_for(recorder.durable(), timeout=1)
    await recorder.close()
    assert backend.groups == []
    assert LocalBackend(path).read() == empty_state()


async def test_close_compacts_the_journal_into_the_state_file(path: Path) -> None:
    backend = CountingBackend(path)
    start = empty_state().model_copy(update={"serial": 4, "runs": {"old": record(0), "keep": record(9)}})
    backend.write(start, 0)
    recorder = Recorder(backend, start)  # type: ignore[arg-type]
    recorder.start()
    recorder.put("a", record(1))
    await recorder.durable()
    recorder.put("b", record(2))
    recorder.remove("old")
    await recorder.durable()
    groups = len(backend.groups)
    assert groups >= 2

    await recorder.close()

    assert not path.with_name(path.name + ".journal").exists()
    expected = {"keep": record(9), "a": record(1), "b": record(2)}
    on_disk = State.model_validate_json(path.read_bytes())  # the state file alone, no journal
    assert on_disk.runs == expected
    assert on_disk.serial == 4 + groups
    assert on_disk.lineage == start.lineage and on_disk.salt == start.salt
    assert LocalBackend(path).read() == on_disk
    assert recorder.snapshot() == on_disk


async def test_a_failing_append_surfaces_from_durable(path: Path) -> None:
    backend = CountingBackend(path)
    backend.failure = StateError("cannot append to the journal: No space left on device")
    recorder = Recorder(backend, empty_state())  # type: ignore[arg-type]
    recorder.start()
    recorder.put("a", record(1))
    first = asyncio.ensure_future(recorder.durable())
    second = asyncio.ensure_future(recorder.durable())
    for waiter in (first, second):
        with pytest.raises(StateError, match="No space left"):
            await asyncio.wait_for(waiter, timeout=10)
    with pytest.raises(StateError, match="No space left"):  # and later waiters too
        await asyncio.wait_for(recorder.durable(), timeout=10)
    stored = LocalBackend(path).read()
    assert stored is not None and stored.runs == {}
