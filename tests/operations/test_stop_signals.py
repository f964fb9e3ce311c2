"""apply's signals: the first Ctrl-C / SIGTERM asks to stop (nothing new starts), the second ends the
process at once, as that signal's default action does (no cleanup runs)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio, atexit, os, signal, sys
    from reconciler.operations.apply import _stop_on_signals

    atexit.register(lambda: print("cleanup ran", flush=True))
    sig = signal.Signals(int(sys.argv[1]))

    async def main():
        stop = asyncio.Event()
        _stop_on_signals(stop)
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), 30)
        print("asked to stop", flush=True)
        os.kill(os.getpid(), sig)
        await asyncio.sleep(30)
        print("still running", flush=True)

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_second_signal_ends_the_process_at_once(sig: signal.Signals) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(int(sig))], capture_output=True, text=True, timeout=60)
    assert done.returncode == -sig, done.stderr
    assert done.stdout == "asked to stop\n"
    assert "Stopping: nothing new starts" in done.stderr
    assert "Stopped at once" in done.stderr
