"""Time `load_stack` on 10,000 generated runs (100 files) against `yaml.compose_all` of the same texts.

Run: .venv/bin/python bench/manifest_load.py [runs] [files]
"""

from __future__ import annotations

import gc
import sys
import time

import yaml

from reconciler.desired.loading import load_stack
from reconciler.manifest.parsing import ManifestLoader

STACK = """apiVersion: reconciler/v1
kind: Stack
metadata: {name: bench}
spec:
  variables:
    owner: {default: platform-team}
"""

RUN = """---
apiVersion: reconciler/v1
kind: WorkflowRun
metadata:
  name: run-{i}
  labels: {{tier: web}}
spec:
  workflow: 6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a
  parameters:
    vmName: vm-{i}
    cpuCount: 2
    powerOn: true
    tags: [prod, web]
    memoryGb: {{type: number, value: 8}}
    owner: ${{var.owner}}
    network: {network}
  timeout: 30m
"""


def generate(runs: int, files: int) -> list[tuple[str, str]]:
    per_file = runs // files
    texts = []
    for f in range(files):
        docs = []
        for j in range(per_file):
            i = f * per_file + j
            network = f"${{runs.run-{i - 1}.outputs.networkId}}" if i % 10 else "10.0.0.0/24"
            docs.append(RUN.format(i=i, network=network))
        texts.append((f"manifests/m{f:03}.yaml", "".join(docs)))
    return texts


def best_of(repeat: int, action: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    texts = generate(runs, files)
    compose_c = best_of(3, lambda: [list(yaml.compose_all(t, Loader=ManifestLoader)) for _, t in texts])
    compose_py = best_of(1, lambda: [list(yaml.compose_all(t, Loader=yaml.SafeLoader)) for _, t in texts])
    gc.disable()
    compose_c_nogc = best_of(3, lambda: [list(yaml.compose_all(t, Loader=ManifestLoader)) for _, t in texts])
    gc.enable()
    load = best_of(3, lambda: load_stack(STACK, "reconciler.yaml", texts, {}, [], {}, lambda p: ""))
    print(f"{runs} runs in {files} files")
    print(f"yaml.compose_all (libyaml, our resolver): {compose_c:.3f}s")
    print(f"yaml.compose_all (pure-Python SafeLoader): {compose_py:.3f}s")
    print(f"yaml.compose_all (libyaml, gc paused):     {compose_c_nogc:.3f}s")
    print(f"load_stack:                                {load:.3f}s")
    print(
        f"ratio load/compose(libyaml): {load / compose_c:.2f}  load/compose(python): {load / compose_py:.2f}  "
        f"load/compose(libyaml, gc paused): {load / compose_c_nogc:.2f}"
    )


if __name__ == "__main__":
    main()
