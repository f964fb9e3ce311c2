"""Fingerprints: canonical JSON + sha256, and keyed hashes for secrets.

A run key is the identity of "this workflow with these inputs at this revision". Two runs with the
same key are the same run: apply does not start it again. Secrets enter the key only as an HMAC keyed
with the state's random ``salt``, so neither the key nor the recorded inputs reveal them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from typing import Any

from reconciler.state.models import RecordedInput, RunRecord


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. Equal data gives equal bytes."""
    return _CANONICAL.encode(value).encode()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def secret_hash(salt: str, secret: Any) -> str:
    digest = hmac.new(salt.encode(), canonical(secret), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def input_body(type_name: str, value: Any, sensitive: bool, salt: str) -> dict[str, Any]:
    """What of one input enters the run key (and the state): the value, or a secret's keyed hash."""
    if sensitive:
        return {"type": type_name, "hash": secret_hash(salt, value)}
    return {"type": type_name, "value": value}


def record_input(type_name: str, value: Any, sensitive: bool, salt: str) -> RecordedInput:
    body = input_body(type_name, value, sensitive, salt)
    return RecordedInput(type=type_name, value=body.get("value"), sensitive=sensitive, hash=body.get("hash"))


def key_of(workflow: str, bodies: Mapping[str, Mapping[str, Any]], revision: int) -> str:
    """The run key: sha256 of the `canonical` JSON of the workflow, the revision and the input bodies
    (`input_body`). This one serialisation defines every key a state holds."""
    body = {"workflow": workflow, "revision": revision, "inputs": bodies}
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def recorded_key(record: RunRecord, ignored: Collection[str] = ()) -> str:
    """The run key of what ``record`` says was sent (its recorded inputs hold exactly the `input_body`
    of each input), without the parameters in ``ignored``.

    A record's stored key left out the parameters ignored when it started; this is the key it has
    under today's ``ignoreChanges``, so that adding or removing a name there re-runs nothing."""
    bodies = {name: _recorded_body(i) for name, i in record.inputs.items() if name not in ignored}
    return key_of(record.workflow, bodies, record.revision)


def _recorded_body(recorded: RecordedInput) -> dict[str, Any]:
    if recorded.sensitive:
        return {"type": recorded.type, "hash": recorded.hash}
    return {"type": recorded.type, "value": recorded.value}
