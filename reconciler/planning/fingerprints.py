"""Fingerprints: canonical JSON + sha256, and keyed hashes for secrets.

A run key is the identity of "this workflow with these inputs at this revision". Two runs with the
same key are the same run: apply does not start it again. Secrets enter the key only as an HMAC keyed
with the state's random ``salt``, so neither the key nor the recorded inputs reveal them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from reconciler.state.models import RecordedInput


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. Equal data gives equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def secret_hash(salt: str, secret: Any) -> str:
    digest = hmac.new(salt.encode(), canonical(secret), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def record_input(type_name: str, value: Any, sensitive: bool, salt: str) -> RecordedInput:
    if sensitive:
        return RecordedInput(type=type_name, sensitive=True, hash=secret_hash(salt, value))
    return RecordedInput(type=type_name, value=value)


def run_key(workflow: str, inputs: Mapping[str, RecordedInput], revision: int) -> str:
    body = {
        "workflow": workflow,
        "revision": revision,
        "inputs": {name: _input_body(i) for name, i in inputs.items()},
    }
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def _input_body(recorded: RecordedInput) -> dict[str, Any]:
    if recorded.sensitive:
        return {"type": recorded.type, "hash": recorded.hash}
    return {"type": recorded.type, "value": recorded.value}
