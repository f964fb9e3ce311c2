"""The lifecycle fields through the CLI against the emulator (SPEC 2.2, 3.1): ``spec.movedFrom`` (a
rename that moves the record and starts nothing), ``spec.ignoreChanges`` (a change that re-runs
nothing and is noted) and the stack file's ``spec.defaults`` (timeout and onFailure for runs that set
neither). Starts are counted on the emulator's admin view."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.support.e2e import ECHO, FAILS, READS, SECRET, SLOW, Emulator, Stack, run_doc


def _net_and_web(net: str = "net", **net_spec: Any) -> list[dict[str, Any]]:
    return [
        run_doc(net, ECHO, {"name": "net"}, **net_spec),
        run_doc("web", READS, {"upstream": f"${{runs.{net}.outputs.id}}"}),
    ]


def test_a_rename_with_moved_from_moves_the_record_and_starts_nothing(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs(_net_and_web())
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    before = stack.state()["runs"]
    starts = len(emulator.starts())

    stack.write_runs(_net_and_web("network", movedFrom=["net"]))
    planned = stack.cli(["plan", "--json", "--detailed-exitcode"])
    assert planned.code == 2, planned  # a move changes the state
    document = planned.json()
    assert document["changes"][0] == {
        "run": "network",
        "action": "moved",
        "reason": "declared movedFrom 'net': the record is renamed, nothing starts for the move",
        "workflow": ECHO,
        "inputs": {},
        "diff": [],
        "moved_from": "net",
    }
    assert {(c["run"], c["action"]) for c in document["changes"][1:]} == {("network", "noop"), ("web", "noop")}
    assert document["summary"]["moved"] == 1 and document["summary"]["delete"] == 0
    text = stack.cli(["plan"])
    assert "# net has moved to network (movedFrom; nothing starts)" in text.out, text
    assert "1 to move" in text.out and "0 to start" in text.out
    assert "| `network` | **moved** | from `net`; nothing starts |" in stack.cli(["plan", "--markdown"]).out

    saved = stack.cli(["plan", "--out", "moved.plan"])  # the reviewed plan, applied as it is
    assert saved.code == 0, saved
    shown = stack.cli(["show", "moved.plan"])
    assert shown.code == 0 and "# net has moved to network (movedFrom; nothing starts)" in shown.out, shown
    applied = stack.cli(["apply", "moved.plan"])
    assert applied.code == 0, applied
    assert "moved: net -> network (the record, nothing started for it)" in applied.out, applied
    assert len(emulator.starts()) == starts
    after = stack.state()["runs"]
    assert set(after) == {"network", "web"}
    assert after["network"]["execution"] == before["net"]["execution"]
    assert after["network"]["outputs"] == before["net"]["outputs"]
    assert stack.cli(["output", "network.id", "--raw"]).out.strip() == before["net"]["outputs"]["id"]

    leftover = stack.cli(["plan", "--detailed-exitcode"])  # movedFrom still written: harmless
    assert leftover.code == 0, leftover
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert len(emulator.starts()) == starts


def test_a_rename_with_other_inputs_moves_then_reruns(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("old", ECHO, {"name": "one"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    stack.write_runs([run_doc("new", ECHO, {"name": "two"}, movedFrom=["old"])])
    document = stack.cli(["plan", "--json"]).json()
    assert [(c["run"], c["action"]) for c in document["changes"]] == [("new", "moved"), ("new", "rerun")]
    assert document["changes"][1]["diff"] == [
        {"parameter": "name", "change": "changed", "before": "one", "after": "two"}
    ]
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert emulator.starts_per_name() == {"one": 1, "two": 1}
    assert list(stack.state()["runs"]) == ["new"]


def test_a_moved_from_whose_old_name_was_never_recorded_is_no_action(stack: Stack, emulator: Emulator) -> None:
    stack.write_runs([run_doc("fresh", ECHO, {"name": "fresh"}, movedFrom=["ghost"])])
    document = stack.cli(["plan", "--json"]).json()
    assert [(c["run"], c["action"]) for c in document["changes"]] == [("fresh", "start")]
    assert document["summary"]["moved"] == 0
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0
    assert emulator.starts_per_name() == {"fresh": 1}


def test_ambiguous_moves_are_located_errors_that_change_nothing(stack: Stack) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    serial = stack.state()["serial"]

    stack.write_runs(
        [run_doc("c", ECHO, {"name": "a"}, movedFrom=["a"]), run_doc("d", ECHO, {"name": "b"}, movedFrom=["a"])]
    )
    for args in (["validate"], ["plan"]):
        claimed = stack.cli(args)
        assert claimed.code == 1, claimed
        assert "manifests/runs.yaml:" in claimed.err and "runs 'c' and 'd' both declare movedFrom 'a'" in claimed.err

    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("c", ECHO, {"name": "b"}, movedFrom=["a"])])
    declared = stack.cli(["validate"])
    assert declared.code == 1 and "a run named 'a' is still declared" in declared.err, declared

    stack.write_runs([run_doc("a", ECHO, {"name": "a"}, ignoreChanges=["nmae"])])
    unknown = stack.cli(["plan"])
    assert unknown.code == 1, unknown
    assert (
        "manifests/runs.yaml:" in unknown.err and "ignoreChanges: 'nmae' is not a parameter of this run" in unknown.err
    )

    stack.write_runs([run_doc("b", ECHO, {"name": "b"}, movedFrom=["a"])])
    both = stack.cli(["apply", "--auto-approve"])
    assert both.code == 1, both
    assert "the state records both 'a' and 'b'" in both.err and "manifests/runs.yaml:" in both.err
    assert stack.state()["serial"] == serial


def test_ignore_changes_notes_the_change_and_reruns_only_for_another_parameter(
    stack: Stack, emulator: Emulator
) -> None:
    def runs(note: str, name: str = "web") -> list[dict[str, Any]]:
        return [
            run_doc("web", ECHO, {"name": name, "note": note}, ignoreChanges=["note"]),
            run_doc(
                "vault",
                SECRET,
                {"name": "vault", "password": {"type": "SecureString", "valueFrom": {"env": "SHARED_SECRET"}}},
                ignoreChanges=["password"],
            ),
        ]

    stack.env["SHARED_SECRET"] = "first-s3cret"
    stack.write_runs(runs("cosmetic"))
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert emulator.starts_per_name() == {"web": 1, "vault": 1}

    stack.env["SHARED_SECRET"] = "rotated-s3cret"
    stack.write_runs(runs("reworded"))
    planned = stack.cli(["plan", "--detailed-exitcode"])
    assert planned.code == 0, planned
    assert "~ note: change ignored (ignoreChanges)" in planned.out
    assert "~ password: change ignored (ignoreChanges)" in planned.out
    markdown = stack.cli(["plan", "--markdown"]).out
    assert "- `vault` ~ `password`: change ignored (ignoreChanges)" in markdown
    document = stack.cli(["plan", "--json"]).json()
    ignored = {c["run"]: c["ignored"] for c in document["changes"] if "ignored" in c}
    assert ignored == {
        "web": [{"parameter": "note", "change": "changed", "before": "cosmetic", "after": "reworded"}],
        "vault": [{"parameter": "password", "change": "changed", "before": "(sensitive)", "after": "(sensitive)"}],
    }
    everything = planned.out + planned.err + markdown + str(document)
    assert "s3cret" not in everything
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    assert len(emulator.starts()) == 2

    stack.write_runs(runs("reworded", name="web-2"))  # another parameter: a re-run, sending the new note
    rerun = stack.cli(["plan", "--json"]).json()
    assert {c["run"]: c["action"] for c in rerun["changes"]} == {"web": "rerun", "vault": "noop"}
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    last = emulator.starts()[-1]["inputs"]
    assert (last["name"], last["note"]) == ("web-2", "reworded")
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0


def test_stack_defaults_give_timeout_and_on_failure_to_runs_without_their_own(stack: Stack, emulator: Emulator) -> None:
    stack.write_stack(defaults={"timeout": "1s", "onFailure": "retry", "maxAttempts": 2})
    stack.write_runs(
        [
            run_doc("hung", SLOW, {"name": "stuck-1"}),  # the default timeout: apply stops waiting after 1 s
            run_doc("patient", SLOW, {"name": "ok-1"}, timeout="30s"),
            run_doc("flaky", FAILS, {"name": "bad-1"}),  # the default onFailure: retry, maxAttempts 2
            run_doc("firm", FAILS, {"name": "bad-2"}, onFailure="stop"),
        ]
    )
    first = stack.cli(["apply", "--auto-approve"])
    assert first.code == 1, first
    assert "timed out" in first.out
    runs = stack.state()["runs"]
    assert runs["hung"]["execution"]["state"] == "running"
    assert runs["patient"]["execution"]["state"] == "completed"

    planned = stack.cli(["plan", "--json", "--no-refresh"]).json()
    actions = {c["run"]: c["action"] for c in planned["changes"]}
    assert actions == {"hung": "await", "patient": "noop", "flaky": "retry", "firm": "failed"}
    retried = stack.cli(["apply", "--auto-approve"])
    assert retried.code == 1, retried  # flaky fails again; hung still times out
    assert emulator.starts_per_name()["bad-1"] == 2 and emulator.starts_per_name()["bad-2"] == 1
    final = stack.cli(["plan", "--json", "--no-refresh"]).json()
    assert {c["run"]: c["action"] for c in final["changes"]}["flaky"] == "failed"  # maxAttempts 2 reached


PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_workspace() -> Iterator[str]:
    """A workspace of its own in the default schema, its rows removed afterwards."""
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    name = f"moves-{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        for table in ("states", "runs", "locks", "fences", "definitions"):
            conn.execute(f"DELETE FROM reconciler.{table} WHERE workspace = %s", [name])


@pytest.mark.postgres
def test_a_rename_moves_the_record_in_a_postgres_workspace(stack: Stack, emulator: Emulator, pg_workspace: str) -> None:
    path = stack.root / "reconciler.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["spec"]["backend"] = {"type": "postgres", "dsnFrom": {"env": "E2E_PG_DSN"}, "workspace": pg_workspace}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stack.env["E2E_PG_DSN"] = PG_DSN
    stack.write_runs(_net_and_web())
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    before = stack.state()
    starts = len(emulator.starts())

    stack.write_runs(_net_and_web("network", movedFrom=["net"]))
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 2
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    after = stack.state()
    assert len(emulator.starts()) == starts
    assert stack.cli(["state", "list"]).out.split() == ["network", "web"]
    assert after["runs"]["network"] == before["runs"]["net"] and after["serial"] == before["serial"] + 1
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0


def _fleet(size_c: int = 20, cache: str = "cache", db_note: str = "v1", **cache_spec: Any) -> list[dict[str, Any]]:
    """23 runs: net, 10 web (forEach over a list of objects), 10 app (forEach over a map of objects,
    each reading its web by a key-built reference), db (ignoreChanges: note), and a cache."""
    keys = "abcdefghij"
    items = [{"name": k, "size": size_c if k == "c" else 10} for k in keys]
    return [
        run_doc("net", ECHO, {"name": "net"}),
        run_doc("web", ECHO, {"name": "web-${each.key}", "note": "size-${each.value.size}"}, forEach=items),
        run_doc(
            "app",
            READS,
            {"upstream": "${runs.web-${each.key}.outputs.id}"},
            forEach={k: {"tier": "app"} for k in keys},
        ),
        run_doc("db", ECHO, {"name": "db", "note": db_note}, ignoreChanges=["note"]),
        run_doc(cache, ECHO, {"name": "cache"}, **cache_spec),
    ]


def test_a_23_run_stack_with_a_rename_objects_a_key_built_reference_and_an_ignored_change(
    stack: Stack, emulator: Emulator
) -> None:
    stack.write_runs(_fleet())
    first = stack.cli(["apply", "--auto-approve"])
    assert first.code == 0, first
    assert len(emulator.starts()) == 23 and len(stack.state()["runs"]) == 23

    # cache renamed, db's ignored note changed, web-c's size changed (its id, which app-c reads, is not)
    stack.write_runs(_fleet(size_c=30, cache="memcache", db_note="v2", movedFrom=["cache"]))
    planned = stack.cli(["plan", "--json", "--detailed-exitcode"])
    assert planned.code == 2, planned
    document = planned.json()
    acted = [(c["run"], c["action"]) for c in document["changes"] if c["action"] != "noop"]
    assert acted == [("memcache", "moved"), ("app-c", "rerun"), ("web-c", "rerun")]
    app_c = next(c for c in document["changes"] if c["run"] == "app-c")
    assert app_c["reason"].startswith("inputs depend on outputs known after apply")  # decided once web-c is done
    assert {k: v for k, v in document["summary"].items() if v} == {"moved": 1, "rerun": 2, "noop": 21}
    assert [c["ignored"] for c in document["changes"] if "ignored" in c] == [
        [{"parameter": "note", "change": "changed", "before": "v1", "after": "v2"}]
    ]
    applied = stack.cli(["apply", "--auto-approve"])
    assert applied.code == 0, applied
    starts = emulator.starts()
    assert len(starts) == 24 and (starts[-1]["inputs"]["name"], starts[-1]["inputs"]["note"]) == ("web-c", "size-30")
    runs = stack.state()["runs"]
    assert len(runs) == 23 and "memcache" in runs and "cache" not in runs
    assert stack.cli(["plan", "--detailed-exitcode"]).code == 0
