"""Plan knows the workflows (issue 10), through the CLI as a subprocess against the emulator over a socket.

Each of the five mistakes (an unknown parameter, a wrong type, a missing mandatory input, a workflow
that does not exist, a reference to an undeclared output) fails ``plan`` with exit 1 and a located
error, and nothing is started; ``plan --no-refresh`` and ``validate`` check against the definitions
kept by an earlier plan, with the emulator gone (so they cannot have contacted it).
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.e2e import CATALOG, ECHO, READS, Emulator, Stack, run_doc, start_emulator, stop

GONE = "00000000-0000-4000-8000-0000000000ff"  # no such workflow in the catalog


def _where(stack: Stack, text: str, file: str = "runs.yaml") -> str:
    """``manifests/FILE:LINE:COLUMN`` of the first ``text`` in the manifest."""
    lines = (stack.root / "manifests" / file).read_text("utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        column = line.find(text)
        if column >= 0:
            return f"manifests/{file}:{number}:{column + 1}"
    raise AssertionError(f"{text!r} is not in {file}")


MISTAKES: list[tuple[str, list[dict[str, Any]], str, str]] = [
    (
        "unknown parameter",
        [run_doc("a", ECHO, {"name": "a", "nmae": "x"})],
        "nmae:",
        "unknown parameter 'nmae': workflow 'Echo' has no such input; did you mean 'name'?",
    ),
    ("wrong type", [run_doc("a", ECHO, {"name": 5})], "name: 5", "declares it string: expected a string, got a number"),
    ("missing mandatory", [run_doc("a", ECHO, {"note": "x"})], "name: a", "mandatory input 'name' (string)"),
    (
        "unknown workflow",
        [run_doc("a", GONE, {"name": "a"}), run_doc("b", GONE, {"name": "b"})],
        "name: a",
        f"workflow '{GONE}' does not exist or is not available to you",
    ),
    (
        "undeclared output",
        [run_doc("a", ECHO, {"name": "a"}), run_doc("b", READS, {"upstream": "${runs.a.outputs.ID}"})],
        "${runs.a.outputs.ID}",
        "run 'a' has no output 'ID': workflow 'Echo' declares id, shout; did you mean 'id'?",
    ),
]


@pytest.mark.parametrize(("docs", "at", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_each_mistake_fails_the_plan_located_and_starts_nothing(
    stack: Stack, emulator: Emulator, docs: list[dict[str, Any]], at: str, message: str
) -> None:
    stack.write_runs(docs)
    result = stack.cli(["plan"])
    assert result.code == 1, result
    assert f"{_where(stack, at)}: " in result.err and message in result.err, result
    assert "will be started" not in result.out, result
    assert emulator.starts() == [] and emulator.executions() == {}


@pytest.mark.parametrize(("docs", "at", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_apply_without_a_plan_file_checks_the_same_before_starting(
    stack: Stack, emulator: Emulator, docs: list[dict[str, Any]], at: str, message: str
) -> None:
    stack.write_runs([*docs, run_doc("fine", ECHO, {"name": "fine"})])
    result = stack.cli(["apply", "--auto-approve"])
    assert result.code == 1, result
    assert f"{_where(stack, at)}: " in result.err and message in result.err, result
    assert emulator.starts() == [] and emulator.executions() == {}  # not even the run that is fine


def test_every_mistake_is_listed_at_once(stack: Stack, emulator: Emulator) -> None:
    docs = [copy.deepcopy(doc) for _, mistake, _, _ in MISTAKES for doc in mistake]  # MISTAKES stays as it is
    for i, doc in enumerate(docs):  # one manifest: every run named apart
        doc["metadata"]["name"] = f"r{i}"
    docs[-1]["spec"]["parameters"]["upstream"] = "${runs.r5.outputs.ID}"
    stack.write_runs(docs)
    result = stack.cli(["plan", "--json"])
    assert result.code == 1, result
    assert result.out == ""
    for _, _, _, message in MISTAKES:
        assert message.replace("'a'", "'r5'").split(";")[0] in result.err, (message, result)
    assert result.err.count("manifests/runs.yaml:") == 5, result  # five mistakes, each once
    assert emulator.starts() == []


def test_plan_without_refresh_and_validate_use_the_cache_and_never_contact_the_server(
    stack: Stack, emulator: Emulator
) -> None:
    good = [run_doc("a", ECHO, {"name": "a"}), run_doc("b", READS, {"upstream": "${runs.a.outputs.id}"})]
    stack.write_runs(good)
    first = stack.cli(["plan", "--json"])
    assert first.code == 0, first
    assert first.json()["definitions"]["source"] == "server", first
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    stop(emulator.process)  # from here on, any request would fail

    offline = stack.cli(["plan", "--no-refresh"])
    assert offline.code == 0, offline
    assert "No changes." in offline.out, offline
    assert "workflow definitions from cache, read " in offline.err, offline

    stack.write_runs([*good, run_doc("c", ECHO, {"name": "c", "nmae": "x"})])
    for args in (["plan", "--no-refresh"], ["validate"]):
        result = stack.cli(args)
        assert result.code == 1, result
        assert f"{_where(stack, 'nmae:')}: unknown parameter 'nmae'" in result.err, result
    document = stack.cli(["validate", "--json"]).json()
    assert document["valid"] is False
    assert {(p["line"], p["message"].split(":")[0]) for p in document["problems"]} == {
        (int(_where(stack, "nmae:").split(":")[1]), "unknown parameter 'nmae'")
    }


def test_without_any_reading_the_checks_are_skipped_with_a_note_or_an_error_when_required(
    stack: Stack, emulator: Emulator
) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a", "nmae": "x"})])
    noted = stack.cli(["validate"])
    assert noted.code == 0, noted
    assert "workflow definitions were not checked: none has been kept yet" in noted.err, noted
    required = stack.cli(["plan", "--no-refresh", "--require-definitions"])
    assert required.code == 1, required
    assert f"{_where(stack, 'name: a')}: the definition of workflow '{ECHO}'" in required.err, required
    assert "--require-definitions makes this an error" in required.err, required
    assert emulator.starts() == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _emulator_on(port: int, catalog: Mapping[str, Any], path: Path) -> Emulator:
    path.write_text(yaml.safe_dump(dict(catalog), sort_keys=False), encoding="utf-8")
    return start_emulator(path, "--port", str(port))  # the last --port wins


def test_a_definition_changed_on_the_server_since_it_was_kept_is_shown_in_the_plan(
    tmp_path: Path, make_stack: Callable[..., Stack]
) -> None:
    port = _free_port()
    started = [_emulator_on(port, CATALOG, tmp_path / "before.yaml")]
    try:
        stack = make_stack(started[0])
        stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
        assert stack.cli(["apply", "--auto-approve"]).code == 0  # keeps the definitions it read
        stop(started[0].process)

        changed = copy.deepcopy(CATALOG)
        echo = next(w for w in changed["workflows"] if w["id"] == ECHO)
        echo["inputs"] = [
            {"name": "name", "type": "string"},
            {"name": "size", "type": "number", "required": False, "default": 1},
        ]
        echo["outputs"].append({"name": "size", "type": "number", "from": "size"})
        started.append(_emulator_on(port, changed, tmp_path / "after.yaml"))
        shown = stack.cli(["plan"])
        assert shown.code == 0, shown
        assert "workflow inputs changed: + size (number), - note (string)" in shown.out, shown
        assert "workflow outputs changed: + size (number)" in shown.out, shown
        assert "used by a, b" in shown.out, shown
        assert "No changes." in shown.out, shown  # the runs themselves are unchanged

        document = stack.cli(["plan", "--json"]).json()
        assert document["definitions"]["source"] == "server"
        (change,) = document["definitions"]["changes"]
        assert (change["workflow"], change["name"], change["runs"]) == (ECHO, "Echo", ["a", "b"])
        assert {"direction": "output", "change": "added", "parameter": "size", "type": "number", "detail": None} in (
            change["changes"]
        )
        assert {"format_version", "changes", "summary", "warnings"} <= set(document)  # the fields before stay
    finally:
        for emulator in started:
            stop(emulator.process)
