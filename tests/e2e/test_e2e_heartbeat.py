"""In a CI log (stdout not a terminal), apply writes a heartbeat line while a long run is going."""

from __future__ import annotations

from tests.support.e2e import LONG, Emulator, Stack, run_doc


def test_a_long_run_is_not_silence_in_a_ci_log(stack: Stack) -> None:
    stack.write_runs([run_doc("long", LONG, {"name": "long"})])
    stack.env["RECONCILER_PROGRESS_EVERY"] = "1"
    result = stack.cli(["apply", "--auto-approve"])
    assert result.code == 0, result
    beats = [line for line in result.out.splitlines() if line.startswith("still going: ")]
    assert beats and "1 run(s) in progress" in beats[0] and "longest: long (" in beats[0], result.out
    assert result.out.index("long: started") < result.out.index(beats[0]) < result.out.index("long: completed")


def test_a_bad_interval_is_one_clear_error_before_anything_starts(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("long", LONG, {"name": "long"})])
    stack.env["RECONCILER_PROGRESS_EVERY"] = "often"
    result = stack.cli(["apply", "--auto-approve"])
    assert result.code == 1 and "RECONCILER_PROGRESS_EVERY must be a duration" in result.err, result
    assert emulator.starts() == []
