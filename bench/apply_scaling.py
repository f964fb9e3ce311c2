"""``apply-2000`` at parallelism 10, 50 and 200 (and ``apply-20000`` at 200), each as a ratio against a
minimal thread-pool client doing the same work against the same emulator in the same run.

The reference (``--reference``, run as its own process): P threads, each with one keep-alive
``http.client`` connection (the standard library's HTTP client, under ``urllib``), log in once, then
for every run ``POST .../executions`` (the start, with the same parameters apply sends) and, once the
workflow's duration has passed since its start, ``GET .../executions/{id}`` until it is completed (its
outputs): the two requests per run that apply cannot do without, and nothing else (no state, no
plan, no retries). Both sides are whole processes timed spawn to exit (`processes.measure`), so apply
pays its interpreter start, imports, planning and state writes; the reference pays its start too.

Also measured: the emulator's own capacity (requests/s it answers with no latency, P=50 threads of
the reference asking ``GET .../state``), since on 2 cores every side shares them with it.

    .venv/bin/python bench/apply_scaling.py [--runs 2000] [--parallelism 10,50,200] [--large 20000] [--quick]

Exit 0 with the table (a report), 1 when a benchmark failed (see bench/README.md).
"""

from __future__ import annotations

import argparse
import base64
import heapq
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import processes
import workload
from figures import Figure, memory_line, table
from processes import BenchError, Measured

LATENCY = 0.05
DURATION = 2.0
RSS_LIMIT_MB = 500.0
_PROFILE: Path | None = None  # --profile


@dataclass(frozen=True)
class Pair:
    runs: int
    parallelism: int
    apply: Measured
    reference: Measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--parallelism", default="10,50,200")
    parser.add_argument("--large", type=int, default=20000, help="runs of the linearity figure at P=200 (0: none)")
    parser.add_argument("--quick", action="store_true", help="300 runs, P=10,50, no large run: to try it out")
    parser.add_argument(
        "--repeat", type=int, default=1, help="pairs measured per size, alternating; the fastest of each side kept"
    )
    parser.add_argument("--reference", nargs=4, metavar=("URL", "P", "RUNS", "DURATION"), help=argparse.SUPPRESS)
    parser.add_argument("--capacity", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="record each apply with py-spy (pip install py-spy; samples of the thread holding the GIL: CPU, not waits) into DIR/apply-RUNS-pP.txt (collapsed stacks; "
        "timings of profiled runs are not comparable)",
    )
    args = parser.parse_args(argv)
    if args.reference:
        url, p, runs, duration = args.reference
        return _reference(url, int(p), int(runs), float(duration))
    if args.capacity:
        return _capacity(args.capacity)
    if args.quick:
        args.runs, args.parallelism, args.large = 300, "10,50", 0
    sizes = [(args.runs, int(p)) for p in args.parallelism.split(",")]
    _compile_package()
    global _PROFILE
    _PROFILE = args.profile
    if args.large:
        sizes.append((args.large, 200))
    try:
        figures, memory, log = _sweep(sizes, max(1, args.repeat))
    except BenchError as err:
        print(f"FAILED {err}", file=sys.stderr)
        return 1
    print("\n".join(log), "", table(figures), "", "peak memory:", *memory, sep="\n")
    return 0


def _compile_package() -> None:
    """As an installed package is (see bench/run.py): else, with PYTHONDONTWRITEBYTECODE set, every
    measured process compiles every module again. The package the measured processes import."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("reconciler")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def _sweep(sizes: list[tuple[int, int]], repeat: int) -> tuple[list[Figure], list[str], list[str]]:
    figures: list[Figure] = []
    memory: list[str] = []
    log: list[str] = []
    pairs: dict[tuple[int, int], Pair] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        root = Path(tmp)
        catalog = workload.write_catalog(root, DURATION)
        with processes.emulator(catalog, latency=0.0, workdir=_mkdir(root / "capacity")) as url:
            capacity = processes.check(_measure_self(["--capacity", url], root, 60, "capacity"))
            log.append(f"emulator capacity (no latency, 50 threads, GET state): {capacity.stdout.strip()}")
        for n, (runs, p) in enumerate(sizes):
            references, applies = [], []
            for r in range(repeat):  # a fresh emulator for each pair: both sides start from no executions
                with processes.emulator(catalog, latency=LATENCY, workdir=_mkdir(root / f"emu{n}-{r}")) as url:
                    args = ["--reference", url, str(p), str(runs), str(DURATION)]
                    references.append(processes.check(_measure_self(args, root, 600, f"reference-{runs}-P{p}")))
                    applies.append(_apply(root / f"stack{n}-{r}", url, runs, p))
            reference = min(references, key=lambda m: m.wall)
            applied = min(applies, key=lambda m: m.wall)
            if repeat > 1:
                log.append(
                    f"apply-{runs} P={p} walls: apply {', '.join(f'{m.wall:.2f}' for m in applies)} s; "
                    f"reference {', '.join(f'{m.wall:.2f}' for m in references)} s"
                )
            pairs[(runs, p)] = Pair(runs, p, applied, reference)
            log.append(
                f"apply-{runs} P={p}: {applied.wall:.2f}s wall, {applied.cpu:.2f}s CPU "
                f"({applied.cpu / (2 * runs) * 1e3:.2f} ms per request at 2 per run), {applied.maxrss_kb / 1024:.0f} MB; "
                f"reference {reference.wall:.2f}s wall, {reference.cpu:.2f}s CPU "
                f"({reference.cpu / (2 * runs) * 1e3:.2f} ms per request: apply uses {applied.cpu / reference.cpu:.1f}x its CPU)"
            )
            memory.append(memory_line(f"apply-{runs} P={p}", applied.maxrss_kb, runs))
            figures.append(Figure(f"apply-{runs} P={p}", applied.wall, reference.wall, 1.3, note=_note(n, runs, p)))
            figures.append(
                Figure(f"apply-{runs} P={p} cpu/req", applied.cpu / (2 * runs) * 1e3, 1.0, 1.0, unit="ms", note="")
            )
    _linearity(pairs, sizes, figures)
    return figures, memory, log


def _note(n: int, runs: int, p: int) -> str:
    if n:
        return ""
    return (
        f"baseline = the minimal thread-pool client (P threads, keep-alive http.client, start + read per run) "
        f"against the same emulator ({LATENCY:g}s latency, {DURATION:g}s workflows); cpu/req = apply's CPU "
        f"over 2 requests per run, against the 1 ms target"
    )


def _linearity(pairs: dict[tuple[int, int], Pair], sizes: list[tuple[int, int]], figures: list[Figure]) -> None:
    large = [(r, p) for r, p in sizes if p == 200 and r > min(r2 for r2, _ in sizes)]
    small = [(r, p) for r, p in sizes if p == 200 and (r, p) not in large]
    if not large or not small:
        return
    big, base = pairs[large[0]], pairs[small[0]]
    figures.append(
        Figure(
            f"apply-{big.runs} / apply-{base.runs}",
            big.apply.wall,
            base.apply.wall,
            1.2 * big.runs / base.runs,
            note="linearity at P=200 (target: 1.2x the ratio of runs, 12x for 10x)",
        )
    )
    figures.append(
        Figure(f"apply-{big.runs} peak RSS", big.apply.maxrss_kb / 1024, RSS_LIMIT_MB, 1.0, unit="MB", note="")
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _measure_self(args: list[str], cwd: Path, timeout: float, label: str) -> Measured:
    return processes.measure(
        [processes.PYTHON, str(Path(__file__).resolve()), *args], cwd=cwd, timeout=timeout, label=label
    )


def _apply(folder: Path, url: str, runs: int, parallelism: int) -> Measured:
    folder.mkdir()
    workload.write_stack(folder, runs, max(1, runs // 100))
    env = {**os.environ, "RECONCILER_ENDPOINT": url, workload.PASSWORD_ENV: workload.PASSWORD, "NO_COLOR": "1"}
    argv = [processes.RECONCILER, "apply", "--auto-approve", "--parallelism", str(parallelism), "--no-color"]
    if _PROFILE is not None:
        _PROFILE.mkdir(parents=True, exist_ok=True)
        out = _PROFILE.resolve() / f"apply-{runs}-p{parallelism}.txt"
        argv = [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--gil",
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--",
            *argv,
        ]
    result = processes.check(
        processes.measure(argv, cwd=folder, timeout=900, env=env, label=f"apply-{runs} P={parallelism}")
    )
    doc = json.loads((folder / "state" / "reconciler.state.json").read_bytes())
    done = sum(1 for r in doc["runs"].values() if (r.get("execution") or {}).get("state") == "completed")
    if done != runs:
        raise BenchError(f"apply-{runs} P={parallelism}: {done} runs recorded as completed, expected {runs}")
    return result


# ------------------------------------------------------------------------------ the reference client


class _Session:
    """One keep-alive connection of the reference client, logged in with the shared token."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json;version=37.1"}

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, str | None]:
        headers = {**self.headers, "Content-Type": "application/json"} if body else self.headers
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read(), response.getheader("Location")


def _login(url: str) -> str:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    basic = base64.b64encode(f"admin@System:{workload.PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Accept": "application/json;version=37.1"}
    connection.request("POST", "/cloudapi/1.0.0/sessions/provider", headers=headers)
    response = connection.getresponse()
    response.read()
    token = response.getheader("X-VMWARE-VCLOUD-ACCESS-TOKEN")
    if response.status != 200 or not token:
        raise SystemExit(f"reference login failed: {response.status}")
    return token


def _start_body(i: int) -> bytes:
    def param(name: str, kind: str, value: object) -> dict[str, object]:
        return {"name": name, "type": kind, "value": {kind: {"value": value}}}

    name = workload.run_name(i)
    parameters = [
        param("vmName", "string", name),
        param("cpuCount", "number", 1 + i % 8),
        param("owner", "string", "platform-team"),
    ]
    return json.dumps({"parameters": parameters}).encode()


def _reference(url: str, parallelism: int, runs: int, duration: float) -> int:
    """Start every run and read each once it is completed, with ``parallelism`` threads."""
    token = _login(url)
    executions = f"/cloudapi/workflows/{workload.WORKFLOW}/executions"
    lock = threading.Lock()
    next_run = iter(range(runs))
    due: list[tuple[float, str]] = []  # (when to read it, execution id)
    done = [0]
    failures: list[str] = []

    def work() -> None:
        session = _Session(url, token)
        while True:
            with lock:
                if failures or done[0] == runs:
                    return
                read = heapq.heappop(due) if due and due[0][0] <= time.monotonic() else None
                start = None if read else next(next_run, None)
            if read is None and start is None:
                time.sleep(0.01)
                continue
            if start is not None:
                status, body, location = session.call("POST", executions, _start_body(start))
                if status >= 300:
                    failures.append(f"start: {status}")
                    return
                eid = json.loads(body)["id"] if body else (location or "").rstrip("/").split("/")[-1]
                with lock:
                    heapq.heappush(due, (time.monotonic() + duration, eid))
                continue
            assert read is not None
            status, body, _ = session.call("GET", f"{executions}/{read[1]}")
            state = json.loads(body).get("state") if status == 200 else None
            with lock:
                if state == "completed":
                    done[0] += 1
                else:
                    heapq.heappush(due, (time.monotonic() + 0.2, read[1]))

    threads = [threading.Thread(target=work) for _ in range(parallelism)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(failures[0], file=sys.stderr)
        return 1
    print(f"{done[0]} runs completed")
    return 0


def _capacity(url: str, threads: int = 50, seconds: float = 3.0) -> int:
    token = _login(url)
    session = _Session(url, token)
    _, body, location = session.call("POST", f"/cloudapi/workflows/{workload.WORKFLOW}/executions", _start_body(0))
    eid = json.loads(body)["id"] if body else (location or "").rstrip("/").split("/")[-1]
    path = f"/cloudapi/workflows/{workload.WORKFLOW}/executions/{eid}/state"
    counts = [0] * threads
    end = time.monotonic() + seconds

    def work(n: int) -> None:
        own = _Session(url, token)
        while time.monotonic() < end:
            own.call("GET", path)
            counts[n] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(f"{sum(counts) / seconds:.0f} requests/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
