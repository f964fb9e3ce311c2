"""The plan benchmark's baseline, run as its own process: read what ``plan`` reads, and nothing more.

``python baseline_parse.py STACK_DIR`` composes every manifest with the C (libyaml) safe loader,
which is the base of the project's ``ManifestLoader`` (node trees via ``yaml.compose_all``, as
``reconciler.manifest.parsing`` does), and decodes the state file with ``json.loads``. It imports
only yaml, json and pathlib: the cost of a Python process that parses the same inputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def main(root: Path) -> None:
    documents = 0
    for path in sorted((root / "manifests").rglob("*.yaml")):
        documents += sum(1 for _ in yaml.compose_all(path.read_text(encoding="utf-8"), Loader=Loader))
    state = json.loads((root / "state" / "reconciler.state.json").read_bytes())
    print(f"{documents} documents, {len(state['runs'])} recorded runs")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
