"""The run dependency graph: edges from ``dependsOn`` and output references, cycles, and the order.

The order is topological with ties broken by name (Kahn's algorithm over a heap), so it depends on
the runs and their edges only, never on file or document order. A ``dependsOn`` naming a ``forEach``
declaration (``web``) means every run it expands to (``web-a``, ``web-b``); an output reference must
name one expanded run, since only one run's output can be read; a name built from references
(``${runs.web-${each.key}.outputs.ip}``) arrives here already resolved, and an unknown one says so. A cycle is one problem that walks
the whole loop and says where each of its edges is written.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence

from reconciler.desired.templating import RunUse
from reconciler.errors import Problem, closest

Edges = dict[str, dict[str, RunUse]]  # run -> {dependency: where the dependency is written}


def resolve_edges(
    uses: Mapping[str, Sequence[RunUse]],
    groups: Mapping[str, Sequence[str]],
    problems: list[Problem],
) -> Edges:
    """Each run's dependencies, by name; unknown runs are problems."""
    edges: Edges = {}
    for name, run_uses in uses.items():
        found: dict[str, RunUse] = {}
        for use in run_uses:
            for target in _targets(name, use, uses, groups, problems):
                found.setdefault(target, use)
        edges[name] = found
    return edges


def _targets(
    name: str, use: RunUse, runs: Mapping[str, object], groups: Mapping[str, Sequence[str]], problems: list[Problem]
) -> Sequence[str]:
    if use.run in runs:
        return [use.run]
    children = groups.get(use.run)
    if children is not None and use.depends_on:
        return children
    if children is not None:
        listed = ", ".join(children[:3]) + (", ..." if len(children) > 3 else "")
        message = f"run {use.run!r} is a forEach: refer to one of its runs ({listed or 'it has none'})"
    else:
        close = closest(use.run, list(runs))
        guess = f" (did you mean {close!r}?)" if close else ""
        if use.built:
            message = f"{use.source} in run {name!r} names run {use.run!r}, which is not declared{guess}"
        else:
            message = f"unknown run {use.run!r}{guess}"
    problems.append(Problem(use.location(), message))
    return []


def topological_order(edges: Edges, problems: list[Problem]) -> tuple[str, ...]:
    """Dependencies first, ties by name; every cycle becomes one problem (and its runs are left out)."""
    order, remaining = _kahn(edges, set(edges))
    while remaining:
        cycle = _find_cycle(edges, remaining)
        problems.append(_cycle_problem(edges, cycle))
        _, remaining = _kahn(edges, remaining - set(cycle))
    return tuple(order)


def _kahn(edges: Edges, nodes: set[str]) -> tuple[list[str], set[str]]:
    """Peel ``nodes`` in order; the nodes left over are on or behind a cycle."""
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {}
    ready: list[str] = []
    for name in nodes:  # one pass: each run's count of dependencies, and the reverse edges
        count = 0
        for dep in edges[name]:
            if dep in nodes:
                count += 1
                found = dependents.get(dep)
                if found is None:
                    dependents[dep] = [name]
                else:
                    found.append(name)
        waiting[name] = count
        if not count:
            ready.append(name)
    heapq.heapify(ready)
    order: list[str] = []
    pop, push, no_dependents = heapq.heappop, heapq.heappush, ()
    while ready:
        name = pop(ready)
        order.append(name)
        for dependent in dependents.get(name, no_dependents):
            left = waiting[dependent] - 1
            waiting[dependent] = left
            if not left:
                push(ready, dependent)
    return order, (nodes - set(order) if len(order) < len(nodes) else set())


def _find_cycle(edges: Edges, remaining: set[str]) -> list[str]:
    """One cycle among ``remaining`` (where every run has a dependency in ``remaining``)."""
    path = [min(remaining)]
    seen = {path[0]: 0}
    while True:
        following = min(dep for dep in edges[path[-1]] if dep in remaining)
        if following in seen:
            return [*path[seen[following] :], following]
        seen[following] = len(path)
        path.append(following)


def _cycle_problem(edges: Edges, cycle: list[str]) -> Problem:
    steps = list(itertools.pairwise(cycle))
    uses = [edges[run][dep] for run, dep in steps]
    if len(steps) == 1:
        return Problem(uses[0].location(), f"run {cycle[0]!r} depends on itself")
    where = "; ".join(f"{run} needs {dep} at {use.location()}" for (run, dep), use in zip(steps, uses, strict=True))
    return Problem(uses[0].location(), f"dependency cycle: {' -> '.join(cycle)} ({where})")
