"""Liveness torture (issue 8 item 3): the server dies mid-apply, the runs have no ``timeout:``; apply
must end by itself, exit 1 naming the endpoint, within the configured give-up time (stack
``spec.endpoint.giveUpAfter`` or env ``RECONCILER_GIVE_UP_AFTER``), and keep what it started
recorded (planned as ``await``, not started again)."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.support.e2e import Emulator, finish, no_traceback, run_doc, stop, wait_until
from tests.support.torture import APPLY, HOLD, Stack, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

GIVE_UP_SECONDS = 5
MARGIN_SECONDS = 60  # the process bound: startup, the last request's own timeout, writing the state


@pytest.mark.parametrize("where", ["stack", "env"])
def test_apply_gives_up_on_a_dead_server_and_keeps_what_it_started(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack], where: str
) -> None:
    emulator = make_emulator()
    endpoint = {"giveUpAfter": f"{GIVE_UP_SECONDS}s"} if where == "stack" else {}
    stack = make_stack(emulator, **endpoint)
    env = {"RECONCILER_GIVE_UP_AFTER": f"{GIVE_UP_SECONDS}s"} if where == "env" else {}
    names = [f"h-{i}" for i in range(4)]
    stack.write_runs([run_doc(n, HOLD, {"name": n}) for n in names])

    apply = stack.popen(APPLY, env=env)
    try:
        assert wait_until(lambda: len(emulator.starts()) == len(names), 60, apply), "the runs were not started"
        time.sleep(0.5)  # the start answers are recorded
        stop(emulator.process)
        killed_at = time.monotonic()
        result = no_traceback(finish(apply, APPLY, GIVE_UP_SECONDS + MARGIN_SECONDS))
    finally:
        stop(apply)
    seconds = round(time.monotonic() - killed_at, 1)
    host = urlsplit(emulator.url).netloc
    report(
        f"liveness[{where}]", give_up_after=f"{GIVE_UP_SECONDS}s", exit=result.code, seconds_after_server_died=seconds
    )
    assert result.code == 1, str(result)
    assert host in result.text, f"the endpoint {host} is not named:\n{result}"

    runs = stack.state()["runs"]
    assert sorted(runs) == names
    assert all((r.get("execution") or {}).get("id") for r in runs.values()), runs
    planned = stack.cli(["plan", "--no-refresh", "--json"])
    assert {c["run"]: c["action"] for c in planned.json()["changes"]} == dict.fromkeys(names, "await"), planned
