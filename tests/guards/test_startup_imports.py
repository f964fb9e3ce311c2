"""`reconciler --help` and `reconciler emulator` import only what they use: the suite starts the CLI and
the emulator hundreds of times, and users pay the start-up on every invocation."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

# Read after the command returns, on stderr: every module it imported.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from reconciler.cli.app import cli
    try:
        cli.main(sys.argv[1:], prog_name="reconciler")
    except SystemExit as exit:
        assert not exit.code, exit.code
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
    """
)

# Listing the commands imports every command module, none of the operations, backends or servers.
NOT_FOR_HELP = (
    "httpx",
    "psycopg",
    "deepdiff",
    "starlette",
    "uvicorn",
    "asyncio",
    "reconciler.remote",
    "reconciler.emulator",
    "reconciler.backends",
    "reconciler.operations",
    "pydantic",
    "rich",
    "yaml",
    "reconciler.planning",
    "reconciler.state",
    "reconciler.ui",
    "reconciler.manifest.models",
)

# The emulator reads its catalog and serves: nothing of the client's side.
NOT_FOR_EMULATOR = (
    "rich",
    "httpx",
    "psycopg",
    "deepdiff",
    "reconciler.remote",
    "reconciler.applying",
    "reconciler.backends",
    "reconciler.operations",
    "reconciler.planning",
    "reconciler.desired",
    "reconciler.state",
    "reconciler.manifest.models",
    "reconciler.ui",
    "reconciler.cli.planning_commands",
    "reconciler.cli.apply_commands",
    "reconciler.cli.state_commands",
)


def _loaded(modules: list[str], unwanted: tuple[str, ...]) -> list[str]:
    return [name for name in modules if any(name == m or name.startswith(m + ".") for m in unwanted)]


def test_help_imports_no_operation_backend_or_server() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "emulator" in done.stdout and "validate" in done.stdout  # it listed the commands
    assert _loaded(json.loads(done.stderr.strip().splitlines()[-1]), NOT_FOR_HELP) == []


def test_emulator_imports_nothing_of_the_client() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "emulator", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # uvicorn logs only warnings: the first line is ours
        assert "listening on http://127.0.0.1:" in first, first
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == 0, rest
    assert _loaded(json.loads(rest.strip().splitlines()[-1]), NOT_FOR_EMULATOR) == []
