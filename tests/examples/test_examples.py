"""Every example is run: each stack (and the demo stack) is validated, applied against the emulator
and planned again (empty), with the CLI as a subprocess; the CI pipelines and their scripts only use
commands and options the CLI really has (tests/examples/test_ci_pipelines.py runs them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from reconciler.cli.app import cli
from reconciler.emulator.app import create_app
from reconciler.emulator.serving import load_catalog, running_server
from tests.support.e2e import cli_for_scripts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
STACKS = {
    "demo": (ROOT, []),
    "01-single-run": (EXAMPLES / "01-single-run", []),
    "02-chain-foreach-vars": (EXAMPLES / "02-chain-foreach-vars", ["--var-file", "prod.vars.yaml"]),
    "03-postgres-backend": (EXAMPLES / "03-postgres-backend", []),
}


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with running_server(create_app(load_catalog(None))) as url:
        yield url


def _copy_stack(source: Path, target: Path) -> Path:
    target.mkdir()
    for item in source.iterdir():
        if item.name in ("reconciler.yaml", "manifests", "secrets") or item.suffix == ".yaml":
            if item.is_dir():
                shutil.copytree(item, target / item.name)
            elif item.is_file():
                shutil.copy(item, target / item.name)
    return target


def _run(args: list[str], cwd: Path, env: dict[str, str], expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([cli_for_scripts(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.parametrize("name", sorted(STACKS))
def test_example_stack_applies_and_converges(name: str, tmp_path: Path, emulator_url: str) -> None:
    source, extra = STACKS[name]
    stack = _copy_stack(source, tmp_path / name)
    env = {
        **os.environ,
        "RECONCILER_ENDPOINT": emulator_url,
        "DEMO_API_TOKEN": "demo-token",
        "DEMO_VCD_PASSWORD": "admin",
        "DEMO_TENANT_PASSWORD": "deployer",
        "DEMO_ADMIN_PASSWORD": "s3cret-example",
        "RECONCILER_PG_DSN": PG_DSN,
        "NO_COLOR": "1",
    }
    if name == "03-postgres-backend":
        if not _pg_reachable():
            if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
                pytest.fail(f"PostgreSQL at {PG_DSN} is required (RECONCILER_REQUIRE_PG=1) but unreachable")
            pytest.skip("PostgreSQL unreachable")
        text = (stack / "reconciler.yaml").read_text()
        (stack / "reconciler.yaml").write_text(text.replace("examples-team", f"examples-{uuid.uuid4().hex[:8]}"))
    _run(["validate", *extra], stack, env)
    plan = _run(["plan", "--detailed-exitcode", *extra], stack, env, expect=2)
    assert "to start" in plan.stdout
    applied = _run(["apply", "--auto-approve", *extra], stack, env)
    assert "Apply complete!" in applied.stdout
    _run(["plan", "--detailed-exitcode", *extra], stack, env, expect=0)
    outputs = _run(["output", "--json"], stack, env)
    assert outputs.stdout.strip().startswith("{")
    assert "s3cret-example" not in applied.stdout + outputs.stdout


def _commands(node: click.Command, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    found = {prefix: node}
    if isinstance(node, click.Group):
        ctx = click.Context(node)
        for name in node.list_commands(ctx):
            sub = node.get_command(ctx, name)
            assert sub is not None, name
            found.update(_commands(sub, (*prefix, name)))
    return found


@pytest.mark.parametrize("pipeline", sorted(p.name for p in (EXAMPLES / "ci").glob("*.yml")))
def test_ci_pipeline_uses_real_commands_and_options(pipeline: str) -> None:
    """What a pipeline runs (its run/script steps and the scripts they call) uses real commands and
    options; tests/examples/test_ci_pipelines.py runs them."""
    config = yaml.safe_load((EXAMPLES / "ci" / pipeline).read_text())
    _check_calls(pipeline, _pipeline_shell(config))


def _pipeline_shell(node: object, key: object = None) -> str:
    """The shell text of a pipeline: its ``run``/``script`` steps, then the non-comment lines of each
    ``ci/reconciler/NAME.sh`` they call (examples/ci/scripts/NAME.sh)."""
    if isinstance(node, dict):
        return "\n".join(_pipeline_shell(value, name) for name, value in node.items())
    if isinstance(node, list):
        return "\n".join(_pipeline_shell(item, key) for item in node)
    if not (isinstance(node, str) and key in ("run", "script", "before_script", "after_script")):
        return ""
    text = node
    for script in sorted(set(re.findall(r"ci/reconciler/([\w-]+\.sh)", node))):
        lines = (EXAMPLES / "ci" / "scripts" / script).read_text().splitlines()
        text += "\n" + "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return text


@pytest.mark.parametrize("document", ["README.md", "examples/README.md"])
def test_documented_commands_and_options_exist(document: str) -> None:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / document).read_text(), flags=re.DOTALL)
    _check_calls(document, "\n".join(blocks))


def _check_calls(where: str, text: str) -> None:
    commands = _commands(cli)
    calls = re.findall(r"reconciler ([a-z][^\n|>&;#]*)", text)
    assert calls, f"{where} runs reconciler"
    for call in calls:
        words = [word.rstrip("`\\\"'),:.") for word in call.split()]  # a call quoted in a message
        path: tuple[str, ...] = ()
        while words and (*path, words[0]) in commands:
            path = (*path, words.pop(0))
        assert path, f"{where}: unknown command in 'reconciler {call}'"
        options = {o for p in commands[path].params for o in (*p.opts, *p.secondary_opts)}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"{where}: 'reconciler {call}': no option {word}"
