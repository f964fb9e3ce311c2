"""Secrets: a SecureString input's value never shows in any output, the state, or a saved plan."""

from __future__ import annotations

from tests.support.e2e import ECHO, SECRET, Emulator, Stack, run_doc

SECRET_VALUE = "zq9-very-secret-Value"
OTHER_VALUE = "zq9-another-secret-Value"


def _runs() -> list[dict[str, object]]:
    password = {"type": "SecureString", "valueFrom": {"env": "E2E_SECRET"}}
    return [
        run_doc("vault", SECRET, {"name": "vault", "password": password}),
        run_doc("after", ECHO, {"name": "${runs.vault.outputs.id}"}),
    ]


def _files(stack: Stack) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in stack.root.rglob("*") if p.is_file()}


def test_secret_never_leaks(stack: Stack, emulator: Emulator) -> None:
    stack.env["E2E_SECRET"] = SECRET_VALUE
    stack.write_runs(_runs())
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        result = stack.cli(list(args))
        assert result.code == code, result
        outputs.extend([result.out, result.err])

    run("validate")
    run("plan")
    run("plan", "--json")
    run("plan", "--markdown")
    run("plan", "--out", "p.plan")
    run("show", "p.plan")
    run("show", "p.plan", "--json")
    run("apply", "p.plan")
    run("show")
    run("show", "--json")
    run("output")
    run("output", "--json")
    run("state", "show", "vault")
    run("state", "pull")
    run("graph")

    stack.env["E2E_SECRET"] = OTHER_VALUE  # a changed secret re-runs, still without showing either value
    planned = stack.cli(["plan", "--json"])
    outputs += [planned.out, planned.err]
    vault = next(c for c in planned.json()["changes"] if c["run"] == "vault")
    assert vault["action"] == "rerun"
    assert vault["inputs"]["password"] == "(sensitive)"
    run("plan")
    run("apply", "--auto-approve")
    run("apply", "--auto-approve", "--json")
    outputs.append(stack.cli(["output", "vault.token", "--raw"]).out)

    for text in [*outputs, *_files(stack).values()]:
        assert SECRET_VALUE not in text
        assert OTHER_VALUE not in text
        assert "tok-" not in text  # the SecureString output is not recorded either
    assert stack.cli(["output", "--json"]).json()["vault"]["token"] == "(sensitive)"
    assert len(emulator.starts()) == 3  # vault twice (two secrets); `after` once (same id both times)
