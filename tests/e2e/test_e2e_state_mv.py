"""``state mv`` takes only a name that a manifest could declare (the manifest's own rule)."""

from __future__ import annotations

import pytest

from tests.support.e2e import ECHO, Stack, run_doc


@pytest.mark.parametrize("bad", ["Bad_Name", "-lead", "x" * 254])
def test_state_mv_refuses_a_name_that_is_not_a_valid_run_name(stack: Stack, bad: str) -> None:
    stack.write_runs([run_doc("net-e", ECHO, {"name": "net"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    moved = stack.cli(["state", "mv", "--", "net-e", bad])
    assert moved.code == 1, moved
    assert f"{bad!r} is not a valid run name" in moved.err, moved
    assert list(stack.state()["runs"]) == ["net-e"]

    assert stack.cli(["state", "mv", "net-e", "net.e-2"]).code == 0
    assert list(stack.state()["runs"]) == ["net.e-2"]
