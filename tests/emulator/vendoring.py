"""The vendored VCD 37.2 definitions: VMware's text with only the four fixes tools need to load it.

``data/vcd-37.2-workflows.swagger.yaml`` is ``shared/reference/vcd-37.2-workflows.swagger.yaml``
(VMware's published 37.2 document, cut to the workflow and session operations) with exactly the
text substitutions of `FIXES` applied, nothing else. Why each one is needed is in
``data/README.md``. The test suite reads the vendored copy only, so it never depends on a ``shared/``
directory beside the checkout; `ORIGINAL_SHA256` lets a test prove that undoing the fixes gives back
VMware's text byte for byte.

Regenerate (from the repository root, with ``shared/`` beside it)::

    python -m tests.emulator.vendoring ../shared/reference/vcd-37.2-workflows.swagger.yaml
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

VENDORED = Path(__file__).parent / "data" / "vcd-37.2-workflows.swagger.yaml"
ORIGINAL_SHA256 = "f891ba12d312f8309338059a3a1b6f7d46be7fe3b869ce98943c7b7d1ba3b3d6"

_JAVA_REGEX_ID = "{id:((?!provider|current).)+}"
_HEADER_WITHOUT_TYPE = "      - name: Authorization\n        in: header\n        required: true\n        x-exportParamName: Authorization\n"
_HEADER_WITH_TYPE = (
    "      - name: Authorization\n        in: header\n        required: true\n        type: string\n"
    "        x-exportParamName: Authorization\n"
)
_OPTIONAL_ID = "      - name: id\n        in: path\n        required: false\n"
_REQUIRED_ID = "      - name: id\n        in: path\n        required: true\n"
_LOCATIONS_PARAMETERS = (
    "      operationId: getAccessibleLocations\n      produces:\n      - application/json;version=37.2\n"
    "      parameters:\n"
)
_LOCATIONS_ID = "      - name: id\n        in: path\n        required: true\n        type: string\n"

# (what VMware wrote, what the vendored copy has, how many times): applied in this order.
FIXES: list[tuple[str, str, int]] = [
    # 1. A header parameter without ``type`` is invalid Swagger 2.0 (every non-body parameter needs one).
    (_HEADER_WITHOUT_TYPE, _HEADER_WITH_TYPE, 2),
    # 2. A path parameter must be ``required: true`` (Swagger 2.0); VMware's generator wrote false.
    (_OPTIONAL_ID, _REQUIRED_ID, 3),
    # 3. ``{id:regex}`` is a JAX-RS path template, not a Swagger one: the parameter would be named
    #    ``id:((?!provider|current).)+``. The literal paths ``/current`` and ``/provider`` take
    #    precedence over ``/{id}`` under the OpenAPI rules, which is what the regex said.
    (_JAVA_REGEX_ID, "{id}", 3),
    # 4. ``/sessions/{id}/accessibleLocations`` uses ``{id}`` without declaring it.
    (_LOCATIONS_PARAMETERS, _LOCATIONS_PARAMETERS + _LOCATIONS_ID, 1),
]


def vendor(original: str) -> str:
    """VMware's text with `FIXES` applied; ValueError when a fix does not apply exactly as counted."""
    text = original
    for before, after, count in FIXES:
        if text.count(before) != count:
            raise ValueError(f"expected {count} occurrence(s) of {before!r}, found {text.count(before)}")
        text = text.replace(before, after)
    return text


def unvendor(vendored: str) -> str:
    """The vendored text with `FIXES` undone (in reverse order): VMware's text again."""
    text = vendored
    for before, after, count in reversed(FIXES):
        if text.count(after) != count:
            raise ValueError(f"expected {count} occurrence(s) of {after!r}, found {text.count(after)}")
        text = text.replace(after, before)
    return text


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.emulator.vendoring ORIGINAL.swagger.yaml", file=sys.stderr)
        return 2
    original = Path(argv[1]).read_text(encoding="utf-8")
    if sha256(original) != ORIGINAL_SHA256:
        print(f"{argv[1]}: not the document the fixes were written for; update ORIGINAL_SHA256", file=sys.stderr)
        return 1
    VENDORED.write_text(vendor(original), encoding="utf-8")
    print(f"wrote {VENDORED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
