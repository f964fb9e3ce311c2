"""Fingerprints: canonical JSON + sha256, and keyed hashes for secrets.

A run key is the identity of "this workflow with these inputs at this revision". Two runs with the
same key are the same run: apply does not start it again. Secrets enter the key only as an HMAC keyed
with the state's random ``salt``, so neither the key nor the recorded inputs reveal them.

Fast path: planning computes one key per run (10,000 in a large stack). `inputs_key` writes the
canonical JSON of `key_of` over `input_body` bodies as text, straight from the inputs, instead of
building a dict per input and encoding the whole tree: a plain string, integer or boolean value is
written directly, and every other input (a secret, a float, a list, a mapping) is encoded from its
`input_body`, which stays the one definition of what enters a key. A hypothesis test checks that
`inputs_key` equals `key_of` over the same bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from reconciler.state.models import RecordedInput


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. Equal data gives equal bytes."""
    return _CANONICAL.encode(value).encode()


# What ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` builds on
# every call, built once: planning encodes one run key per run.
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
    """The run key over input bodies (`input_body`), without building state models: planning 10,000
    runs computes 10,000 keys."""
    body = {"workflow": workflow, "revision": revision, "inputs": bodies}
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def inputs_key(workflow: str, inputs: Sequence[tuple[str, str, Any, bool]], revision: int, salt: str) -> str:
    """`key_of` over the `input_body` of each (name, type, value, sensitive), written as text directly.

    Each input is one fragment ``"name":{...}`` of the ``inputs`` object: a plain value (a string,
    integer or boolean that is not a secret) is written after its `plain_head`, any other through
    `input_fragment`; `fragments_key` sorts them by name and hashes the whole text. The planner
    writes the fragments of a run in its own pass over the inputs, by these same rules."""
    if type(workflow) is not str or type(revision) is not int:
        return _bodies_key(workflow, inputs, revision, salt)
    fragments: list[tuple[str, str]] = []
    for name, type_name, value, sensitive in inputs:
        if type(name) is not str:
            return _bodies_key(workflow, inputs, revision, salt)
        fragments.append((name, fragment(name, type_name, value, sensitive, salt)))
    return fragments_key(workflow, fragments, revision)


def fragment(name: str, type_name: str, value: Any, sensitive: bool, salt: str) -> str:
    """One input's ``"name":{...}`` fragment of the key text: a plain value (a string, integer or
    boolean that is not a secret) after its remembered `plain_head`, any other by `input_fragment`.
    The one definition both `inputs_key` and the planner's pass over a run's inputs write with."""
    kind = type(value)
    if sensitive or type(type_name) is not str or (kind is not str and kind is not int and kind is not bool):
        return input_fragment(name, type_name, value, sensitive, salt)
    head = (PLAIN_HEADS.get(type_name) or NO_HEADS).get(name) or plain_head(name, type_name)
    if kind is str:
        return f"{head}{encode_basestring(value)}}}"
    if kind is int:
        return f"{head}{int.__repr__(value)}}}"
    return f"{head}{'true' if value else 'false'}}}"


def fragments_key(workflow: str, fragments: list[tuple[str, str]], revision: int) -> str:
    """The run key of (name, fragment) pairs of distinct string names (sorted here, in place)."""
    fragments.sort()
    body = ",".join(map(_second, fragments))
    encoded = f'{{"inputs":{{{body}}},"revision":{int.__repr__(revision)},"workflow":{encode_basestring(workflow)}}}'
    return "sha256:" + hashlib.sha256(encoded.encode()).hexdigest()


_second = itemgetter(1)


def input_fragment(name: str, type_name: str, value: Any, sensitive: bool, salt: str) -> str:
    """One input's ``"name":{...}`` in the key's text, from its `input_body` (any input, string name)."""
    return f"{encode_basestring(name)}:{_CANONICAL.encode(input_body(type_name, value, sensitive, salt))}"


# type -> name -> `plain_head`: the text before a plain value, ``"name":{"type":"string","value":``,
# which depends only on the name and the type; they repeat over the runs of a stack, so each pair is
# written once (a stack has a few; bounded all the same). Keyed by one string at each level: a pair
# as a tuple key would be a tuple to build and hash per input. Only string names and types enter.
PLAIN_HEADS: dict[str, dict[str, str]] = {}
_MAX_HEADS = 4096


def plain_head(name: str, type_name: str) -> str:
    """``"name":{"type":TYPE,"value":`` (a plain value's JSON text and ``}`` complete the fragment)."""
    if sum(map(len, PLAIN_HEADS.values())) >= _MAX_HEADS:  # counted on a miss only: there are few
        PLAIN_HEADS.clear()
    head = PLAIN_HEADS.setdefault(type_name, {})[name] = (
        f'{encode_basestring(name)}:{{"type":{encode_basestring(type_name)},"value":'
    )
    return head


# What a type without remembered heads reads as (never written to).
NO_HEADS: Mapping[str, str] = MappingProxyType({})


def _bodies_key(workflow: str, inputs: Sequence[tuple[str, str, Any, bool]], revision: int, salt: str) -> str:
    bodies = {name: input_body(type_name, value, sensitive, salt) for name, type_name, value, sensitive in inputs}
    return key_of(workflow, bodies, revision)


def run_key(workflow: str, inputs: Mapping[str, RecordedInput], revision: int) -> str:
    """The run key of recorded inputs (equal to `key_of` over the same inputs' bodies)."""
    return key_of(workflow, {name: _recorded_body(i) for name, i in inputs.items()}, revision)


def _recorded_body(recorded: RecordedInput) -> dict[str, Any]:
    if recorded.sensitive:
        return {"type": recorded.type, "hash": recorded.hash}
    return {"type": recorded.type, "value": recorded.value}
