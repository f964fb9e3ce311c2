"""``force-unlock`` asks for confirmation on a terminal, naming the holder (``--yes`` skips it); a
script without a terminal is not asked (a lock left behind is removed at once, as before)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.e2e import Stack

LOCK_ID = "0d1e2a3d-0000-4000-8000-00000000dead"


def _leftover_lock(stack: Stack) -> Path:
    """The info file a killed holder leaves (its kernel lock went with it)."""
    info = Path(f"{stack.state_path}.lock.info")
    holder = {
        "id": LOCK_ID,
        "operation": "apply",
        "who": "alice@build-7",
        "pid": 2**22 + 17,  # no such process
        "created": "2026-12-01T10:00:00Z",
        "path": str(stack.state_path),
        "version": "0.1.0",
    }
    info.write_text(json.dumps(holder), encoding="utf-8")
    return info


def _on_a_terminal(stack: Stack, args: list[str], answer: str) -> tuple[int, str, str]:
    result = stack.on_a_terminal(args, answer)
    return result.code, result.out, result.err


@pytest.mark.parametrize(("answer", "code"), [("no\n", 1), ("yes\n", 0)])
def test_a_terminal_is_asked_first(stack: Stack, answer: str, code: int) -> None:
    info = _leftover_lock(stack)
    returned, out, err = _on_a_terminal(stack, ["force-unlock", LOCK_ID], answer)
    assert returned == code, (out, err)
    assert "Break the state lock held by alice@build-7" in out, out
    assert info.exists() == (code == 1)
    if code == 1:
        assert "force-unlock cancelled" in err, err


def test_yes_skips_the_question_and_scripts_are_not_asked(stack: Stack) -> None:
    info = _leftover_lock(stack)
    returned, out, err = _on_a_terminal(stack, ["force-unlock", "--yes", LOCK_ID], "")
    assert returned == 0 and "Break the state lock" not in out and not info.exists(), (out, err)
    info = _leftover_lock(stack)
    returned, out, err = _on_a_terminal(stack, ["force-unlock", "-f", LOCK_ID], "")  # Terraform's -force
    assert returned == 0 and "Break the state lock" not in out and not info.exists(), (out, err)
    _leftover_lock(stack)
    plain = stack.cli(["force-unlock", LOCK_ID])  # no terminal
    assert plain.code == 0 and "Break the state lock" not in plain.out, plain
