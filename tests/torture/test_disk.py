"""Disk torture (issue 8 items 1 and 3): the state directory turns read-only, or fills up, mid-apply.

Apply must end with a clean error (exit 1, the real OS error, no traceback); nothing may be reported
or recorded that did not happen; no started execution may be forgotten: once the directory is back,
apply converges with exactly one start per run and the server's outputs.

How the directory is broken, as root (``chmod`` does not stop root) or not:

- read-only: root with CAP_SYS_ADMIN bind-mounts the directory on itself and remounts it read-only
  (writes fail with EROFS); otherwise ``chmod a-w`` on the directory and its files (EACCES), and a
  root without CAP_SYS_ADMIN runs the apply under ``setpriv`` without CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH and CAP_FOWNER, so that the modes bind it too.
- full: root with CAP_SYS_ADMIN puts the directory on a small tmpfs and fills it with a filler file
  (ENOSPC); otherwise the apply process's RLIMIT_FSIZE is lowered to the journal's size with
  ``prlimit`` (EFBIG: Python ignores SIGXFSZ). No LD_PRELOAD, nothing outside the test's tmp_path.

``RECONCILER_TORTURE_NO_MOUNT=1`` takes the unprivileged ways even as root (to test them).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.e2e import Emulator, Result, bind_read_only, no_traceback, run_doc, stop, wait_until
from tests.support.torture import APPLY, QUICK, SEED, ZERO, Stack, converge, judge, report, scaled

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OS_ERRORS = ("Read-only file system", "Permission denied", "No space left on device", "File too large")


def _can_mount() -> bool:
    if os.geteuid() != 0 or os.environ.get("RECONCILER_TORTURE_NO_MOUNT") == "1":
        return False
    probe = Path(f"/tmp/torture-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    except OSError:
        return False
    finally:
        probe.rmdir()


class Breaker:
    """Breaks and restores one state directory (see the module doc for how)."""

    def __init__(self, kind: str, folder: Path, mount: bool) -> None:
        self.kind, self.folder, self.mount = kind, folder, mount
        self.mounted: list[Path] = []

    @property
    def prefix(self) -> list[str]:
        """What the apply runs under: root loses the capabilities that ignore file modes."""
        if self.kind == "read-only" and not self.mount and os.geteuid() == 0:
            return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
        return []

    @property
    def how(self) -> str:
        if self.kind == "read-only":
            if self.mount:
                return "bind mount remounted ro (EROFS)"
            return "chmod a-w, apply under setpriv without DAC caps (EACCES)" if self.prefix else "chmod a-w (EACCES)"
        return "tmpfs filled up (ENOSPC)" if self.mount else "prlimit RLIMIT_FSIZE (EFBIG)"

    def prepare(self) -> None:
        if self.kind == "full" and self.mount:
            self._mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])

    def brk(self, pid: int) -> None:
        if self.kind == "read-only" and self.mount:
            bind_read_only(self.folder, holding=pid)
            self.mounted.append(self.folder)
        elif self.kind == "read-only":
            for path in [*self.folder.iterdir(), self.folder]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        elif self.mount:
            self._fill()
        else:
            journal = self.folder / "reconciler.state.json.journal"
            size = journal.stat().st_size if journal.exists() else 0
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, size))

    def restore(self) -> None:
        if self.kind == "read-only" and self.mount:
            self._unmount()
        elif self.kind == "read-only":
            self.folder.chmod(0o755)
            for path in self.folder.iterdir():
                path.chmod(0o600)
        else:
            (self.folder / "filler").unlink(missing_ok=True)

    def close(self) -> None:
        """Unmount whatever is still mounted, keeping the directory's files (teardown)."""
        if self.kind == "full" and self.mounted:
            saved = {p.name: p.read_bytes() for p in self.folder.iterdir() if p.name != "filler"}
            self._unmount()
            for name, data in saved.items():
                (self.folder / name).write_bytes(data)
        self._unmount()

    def _mount(self, args: list[str]) -> None:
        subprocess.run(["mount", *args, str(self.folder)], check=True)
        self.mounted.append(self.folder)

    def _unmount(self) -> None:
        while self.mounted:
            path = self.mounted.pop()
            if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], capture_output=True)

    def _fill(self) -> None:
        chunk = b"\0" * 65536
        with open(self.folder / "filler", "wb") as handle:
            try:
                while True:
                    handle.write(chunk)
                    handle.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc


@pytest.fixture
def breakers() -> Iterator[list[Breaker]]:
    made: list[Breaker] = []
    yield made
    for breaker in made:
        breaker.close()


class Streamed:
    """A started CLI's stdout and stderr, read by threads while it runs."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self.out.extend, args=(process.stdout,), daemon=True),
            threading.Thread(target=self.err.extend, args=(process.stderr,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def text(self) -> str:
        return "".join(list(self.out))

    def result(self, args: list[str], timeout: float) -> Result:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"reconciler {' '.join(args)} still running after {timeout:.0f} s") from None
        for reader in self.readers:
            reader.join(10)
        return Result(args, self.process.returncode, "".join(self.out), "".join(self.err))


def _completed_lines(out: str) -> set[str]:
    """The runs ``apply --json`` reported completed."""
    done = set()
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("type") == "run_completed":
            done.add(str(doc["run"]))
    return done


@pytest.mark.parametrize("kind", ["read-only", "full"])
def test_state_directory_broken_mid_apply_ends_cleanly_and_forgets_nothing(
    make_emulator: Callable[..., Emulator], make_stack: Callable[..., Stack], breakers: list[Breaker], kind: str
) -> None:
    emulator = make_emulator("--latency", "0.2")
    stack = make_stack(emulator, parallelism=3)
    breaker = Breaker(kind, stack.state_dir, _can_mount())
    breakers.append(breaker)
    breaker.prepare()
    names = [f"d-{i:03d}" for i in range(scaled(30))]
    docs = [run_doc(n, ZERO if i % 3 == 0 else QUICK, {"name": n}) for i, n in enumerate(names)]
    stack.write_runs(docs[:3])
    assert stack.cli(APPLY).code == 0
    stack.write_runs(docs)

    args = [*APPLY, "--json"]
    apply = stack.popen(args, prefix=breaker.prefix)
    try:
        out = Streamed(apply)
        # Broken once apply has reported a completion: the runs that complete after it must not be.
        assert wait_until(lambda: bool(_completed_lines(out.text())), 60, apply), "apply completed nothing"
        breaker.brk(apply.pid)
        broken_at = len(emulator.starts())
        result = no_traceback(out.result(args, 180))
    finally:
        stop(apply)
    time.sleep(0.3)  # a start in flight when apply died still reaches the server
    breaker.restore()

    reported = _completed_lines(result.out)
    runs = stack.state()["runs"]
    server = {s["executionId"]: s["inputs"]["name"] for s in emulator.starts()}
    invented = sorted(n for n, r in runs.items() if (r.get("execution") or {}).get("id") not in (None, *server))
    recorded_done = {n for n, r in runs.items() if (r.get("execution") or {}).get("state") == "completed"}
    claimed = sorted(reported - recorded_done)
    rounds, results = converge(stack)
    verdict = judge(stack, emulator, names)
    report(
        f"disk[{kind}]",
        seed=SEED,
        how=breaker.how,
        runs=len(names),
        starts_when_broken=broken_at,
        apply_exit=result.code,
        reported_completed=len(reported),
        recorded_completed=len(recorded_done),
        reported_but_not_recorded=len(claimed),
        recorded_but_never_started=len(invented),
        converged_after_applies=rounds,
        **verdict.figures,
    )
    assert result.code == 1, str(result)
    assert any(e in result.text for e in OS_ERRORS), f"the OS error is not shown:\n{result}"
    assert claimed == [], f"reported completed but not recorded: {claimed}"
    assert invented == [], f"recorded executions the server never started: {invented}"
    assert rounds > 0, "no convergence:\n" + "\n\n".join(str(r) for r in results[-2:])
    assert verdict.problems() == {}, verdict.problems()
