"""`reconciler plan --no-refresh` imports only what it uses: start-up time is paid on every invocation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# Each of these is used by other commands only (or by plan with --out, --json, or a refresh to do).
NOT_FOR_PLAN = (
    "httpx",
    "psycopg",
    "deepdiff",
    "asyncio",  # the event loop: only commands that talk to the server
    "starlette",
    "uvicorn",
    "reconciler.remote",
    "reconciler.applying",
    "reconciler.emulator",
    "reconciler.backends.postgres",
    "reconciler.state.events",
    "reconciler.cli.apply_commands",
    "reconciler.cli.state_commands",
    "reconciler.cli.emulator_command",
    "reconciler.operations.apply",
    "reconciler.operations.show",
    "reconciler.operations.state",
    "reconciler.planning.saved",
    "reconciler.planning.rendering",
    "reconciler.manifest.schema",
    "reconciler.ui.state_view",
    "reconciler.ui.progress_view",
)

ROOT = Path(__file__).resolve().parents[2]


def test_plan_without_refresh_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    shutil.copy(ROOT / "reconciler.yaml", tmp_path)
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    state = tmp_path / ".demo" / "reconciler.state.json"  # the demo stack's state path: read, nothing recorded
    state.parent.mkdir()
    state.write_text(json.dumps({"version": 1, "serial": 1, "lineage": "L", "salt": "s", "runs": {}}))
    script = textwrap.dedent(
        """
        import json, sys
        from reconciler.cli.app import cli
        try:
            cli.main(["-C", sys.argv[1], "plan", "--no-refresh"], prog_name="reconciler")
        except SystemExit as exit:
            assert not exit.code, exit.code
        print(json.dumps(sorted(sys.modules)), file=sys.stderr)
        """
    )
    env = {**os.environ, "DEMO_ADMIN_PASSWORD": "x"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "7 to start" in done.stdout  # it planned, against the state
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    loaded = [name for name in modules if any(name == m or name.startswith(m + ".") for m in NOT_FOR_PLAN)]
    assert loaded == []
