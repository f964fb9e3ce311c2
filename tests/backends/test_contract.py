"""The backend contract (reconciler/backends/base.py), the same for the local file and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.backends.base import StateBackend
from reconciler.errors import StateError, StateLockedError
from reconciler.state.events import PutRun, RemoveRun, replay
from reconciler.state.models import RunRecord, State
from tests.support.stores import Store

from .samples import put, remove, state

REPO = Path(__file__).resolve().parents[2]


def locked_out(backend: StateBackend, timeout: float = 0.0) -> StateLockedError:
    """The error of a lock attempt that must fail."""
    with pytest.raises(StateLockedError) as raised, backend.lock("plan", timeout):
        pass
    return raised.value


def test_missing_state_reads_as_none(store: Store) -> None:
    assert store.open().read() is None


def test_write_then_read_round_trips(store: Store) -> None:
    original = state(serial=3, runs=3)
    store.open().write(original, None)
    assert store.open().read() == original


def test_write_refuses_a_serial_that_moved(store: Store) -> None:
    backend = store.open()
    with pytest.raises(StateError, match="expected a state with serial 4"):
        backend.write(state(), 4)
    first = state(serial=1)
    backend.write(first, None)
    second = first.model_copy(update={"serial": 2})
    with pytest.raises(StateError, match="already exists"):
        backend.write(second, None)
    with pytest.raises(StateError, match=r"changed meanwhile \(serial 1, expected 0\)"):
        backend.write(second, 0)
    backend.write(second, 1)
    assert backend.read() == second


def test_write_refuses_another_lineage_unless_forced(store: Store) -> None:
    backend = store.open()
    ours = state(serial=1, lineage="lineage-a")
    backend.write(ours, None)
    theirs = state(serial=2, lineage="lineage-b")
    with pytest.raises(StateError, match=r"lineage lineage-b does not match .* lineage-a"):
        backend.write(theirs, 1)
    assert backend.read() == ours
    backend.write(theirs, 99, force=True)
    assert backend.read() == theirs


def test_appended_events_survive_a_crash(store: Store) -> None:
    backend = store.open()
    initial = state(serial=1, runs=2)
    backend.write(initial, None)
    backend.append([put("run-0", key="new"), put("extra")], 2)
    backend.append([remove("run-1")], 3)
    # no write, no close: another object (another process after a crash) sees the events
    seen = store.open().read()
    expected = replay(initial, [put("run-0", key="new"), put("extra"), remove("run-1")], 3)
    assert seen == expected
    assert seen is not None and sorted(seen.runs) == ["extra", "run-0"] and seen.serial == 3


def test_write_compacts_the_journal(store: Store) -> None:
    backend = store.open()
    backend.write(state(serial=1), None)
    backend.append([put("a")], 2)
    current = backend.read()
    assert current is not None
    compacted = current.model_copy(update={"serial": 3})
    backend.write(compacted, 2)
    assert store.open().read() == compacted
    backend.append([remove("a")], 4)
    assert "a" not in (store.open().read() or compacted).runs


def test_append_needs_a_state_and_a_higher_serial(store: Store) -> None:
    backend = store.open()
    with pytest.raises(StateError, match="write the initial state"):
        backend.append([put("a")], 1)
    backend.write(state(serial=5), None)
    with pytest.raises(StateError, match="not above the current serial 5"):
        backend.append([put("a")], 5)
    backend.append([], 5)  # an empty group is a no-op
    assert (backend.read() or state()).serial == 5


def test_second_writer_gets_the_holders_details(store: Store) -> None:
    first, second = store.open(), store.open()
    with first.lock("apply") as info:
        refused = locked_out(second)
        message = str(refused)
        assert refused.lock_id == info.id
        assert "Error acquiring the state lock" in message
        for detail in (info.id, "apply", info.who, str(os.getpid()), info.created, f"force-unlock {info.id}"):
            assert detail in message
    with second.lock("plan") as again:  # released on exit
        assert again.id != info.id


def test_lock_timeout_gives_up_then_waits_for_a_release(store: Store) -> None:
    holder, waiter = store.open(), store.open()
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock("apply"):
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(30)
        locked_out(waiter, timeout=0.3)
        threading.Timer(0.3, release.set).start()
        with waiter.lock("plan", timeout=30) as info:
            assert info.operation == "plan"
    finally:
        release.set()
        thread.join()


def test_lock_of_a_killed_process_is_free_at_once(store: Store) -> None:
    code = (
        "import time\nfrom pathlib import Path\n"
        "from reconciler.backends.local import LocalBackend\n"
        "from reconciler.backends.postgres import PostgresBackend\n"
        f"backend = {store.spawn_expr('main')}\n"
        "with backend.lock('apply') as info:\n"
        "    print(info.id, flush=True)\n"
        "    time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        held_id = child.stdout.readline().strip()
        assert held_id, child.stderr.read() if child.stderr else ""
        assert locked_out(store.open()).lock_id == held_id
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    with store.open().lock("apply", timeout=store.release_grace) as info:
        assert info.id != held_id


def test_force_unlock_refuses_another_id(store: Store) -> None:
    first, second = store.open(), store.open()
    with (
        first.lock("apply") as info,
        pytest.raises(StateError, match=f"lock id nope does not match the current lock {info.id}"),
    ):
        second.force_unlock("nope")


def test_force_unlock_without_a_lock_is_refused(store: Store) -> None:
    with pytest.raises(StateError, match="not locked"):
        store.open().force_unlock("whatever")


# --- property: append + read == replay -----------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8
)  # jsonb cannot hold NUL
_VALUES = st.none() | st.booleans() | st.integers() | _TEXT
_RECORDS = st.builds(
    RunRecord,
    workflow=_TEXT,
    key=_TEXT,
    attempts=st.integers(0, 5),
    outputs=st.dictionaries(_TEXT, _VALUES | st.lists(_VALUES, max_size=3), max_size=3),
)
_RUNS = st.sampled_from(["a", "b", "c", "d", "é/ü", "x y"])
_EVENTS = st.one_of(st.builds(PutRun, run=_RUNS, record=_RECORDS), st.builds(RemoveRun, run=_RUNS))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    initial=st.dictionaries(_RUNS, _RECORDS, max_size=3),
    groups=st.lists(st.tuples(st.lists(_EVENTS, min_size=1, max_size=4), st.integers(1, 3)), max_size=5),
)
def test_append_then_read_is_replay(
    store: Store, initial: dict[str, RunRecord], groups: list[tuple[list[PutRun | RemoveRun], int]]
) -> None:
    backend = store.fresh()
    start = State(serial=1, lineage="L", salt="s", runs=initial)
    backend.write(start, None)
    expected, serial = start, 1
    for events, step in groups:
        serial += step
        backend.append(events, serial)
        expected = replay(expected, events, serial)
        assert backend.read() == expected
    assert backend.read() == expected
