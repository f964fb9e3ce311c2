"""apply's moves (``spec.movedFrom``) on a real LocalBackend: every rename of an apply is one journal
group (a put of the new name and a remove of the old), made before anything starts, so a crash
leaves each record under one name, never two; the state read back has the records renamed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.applying.recorder import Recorder
from reconciler.backends.local import LocalBackend
from reconciler.errors import StateError
from reconciler.operations.apply import record_moves
from reconciler.planning.changes import Move
from reconciler.state.events import PutRun, RemoveRun
from reconciler.state.models import State
from tests.planning.stacks import applied_state, plan, run_doc, stack


class GroupedBackend(LocalBackend):
    """A LocalBackend that keeps each appended group of events."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.groups: list[list[tuple[str, str]]] = []

    def append(self, events: Sequence[PutRun | RemoveRun], serial: int) -> None:
        super().append(events, serial)
        self.groups.append([(e.op, e.run) for e in events])


def _written(tmp_path: Path) -> tuple[GroupedBackend, State]:
    state = applied_state(stack(run_doc("a", "wf", {"n": 1}), run_doc("b", "wf", {"n": 2}), run_doc("c", "wf")))
    backend = GroupedBackend(tmp_path / "reconciler.state.json")
    backend.write(state, None)
    return backend, state


async def _moved(backend: GroupedBackend, state: State, moves: tuple[Move, ...]) -> None:
    recorder = Recorder(backend, state)
    recorder.start()
    try:
        result = plan(stack(run_doc("c", "wf")), state)
        record_moves(recorder, dataclasses.replace(result, moves=moves))
        await recorder.durable()
    finally:
        await recorder.close()


def test_the_moves_of_an_apply_are_one_journal_group_and_rename_the_records(tmp_path: Path) -> None:
    backend, state = _written(tmp_path)
    renamed = stack(
        run_doc("x", "wf", {"n": 1}, movedFrom=["a"]), run_doc("y", "wf", {"n": 2}, movedFrom=["b"]), run_doc("c", "wf")
    )
    moves = plan(renamed, state).moves
    assert moves == (Move("a", "x", "wf"), Move("b", "y", "wf"))
    asyncio.run(_moved(backend, state, moves))
    assert backend.groups == [[("put", "x"), ("remove", "a"), ("put", "y"), ("remove", "b")]]
    stored = LocalBackend(tmp_path / "reconciler.state.json").read()
    assert stored is not None and stored.serial == state.serial + 1
    assert stored.runs == {"x": state.runs["a"], "y": state.runs["b"], "c": state.runs["c"]}
    assert not plan(renamed, stored).has_changes


def test_a_move_the_state_refuses_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    backend, state = _written(tmp_path)
    with pytest.raises(StateError, match="cannot move 'a' to 'b': the state already has a run named 'b'"):
        asyncio.run(_moved(backend, state, (Move("a", "b", "wf"),)))
    assert backend.groups == []
    assert LocalBackend(tmp_path / "reconciler.state.json").read() == state
