"""A state copied from another stack by mistake: the plan that would delete every run it records is
refused (plan and apply alike), naming both stacks; nothing is cancelled or forgotten."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import yaml

from tests.support.e2e import ECHO, Emulator, Stack, run_doc


def test_a_state_of_another_stack_is_refused(make_stack: Callable[..., Stack], emulator: Emulator) -> None:
    theirs = make_stack(emulator, "theirs")
    theirs.write_runs([run_doc("net", ECHO, {"name": "net"}), run_doc("db", ECHO, {"name": "db"})])
    assert theirs.cli(["apply", "--auto-approve"]).code == 0
    assert theirs.state()["stack"] == "e2e"

    mine = make_stack(emulator, "mine")
    doc = yaml.safe_load((mine.root / "reconciler.yaml").read_text(encoding="utf-8"))
    doc["metadata"]["name"] = "web-team"
    (mine.root / "reconciler.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    mine.write_runs([run_doc("web", ECHO, {"name": "web"})])
    shutil.copy(theirs.state_path, mine.state_path)  # the mistake
    before = mine.state_path.read_bytes()

    for args in (["plan"], ["apply", "--auto-approve"]):
        result = mine.cli(args)
        assert result.code == 1, result
        assert "this state belongs to stack 'e2e', not to 'web-team'" in result.err, result
        assert "would delete all 2 run(s)" in result.err, result
    assert mine.state_path.read_bytes() == before
    assert len(emulator.starts()) == 2  # theirs only
