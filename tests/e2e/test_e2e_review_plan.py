"""A plan a reviewer can take in, through the CLI (issue 11, part 4): the grouped order in text,
Markdown and JSON; failed runs under "No changes"; `show PLANFILE` as `plan` printed it; an imported
run's diff; `output --json NAME`, `--raw` on a sensitive output; `plan --lock-timeout`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import yaml

from tests.support.e2e import ECHO, FAILS, SECRET, Emulator, Stack, run_doc, stop

HEADER = "will perform the following actions"


def _positions(text: str, marks: list[str]) -> list[int]:
    found = [text.find(mark) for mark in marks]
    assert -1 not in found, list(zip(marks, found, strict=True))
    return found


def test_the_plan_is_grouped_by_action_then_alphabetical_in_text_markdown_and_json(
    stack: Stack, emulator: Emulator
) -> None:
    stack.write_runs(
        [
            run_doc("zz-base", ECHO, {"name": "base"}),
            run_doc("mid", ECHO, {"name": "mid"}),
            run_doc("gone", ECHO, {"name": "gone"}),
        ]
    )
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    # dependency order: zz-base before aa-top; the review order: starts (aa-top, mm-new), then the
    # re-run (zz-base), then the delete (gone), then the unchanged run (mid, in JSON only)
    stack.write_runs(
        [
            run_doc("zz-base", ECHO, {"name": "base-2"}),
            run_doc("aa-top", ECHO, {"name": "${runs.zz-base.outputs.id}"}),
            run_doc("mid", ECHO, {"name": "mid"}),
            run_doc("mm-new", ECHO, {"name": "new"}),
        ]
    )
    expected = ["aa-top", "mm-new", "zz-base", "gone"]

    text = stack.cli(["plan", "--no-refresh"])
    assert text.code == 0, text
    positions = _positions(text.out, [f"# {run} " for run in expected])
    assert positions == sorted(positions), text.out

    markdown = stack.cli(["plan", "--no-refresh", "--markdown"])
    assert markdown.code == 0, markdown
    positions = _positions(markdown.out, [f"| `{run}` |" for run in expected])
    assert positions == sorted(positions), markdown.out

    document = stack.cli(["plan", "--no-refresh", "--json"])
    assert document.code == 0, document
    assert [(c["run"], c["action"]) for c in document.json()["changes"]] == [
        ("aa-top", "start"),
        ("mm-new", "start"),
        ("zz-base", "rerun"),
        ("gone", "delete"),
        ("mid", "noop"),
    ]

    helped = stack.cli(["plan", "--help"])
    assert "grouped by action" in helped.out and "reconciler graph" in helped.out


def test_failed_runs_show_under_no_changes_in_text_and_markdown_without_the_actions_header(
    stack: Stack, emulator: Emulator
) -> None:
    stack.write_runs([run_doc("fine", ECHO, {"name": "fine"}), run_doc("broken", FAILS, {"name": "bad-quota"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 1

    text = stack.cli(["plan", "--detailed-exitcode"])
    assert text.code == 0, text
    assert HEADER not in text.out
    assert "# broken failed and will not be retried" in text.out
    assert "quota exceeded" in text.out
    assert "No changes." in text.out and "1 failed run(s) will not be retried" in text.out

    markdown = stack.cli(["plan", "--markdown"])
    assert markdown.code == 0, markdown
    assert HEADER not in markdown.out
    assert "No changes. 1 run(s) unchanged. 1 failed run(s) will not be retried." in markdown.out
    assert "| `broken` | **failed** |" in markdown.out and "quota exceeded" in markdown.out


def test_show_planfile_prints_the_plan_exactly_as_plan_printed_it(stack: Stack, emulator: Emulator) -> None:
    stack.env["E2E_SECRET"] = "first-secret-value"
    secret = {"type": "SecureString", "valueFrom": {"env": "E2E_SECRET"}}
    stack.write_runs(
        [
            run_doc("vault", SECRET, {"name": "vault", "password": secret}),
            run_doc("web", ECHO, {"name": "web", "note": "small"}),
            run_doc("old", ECHO, {"name": "old"}),
        ]
    )
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    stack.write_runs(
        [
            run_doc("vault", SECRET, {"name": "vault", "password": secret}),
            run_doc("web", ECHO, {"name": "web", "note": "large"}),
            run_doc("new", ECHO, {"name": "${runs.web.outputs.id}"}),
        ]
    )
    planned = stack.cli(["plan", "--out", "p.plan"])
    assert planned.code == 0, planned
    trailer = "\nSaved the plan to p.plan. To perform exactly these actions: reconciler apply p.plan\n"
    assert planned.out.endswith(trailer), planned

    shown = stack.cli(["show", "p.plan"])
    assert shown.code == 0, shown
    assert shown.out == planned.out.removesuffix(trailer)
    assert '~ note = "small" -> "large"' in shown.out  # the diff, not only the action
    assert "+ name = (known after apply)" in shown.out
    assert "first-secret-value" not in shown.out


def test_an_imported_run_whose_inputs_differ_shows_old_to_new(
    make_stack: Callable[..., Stack], emulator: Emulator
) -> None:
    elsewhere = make_stack(emulator, "elsewhere")  # an execution started by someone else, before us
    elsewhere.write_runs([run_doc("web", ECHO, {"name": "web", "note": "made by hand"})])
    assert elsewhere.cli(["apply", "--auto-approve"]).code == 0
    execution = elsewhere.state()["runs"]["web"]["execution"]["id"]

    ours = make_stack(emulator, "ours")
    ours.write_runs([run_doc("web", ECHO, {"name": "web", "note": "as declared"})])
    imported = ours.cli(["import", "web", execution])
    assert imported.code == 0, imported

    planned = ours.cli(["plan", "--no-refresh"])
    assert planned.code == 0, planned
    assert "# web will be re-run (inputs changed)" in planned.out
    assert '~ note = "made by hand" -> "as declared"' in planned.out, planned.out
    assert "+ note" not in planned.out and "name =" not in planned.out  # name is the same: not in the diff


def test_output_json_of_one_output_is_its_bare_value_and_raw_refuses_a_sensitive_one(
    stack: Stack, emulator: Emulator
) -> None:
    stack.env["E2E_SECRET"] = "the-password"
    secret = {"type": "SecureString", "valueFrom": {"env": "E2E_SECRET"}}
    stack.write_runs([run_doc("vault", SECRET, {"name": "vault", "password": secret})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0

    everything = stack.cli(["output", "--json"])
    assert everything.code == 0, everything
    ident = everything.json()["vault"]["id"]
    assert everything.json()["vault"]["token"] == "(sensitive)"  # SPEC 3: {"RUN": {"PARAM": value}}
    assert stack.cli(["output", "vault", "--json"]).json() == everything.json()
    one = stack.cli(["output", "vault.id", "--json"])
    assert one.code == 0 and one.json() == {"vault": {"id": ident}}, one  # SPEC 3: the same shape, narrowed
    assert stack.cli(["output", "vault.id", "--raw"]).out == f"{ident}\n"

    refused = stack.cli(["output", "vault.token", "--raw"])
    assert refused.code == 1, refused
    assert refused.out == ""  # nothing a TOKEN=$(...) could take for the value
    assert "vault.token is sensitive" in refused.err and "--show-sensitive" in refused.err

    shown = stack.cli(["output", "vault.token", "--raw", "--show-sensitive"])
    assert shown.code == 0, shown
    token = shown.out.removesuffix("\n")
    assert token.startswith("tok-") and len(token) == len("tok-") + 24  # the catalog's template
    assert stack.cli(["output", "vault.token", "--json", "--show-sensitive"]).json() == {"vault": {"token": token}}
    assert token not in stack.state_path.read_text()  # read from the server, never kept


HOLD = """
import sys
from pathlib import Path
from reconciler.backends.local import LocalBackend
from reconciler.backends.postgres import PostgresBackend
kind, where = sys.argv[1], sys.argv[2]
backend = LocalBackend(Path(where)) if kind == "local" else PostgresBackend(where, sys.argv[3])
with backend.lock("e2e-writer", 0) as info:
    print(info.id, flush=True)
    sys.stdin.readline()
    state = backend.read()
    runs = {name: record for name, record in state.runs.items() if name != "a"}
    backend.write(state.model_copy(update={"runs": runs, "serial": state.serial + 1}), state.serial)
"""
PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_kind(request: pytest.FixtureRequest, stack: Stack) -> Iterator[list[str]]:
    """The writer's arguments for the stack's backend: its local state file, or a PostgreSQL workspace
    of its own (removed afterwards)."""
    if request.param == "local":
        yield ["local", str(stack.state_path)]
        return
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    workspace = f"review-plan-{uuid.uuid4().hex[:10]}"
    path = stack.root / "reconciler.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["spec"]["backend"] = {"type": "postgres", "dsnFrom": {"env": "E2E_PG_DSN"}, "workspace": workspace}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stack.env["E2E_PG_DSN"] = PG_DSN
    try:
        yield ["postgres", PG_DSN, workspace]
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            for table in ("states", "runs", "locks", "fences", "definitions"):
                conn.execute(f"DELETE FROM reconciler.{table} WHERE workspace = %s", [workspace])


def test_plan_lock_timeout_waits_for_the_writer_and_plans_from_the_state_it_leaves(
    stack: Stack, emulator: Emulator, backend_kind: list[str]
) -> None:
    stack.write_runs([run_doc("a", ECHO, {"name": "a"}), run_doc("b", ECHO, {"name": "b"})])
    assert stack.cli(["apply", "--auto-approve"]).code == 0
    waiting: subprocess.Popen[str] | None = None
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD, *backend_kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdin is not None
        lock_id = writer.stdout.readline().strip()
        assert lock_id, "the writer did not take the lock"

        unlocked = stack.cli(["plan", "--no-refresh"])  # no flag: no lock, the state as it is now
        assert unlocked.code == 0 and "No changes." in unlocked.out, unlocked

        at_once = stack.cli(["plan", "--no-refresh", "--lock-timeout", "0s"])
        assert at_once.code == 1, at_once
        assert "locked" in at_once.err and lock_id in at_once.err and "e2e-writer" in at_once.err

        args = ["plan", "--no-refresh", "--lock-timeout", "60s"]
        waiting = stack.popen(args)
        time.sleep(1.5)  # let it reach the lock (were it not waiting, it would read the state unchanged)
        assert waiting.poll() is None, "plan --lock-timeout did not wait for the writer"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.wait(timeout=20) == 0
        out, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, out + err
        assert "# a will be started (not yet run)" in out, out + err  # the writer dropped a's record
        assert "Plan: 1 to start" in out and "Traceback" not in err
    finally:
        stop(writer)
        if waiting is not None:
            stop(waiting)
