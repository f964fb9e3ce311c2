"""`reconciler init` end to end: the CLI as a subprocess against the emulator over a socket.

- every workflow of the demo catalog: `init --workflow` writes a manifest with each of its inputs that
  validates at once and plans with no error;
- an unknown workflow exits 1 naming it, with the server's message;
- no file is ever replaced without --force;
- the interactive form, answered through stdin;
- no secret reaches any file init writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import reconciler.emulator
from tests.support.e2e import ECHO, PASSWORD, SECRET, Emulator, Result, run_cli, start_emulator, stop

DEMO_CATALOG = Path(reconciler.emulator.__file__).with_name("demo-catalog.yaml")
DEMO_WORKFLOWS: list[dict[str, Any]] = yaml.safe_load(DEMO_CATALOG.read_text(encoding="utf-8"))["workflows"]
DEMO_ENV = {"DEMO_VCD_PASSWORD": "admin"}  # the demo catalog's admin@System


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    emulator = start_emulator(DEMO_CATALOG)
    try:
        yield emulator
    finally:
        stop(emulator.process)


def _init_stack(root: Path, url: str, password_env: str = "E2E_VCD_PASSWORD", *more: str) -> Result:
    root.mkdir(exist_ok=True)
    args = ["init", "--no-input", "--url", url, "--org", "System", "--username", "admin"]
    return run_cli([*args, "--password-env", password_env, *more], cwd=root)


def _secret_envs(value: Any) -> list[str]:
    """The environment variables a manifest's ``valueFrom`` entries read."""
    if isinstance(value, dict):
        found = [value["valueFrom"]["env"]] if isinstance(value.get("valueFrom"), dict) else []
        return found + [e for v in value.values() for e in _secret_envs(v)]
    if isinstance(value, list):
        return [e for v in value for e in _secret_envs(v)]
    return []


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("workflow", DEMO_WORKFLOWS, ids=[str(w["name"]) for w in DEMO_WORKFLOWS])
def test_every_demo_workflow_scaffolds_a_manifest_that_validates_and_plans(
    demo: Emulator, tmp_path: Path, workflow: dict[str, Any]
) -> None:
    root = tmp_path / "stack"
    done = _init_stack(root, demo.url, "DEMO_VCD_PASSWORD")
    assert done.code == 0, done
    done = run_cli(["init", "--workflow", workflow["id"]], env=DEMO_ENV, cwd=root)
    assert done.code == 0, done
    (path,) = (root / "manifests").iterdir()
    text = path.read_text(encoding="utf-8")
    manifest = yaml.safe_load(text)
    assert manifest["spec"]["workflow"] == workflow["id"]
    parameters = manifest["spec"]["parameters"] or {}
    for declared in workflow.get("inputs", []):
        name = declared["name"]
        required = declared.get("required", True)
        if not required and "default" not in declared:
            assert f"# {name}: " in text, name  # optional without default: shown, commented out
            continue
        assert name in parameters, name
        (line,) = [line for line in text.splitlines() if line.startswith(f"    {name}:")]
        assert ("required" in line) == required, line
        if declared["type"] == "SecureString":
            assert parameters[name]["valueFrom"]["env"], name
        elif "default" in declared:
            value = parameters[name]
            assert (value["value"] if isinstance(value, dict) else value) == declared["default"], name
        if declared.get("description"):
            assert f"# {declared['description']}" in text, name

    validated = run_cli(["validate"], env=DEMO_ENV, cwd=root)
    assert validated.code == 0, validated
    assert "not checked" not in validated.err, validated  # init kept the definition: validate checks offline
    secrets = dict.fromkeys(_secret_envs(parameters), "scaffold-secret")
    planned = run_cli(["plan", "--detailed-exitcode"], env={**DEMO_ENV, **secrets}, cwd=root)
    assert planned.code in (0, 2), planned
    assert "error" not in planned.err.lower(), planned
    assert "will be started" in planned.out, planned


def test_all_demo_workflows_in_one_stack_plan_together(demo: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "stack"
    done = _init_stack(root, demo.url, "DEMO_VCD_PASSWORD")
    assert done.code == 0, done
    secrets: dict[str, str] = {}
    for workflow in DEMO_WORKFLOWS:
        done = run_cli(["init", "--workflow", workflow["id"]], env=DEMO_ENV, cwd=root)
        assert done.code == 0, done
    for path in (root / "manifests").iterdir():
        secrets.update(dict.fromkeys(_secret_envs(yaml.safe_load(path.read_text(encoding="utf-8"))), "s"))
    planned = run_cli(["plan", "--json"], env={**DEMO_ENV, **secrets}, cwd=root)
    assert planned.code == 0, planned
    changes = planned.json()["changes"]
    assert sorted(c["workflow"] for c in changes) == sorted(w["id"] for w in DEMO_WORKFLOWS)
    assert {c["action"] for c in changes} == {"start"}


def test_an_unknown_workflow_exits_1_naming_it_with_the_servers_message(emulator: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "stack"
    done = _init_stack(root, emulator.url)
    assert done.code == 0, done
    done = run_cli(["init", "--workflow", "no-such-workflow"], cwd=root)
    assert done.code == 1, done
    assert "no-such-workflow" in done.err and _server_message(emulator, "no-such-workflow") in done.err, done
    assert list((root / "manifests").iterdir()) == []


def _server_message(emulator: Emulator, workflow: str) -> str:
    """What the emulator itself answers for the presentation of ``workflow`` (its CloudAPI message)."""
    headers = {"Accept": "application/json;version=37.2"}
    login = httpx.post(
        f"{emulator.url}/cloudapi/1.0.0/sessions/provider",
        auth=("admin@System", PASSWORD),
        headers=headers,
        timeout=10,
    )
    token = login.headers["x-vmware-vcloud-access-token"]
    answer = httpx.get(
        f"{emulator.url}/cloudapi/workflows/{workflow}/presentation",
        headers={**headers, "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code in (403, 404), answer.text
    message = answer.json()["message"]
    assert isinstance(message, str) and message
    return message


def test_no_file_is_replaced_without_force(emulator: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "stack"
    done = _init_stack(root, emulator.url)
    assert done.code == 0, done
    stack_file = root / "reconciler.yaml"
    stack_file.write_text(stack_file.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    edited = stack_file.read_text(encoding="utf-8")

    again = _init_stack(root, "http://127.0.0.1:1")
    assert again.code == 1 and "already exists" in again.err and "--force" in again.err, again
    assert stack_file.read_text(encoding="utf-8") == edited
    asked = run_cli(["init"], cwd=root, stdin="http://127.0.0.1:1\n")  # refused before asking anything
    assert asked.code == 1 and "already exists" in asked.err and "Endpoint URL" not in asked.err, asked
    assert stack_file.read_text(encoding="utf-8") == edited

    first = run_cli(["init", "--workflow", ECHO, "--name", "echo-1"], cwd=root)
    assert first.code == 0, first
    manifest = root / "manifests" / "echo-1.yaml"
    manifest.write_text("# mine\n", encoding="utf-8")
    second = run_cli(["init", "--workflow", ECHO, "--name", "echo-1"], cwd=root)
    assert second.code == 1 and "already exists" in second.err and "--force" in second.err, second
    assert manifest.read_text(encoding="utf-8") == "# mine\n"
    out = tmp_path / "elsewhere.yaml"
    out.write_text("# also mine\n", encoding="utf-8")
    third = run_cli(["init", "--workflow", ECHO, "--out", str(out)], cwd=root)
    assert third.code == 1 and "already exists" in third.err, third
    assert out.read_text(encoding="utf-8") == "# also mine\n"

    forced = run_cli(["init", "--workflow", ECHO, "--name", "echo-1", "--force"], cwd=root)
    assert forced.code == 0, forced
    assert "kind: WorkflowRun" in manifest.read_text(encoding="utf-8")
    replaced = _init_stack(root, emulator.url, "OTHER_PASSWORD", "--force")
    assert replaced.code == 0, replaced
    assert "OTHER_PASSWORD" in stack_file.read_text(encoding="utf-8")


def test_interactive_init_through_stdin_then_a_workflow_manifest_that_plans(emulator: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "stack"
    root.mkdir()
    answers = [
        "not-a-url",  # asked again
        emulator.url,
        "37.2",  # API version
        "",  # org: the default, System
        "",  # session login (default)
        "admin",
        "the password!",  # not a variable name: asked again
        "E2E_VCD_PASSWORD",
        "",  # local backend (default)
        "",  # state file (default)
        "interactive",  # stack name
    ]
    done = run_cli(["init"], cwd=root, stdin="\n".join(answers) + "\n")
    assert done.code == 0, done
    for prompt in ("Endpoint URL", "API version", "Organization", "Log in with", "Username", "password", "Stack name"):
        assert prompt in done.err, prompt
    assert "not an endpoint URL" in done.err and "not an environment variable name" in done.err, done
    stack = yaml.safe_load((root / "reconciler.yaml").read_text(encoding="utf-8"))
    assert stack["metadata"]["name"] == "interactive"
    endpoint = stack["spec"]["endpoint"]
    assert (endpoint["url"], endpoint["org"], endpoint["apiVersion"]) == (emulator.url, "System", "37.2")
    assert endpoint["auth"] == {"username": "admin", "passwordFrom": {"env": "E2E_VCD_PASSWORD"}}
    validated = run_cli(["validate"], cwd=root)
    assert validated.code == 0, validated

    scaffolded = run_cli(["init", "--workflow", SECRET, "--name", "with-secret"], cwd=root)

    assert scaffolded.code == 0, scaffolded
    assert "WITH_SECRET_PASSWORD" in scaffolded.out, scaffolded
    planned = run_cli(["plan", "--detailed-exitcode"], env={"WITH_SECRET_PASSWORD": "pw"}, cwd=root)
    assert planned.code == 2 and "error" not in planned.err.lower(), planned


def test_input_that_ends_early_exits_1_saying_which_answer_is_missing(tmp_path: Path) -> None:
    done = run_cli(["init"], cwd=tmp_path, stdin="http://127.0.0.1:1\n")
    assert done.code == 1 and "API version" in done.err and "--api-version" in done.err, done
    assert not (tmp_path / "reconciler.yaml").exists()


def test_no_secret_reaches_any_file_init_writes(emulator: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "stack"
    secret_input = "input-secret-7c1e"
    env = {"E2E_VCD_PASSWORD": PASSWORD, "WITH_SECRET_PASSWORD": secret_input, "VCD_TOKEN": "token-secret-51a"}
    done = _init_stack(root, emulator.url)
    assert done.code == 0, done
    outputs = [done]
    outputs.append(run_cli(["init", "--workflow", SECRET, "--name", "with-secret"], env=env, cwd=root))
    outputs.append(run_cli(["plan"], env=env, cwd=root))
    token_root = tmp_path / "token-stack"
    token_root.mkdir()
    args = ["init", "--no-input", "--url", emulator.url, "--auth", "token", "--token-env", "VCD_TOKEN"]
    outputs.append(run_cli([*args, "--backend", "postgres", "--dsn-env", "PG_DSN"], env=env, cwd=token_root))
    assert [r.code for r in outputs] == [0, 0, 0, 0], outputs
    written = _files(root) + _files(token_root)
    assert {p.name for p in written} == {
        "reconciler.yaml",
        "with-secret.yaml",
        "reconciler.state.json.definitions.json",
    }
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in (PASSWORD, secret_input, "token-secret-51a"):
            assert secret not in text, (path, secret)
    assert all(s not in r.out + r.err for r in outputs for s in (PASSWORD, secret_input, "token-secret-51a"))


def test_init_workflow_needs_a_stack_and_a_valid_name(tmp_path: Path) -> None:
    done = run_cli(["init", "--workflow", ECHO], cwd=tmp_path)
    assert done.code == 1 and "reconciler init" in done.err, done
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: t}\n"
        "spec: {endpoint: {url: 'http://127.0.0.1:1', org: System}}\n",
        encoding="utf-8",
    )
    named = run_cli(["init", "--workflow", ECHO, "--name", "Bad_Name"], cwd=tmp_path)
    assert named.code == 1 and "Bad_Name" in named.err and "not a valid run name" in named.err, named
    mixed = run_cli(["init", "--workflow", ECHO, "--url", "http://x"], cwd=tmp_path)
    assert mixed.code == 1 and "--url" in mixed.err, mixed


def test_a_run_name_declared_elsewhere_is_refused_and_a_manifest_outside_the_stack_is_warned(
    emulator: Emulator, tmp_path: Path
) -> None:
    root = tmp_path / "stack"
    done = _init_stack(root, emulator.url)
    assert done.code == 0, done
    assert run_cli(["init", "--workflow", ECHO, "--name", "echo"], cwd=root).code == 0
    clash = run_cli(["init", "--workflow", ECHO, "--name", "echo", "--out", "manifests/other.yaml"], cwd=root)
    assert clash.code == 1 and "already declared at manifests/echo.yaml" in clash.err, clash
    assert not (root / "manifests" / "other.yaml").exists()
    outside = run_cli(["init", "--workflow", ECHO, "--name", "echo-2", "--out", "../loose.yaml"], cwd=root)
    assert outside.code == 0 and "does not read" in outside.err, outside
    assert (tmp_path / "loose.yaml").exists()


def test_flags_that_do_not_fit_together_or_are_missing_exit_1_and_write_nothing(tmp_path: Path) -> None:
    base = ["init", "--no-input", "--url", "http://127.0.0.1:1"]
    cases = [
        (["init", "--no-input"], "--url"),
        ([*base, "--auth", "token", "--password-env", "VCD_PASSWORD"], "--password-env"),
        ([*base, "--token-env", "VCD_TOKEN", "--username", "admin"], "--username"),
        ([*base, "--username", "admin", "--password-env", "hunter2!"], "not an environment variable name"),
        ([*base, "--username", "admin", "--out", "x.yaml"], "--out"),
    ]
    for args, expected in cases:
        done = run_cli(args, cwd=tmp_path)
        assert done.code == 1 and expected in done.err, done
    assert list(tmp_path.iterdir()) == []
