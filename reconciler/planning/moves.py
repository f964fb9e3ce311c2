"""Moves: records renamed because the manifests say a run was renamed (``spec.movedFrom``, SPEC 2.2).

A run that lists an earlier name takes over the record of that name when the state has it and has
none under the run's own name; the plan is then made against the state as if the record had always
had the new name (same inputs: nothing starts; other inputs: a re-run as well). A listed name that
is not recorded (the move was applied already, or never needed) is no action at all.

What the state makes ambiguous is a located error: a run whose own name is recorded as well as an
earlier name of it, and a run with more than one of its earlier names recorded. (What is ambiguous
without the state is checked once, when the manifests load: `move_declaration_problems`; a desired
stack holds none of those.)
"""

from __future__ import annotations

from reconciler.desired.lifecycle import MOVED_FROM
from reconciler.desired.runs import DesiredRun, DesiredStack
from reconciler.errors import ManifestError, Problem, SourceLocation
from reconciler.planning.changes import Move
from reconciler.state.models import State
from reconciler.state.renaming import renamed_all


def find_moves(desired: DesiredStack, state: State) -> tuple[Move, ...]:
    """The records to rename, by the runs' ``movedFrom``; `ManifestError` when that is ambiguous."""
    problems: list[Problem] = []
    moves: list[Move] = []
    for name in sorted(desired.runs):
        run = desired.runs[name]
        recorded = [(i, old) for i, old in enumerate(run.moved_from) if old in state.runs]
        if not recorded:
            continue
        if name in state.runs:
            problems += [_both_recorded(run, i, old) for i, old in recorded]
        elif len(recorded) > 1:
            problems.append(_several_recorded(run, recorded))
        else:
            old = recorded[0][1]
            moves.append(Move(old, name, state.runs[old].workflow))
    if problems:
        raise ManifestError(problems)
    return tuple(moves)


def moved_state(state: State, moves: tuple[Move, ...]) -> State:
    """``state`` with the records of ``moves`` under their new names (in memory: the plan's view)."""
    if not moves:
        return state
    runs = renamed_all(state.runs, {move.old: move.new for move in moves})
    return state.model_copy(update={"runs": runs})


def _where(run: DesiredRun, index: int) -> SourceLocation:
    return run.field_location(MOVED_FROM, index) or SourceLocation("manifests")


def _both_recorded(run: DesiredRun, index: int, old: str) -> Problem:
    return Problem(
        _where(run, index),
        f"run {run.name!r} declares movedFrom {old!r}, but the state records both {old!r} and {run.name!r}: "
        f"remove one of the records (`reconciler state rm {old}`) or this movedFrom entry",
    )


def _several_recorded(run: DesiredRun, recorded: list[tuple[int, str]]) -> Problem:
    names = ", ".join(repr(old) for _, old in recorded)
    return Problem(
        _where(run, recorded[1][0]),
        f"run {run.name!r} declares movedFrom {names}, and the state records each of them: "
        "only one record can take the run's name; remove the others (`reconciler state rm`) first",
    )
