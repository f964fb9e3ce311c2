"""``forEach``: one declared run becomes one run per entry, named ``<name>-<key>``.

A mapping gives ``each.key``/``each.value`` pairs (a value may be a mapping: ``${each.value.cpu}``);
a list of strings gives entries whose key and value are the item itself; a list item that is a
mapping is keyed by its ``name`` field (not by its position: inserting an item must not rename, and
so re-run, the runs after it) and is the whole ``each.value``. Values may use ``${var.X}`` (not ``each`` nor run outputs: they are what
defines the entries). A number written as a key or item is taken by its source text (``1.10`` stays
``1.10``). Every key must make a valid run name; an empty ``forEach`` declares no run at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yaml.nodes import ScalarNode

from reconciler.desired.templating import Scope, contains_failure, render
from reconciler.manifest.models import MAX_NAME_LENGTH
from reconciler.manifest.parsing import FLOAT, INT
from reconciler.manifest.validating import run_name_problem

_FOR_EACH = ("spec", "forEach")


@dataclass(frozen=True, slots=True)
class Instance:
    """One run of a declaration: its name, its ``each`` pair, and where its name comes from."""

    name: str
    each: tuple[str, Any] | None
    name_path: tuple[Any, ...]


def expand(name: str, for_each: Any, scope: Scope) -> list[Instance]:
    """The runs one WorkflowRun document declares."""
    if for_each is None:
        return [Instance(name, None, ("metadata", "name"))]
    if isinstance(for_each, str):  # forEach: ${var.zones}
        for_each = render(for_each, scope, _FOR_EACH, runs_allowed=False)
        if contains_failure(for_each):
            return []
    if isinstance(for_each, dict):
        entries = [
            ((*_FOR_EACH, k), k, render(v, scope, (*_FOR_EACH, k), runs_allowed=False)) for k, v in for_each.items()
        ]
    elif isinstance(for_each, list):
        rendered = [render(item, scope, (*_FOR_EACH, i), runs_allowed=False) for i, item in enumerate(for_each)]
        entries = [_list_entry(i, item, scope) for i, item in enumerate(rendered)]
    else:
        scope.problem(_FOR_EACH, "", "forEach must be a mapping (key: value), or a list of strings or of mappings")
        return []
    return _instances(name, entries, scope)


_KEY_FIELD = "name"


def _list_entry(index: int, item: Any, scope: Scope) -> tuple[tuple[Any, ...], Any, Any]:
    """(where, key, value) of one list item: a scalar is its own key; a mapping is keyed by its name."""
    path = (*_FOR_EACH, index)
    if not isinstance(item, dict):
        return path, item, item
    if _KEY_FIELD not in item:
        if not contains_failure(item):
            scope.problem(
                path,
                "",
                f"a forEach list item that is a mapping needs a {_KEY_FIELD!r} field: it is the item's key "
                f"(the run is named after it); or write forEach as a mapping of key: {{...}}",
            )
        return path, _MISSING, item
    return (*path, _KEY_FIELD), item[_KEY_FIELD], item


class _Missing:
    """The key of a list item that has none (its problem is already reported)."""


_MISSING = _Missing()


def _instances(name: str, entries: list[tuple[tuple[Any, ...], Any, Any]], scope: Scope) -> list[Instance]:
    instances: list[Instance] = []
    seen: set[str] = set()
    for path, raw_key, value in entries:
        key = None if raw_key is _MISSING else _key_text(raw_key, path, scope)
        if key is None or contains_failure(value) or not _valid_key(name, key, path, scope, seen):
            continue
        seen.add(key)
        instances.append(Instance(f"{name}-{key}", (key, key if value is raw_key else value), path))
    return instances


def _key_text(raw: Any, path: tuple[Any, ...], scope: Scope) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        node = scope.document.node_at(path, key=len(path) == len(_FOR_EACH) + 1)  # a list item's name: its value
        if isinstance(node, ScalarNode) and node.tag in (INT, FLOAT):
            return str(node.value)
        return str(raw)
    if not contains_failure(raw):
        scope.problem(path, "", f"a forEach key must be a string, not {raw!r}", key=True)
    return None


def _valid_key(name: str, key: str, path: tuple[Any, ...], scope: Scope, seen: set[str]) -> bool:
    full = f"{name}-{key}"
    if key in seen:
        scope.problem(path, "", f"forEach key {key!r} appears twice", key=True)
        return False
    if not key or run_name_problem(full) is not None:
        scope.problem(
            path,
            "",
            f"forEach key {key!r} makes the run name {full!r}, which is not valid "
            f"(lowercase letters, digits, '.' and '-', at most {MAX_NAME_LENGTH} characters)",
            key=True,
        )
        return False
    return True
