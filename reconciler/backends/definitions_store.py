"""The workflow definitions cache as bytes: what ``<statefile>.definitions.json`` holds.

The definitions read from a server (``reconciler.definitions``) are kept beside the state so that
``validate`` and ``plan --no-refresh`` can check runs without contacting the server. They are keyed
by endpoint URL and workflow id; each carries when it was read (``readAt``)::

    {
      "version": 1,
      "endpoints": {
        "https://vcd.example.com": {
          "6b2e1c0a-...": {"workflowId": "6b2e1c0a-...", "name": "Provision VM", "readAt": "...",
                           "inputs": [...], "outputs": [...]}
        }
      }
    }

It is a cache, not state: no lock, no serial, last writer wins; a file that cannot be read is
ignored (with a warning) and replaced by the next write. No I/O here: the backends read and write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from reconciler.definitions import WorkflowDefinition, definition_from_json, definition_to_json
from reconciler.errors import InvalidValueError

CACHE_VERSION = 1
CacheKey = tuple[str, str]  # (endpoint URL, workflow id)
Cached = dict[CacheKey, WorkflowDefinition]


def endpoint_key(url: str) -> str:
    """The cache's spelling of an endpoint URL (no trailing slash, as the client uses it)."""
    return url.rstrip("/")


def merged(current: Mapping[CacheKey, WorkflowDefinition], endpoint: str, read: Iterable[WorkflowDefinition]) -> Cached:
    """``current`` with ``read`` (definitions of ``endpoint``) put over the same keys."""
    result = dict(current)
    for definition in read:
        result[(endpoint_key(endpoint), definition.workflow_id)] = definition
    return result


def cache_bytes(cached: Mapping[CacheKey, WorkflowDefinition]) -> bytes:
    """The file's bytes: pretty JSON, endpoints and workflow ids sorted, trailing newline."""
    endpoints: dict[str, dict[str, object]] = {}
    for (endpoint, workflow_id), definition in sorted(cached.items()):
        endpoints.setdefault(endpoint, {})[workflow_id] = definition_to_json(definition)
    return (json.dumps({"version": CACHE_VERSION, "endpoints": endpoints}, indent=2) + "\n").encode()


def parse_cache(data: bytes) -> Cached:
    """The definitions of a cache file; `InvalidValueError` saying what is wrong."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidValueError(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        raise InvalidValueError(f"not a version {CACHE_VERSION} definitions cache")
    endpoints = doc.get("endpoints")
    if not isinstance(endpoints, dict):
        raise InvalidValueError("'endpoints' must be a JSON object")
    cached: Cached = {}
    for endpoint, workflows in endpoints.items():
        if not isinstance(workflows, dict):
            raise InvalidValueError(f"the workflows of endpoint {endpoint} must be a JSON object")
        for workflow_id, body in workflows.items():
            definition = definition_from_json(body)
            if definition.workflow_id != workflow_id:
                raise InvalidValueError(f"the definition kept as {workflow_id} is of {definition.workflow_id}")
            cached[(endpoint, workflow_id)] = definition
    return cached
