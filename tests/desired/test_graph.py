"""forEach expansion, dependencies, cycles, and an order independent of how manifests are laid out."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired.runs import DesiredRun, DesiredStack

from .stacks import STACK, load, problems, run_doc


def test_for_each_mapping_and_list() -> None:
    desired = load(
        run_doc(
            "net",
            "forEach: {a: 10.0.1.0/24, b: 10.0.2.0/24}\nparameters:\n  cidr: ${each.value}\n  name: n-${each.key}\n",
        )
        + "---\n"
        + run_doc("vm", "forEach: [x, '1.10']\nparameters:\n  k: ${each.key}\n")
    )
    assert desired.order == ("net-a", "net-b", "vm-1.10", "vm-x")
    assert desired.runs["net-b"].inputs["cidr"].value == "10.0.2.0/24"
    assert desired.runs["net-b"].inputs["name"].value == "n-b"
    assert str(desired.runs["net-b"].location) == "m.yaml:7:29"
    assert desired.runs["vm-1.10"].inputs["k"].value == "1.10"


def test_for_each_value_may_be_a_mapping_used_whole() -> None:
    body = "forEach:\n  a: {id: vm-1}\nparameters:\n  vm: {type: 'VC:VirtualMachine', value: '${each.value}'}\n"
    assert load(run_doc("vm", body)).runs["vm-a"].inputs["vm"].value == {"id": "vm-1"}


def test_for_each_from_a_variable() -> None:
    stack = STACK + "    zones: {default: [z1, z2]}\n"
    assert load(run_doc("vm", "forEach: ${var.zones}\n"), stack=stack).order == ("vm-z1", "vm-z2")


def test_for_each_key_problems() -> None:
    found = problems(run_doc("vm", "forEach: [ok, Bad, ok, true]\n"))
    assert found == [
        "m.yaml:7:17: forEach key 'Bad' makes the run name 'vm-Bad', which is not valid "
        "(lowercase letters, digits, '.' and '-', at most 253 characters)",
        "m.yaml:7:22: forEach key 'ok' appears twice",
        "m.yaml:7:26: a forEach key must be a string, not True",
    ]


def test_depends_on_a_for_each_means_all_of_it_but_references_need_one_run() -> None:
    net = run_doc("net", "forEach: [a, b]\n")
    desired = load(net + "---\n" + run_doc("web", "dependsOn: [net]\nparameters:\n  n: ${runs.net-a.outputs.id}\n"))
    assert desired.runs["web"].depends_on == {"net-a", "net-b"}
    found = problems(net + "---\n" + run_doc("web", "parameters:\n  n: ${runs.net.outputs.id}\n"))
    assert found == ["m.yaml:16:8: run 'net' is a forEach: refer to one of its runs (net-a, net-b)"]


def test_each_run_of_a_for_each_may_use_its_key_in_depends_on() -> None:
    desired = load(
        run_doc("net", "forEach: [a, b]\n")
        + "---\n"
        + run_doc("vm", "forEach: [a, b]\ndependsOn: ['net-${each.key}']\n")
    )
    assert desired.runs["vm-b"].depends_on == {"net-b"}
    assert desired.order == ("net-a", "net-b", "vm-a", "vm-b")


def test_a_cycle_is_one_problem_naming_each_edge() -> None:
    docs = {
        "a.yaml": run_doc("a", "dependsOn: [b]\n"),
        "b.yaml": run_doc("b", "parameters:\n  x: ${runs.c.outputs.y}\n"),
        "c.yaml": run_doc("c", "dependsOn: [a]\n") + "---\n" + run_doc("d", "dependsOn: [c]\n"),
    }
    assert problems(docs) == [
        "a.yaml:7:15: dependency cycle: a -> b -> c -> a "
        "(a needs b at a.yaml:7:15; b needs c at b.yaml:8:8; c needs a at c.yaml:7:15)"
    ]


def test_defaults_of_a_run() -> None:
    run = load(run_doc("a")).runs["a"]
    assert (run.revision, run.on_failure, run.max_attempts, run.timeout_seconds) == (1, "stop", 1, 3600.0)
    retry = load(run_doc("a", "onFailure: retry\ntimeout: 1h30m\nrevision: 2\n")).runs["a"]
    assert (retry.revision, retry.max_attempts, retry.timeout_seconds) == (2, 3, 5400.0)


def test_the_stacks_defaults_apply_to_runs_that_do_not_set_their_own() -> None:
    """SPEC 2.2 ``spec.defaults``: every run has a timeout (1h unless set), so an apply always ends."""
    stack = STACK.replace("spec:\n", "spec:\n  defaults: {timeout: 10m, onFailure: retry, maxAttempts: 5}\n")
    desired = load(
        run_doc("a") + "---\n" + run_doc("b", "timeout: 30s\nonFailure: stop\nmaxAttempts: 2\n"), stack=stack
    )
    a, b = desired.runs["a"], desired.runs["b"]
    assert (a.timeout_seconds, a.on_failure, a.max_attempts) == (600.0, "retry", 5)
    assert (b.timeout_seconds, b.on_failure, b.max_attempts) == (30.0, "stop", 2)
    bad = STACK.replace("spec:\n", "spec:\n  defaults: {timeout: soon}\n")
    assert any("not a duration" in p for p in problems(run_doc("a"), stack=bad))


# ---------------------------------------------------------------- properties


@st.composite
def graphs(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    """Acyclic run graphs: each run may depend only on runs declared before it."""
    count = draw(st.integers(min_value=1, max_value=12))
    names = [f"r{i}" for i in draw(st.permutations(range(count)))]
    return [
        (name, draw(st.lists(st.sampled_from(names[:i]), max_size=3, unique=True)) if i else [])
        for i, name in enumerate(names)
    ]


def _documents(graph: list[tuple[str, list[str]]]) -> list[str]:
    docs = []
    for i, (name, deps) in enumerate(graph):
        refs = "".join(f"  p{d}: ${{runs.{d}.outputs.x}}\n" for d in deps[1:])
        body = (f"dependsOn: [{deps[0]}]\n" if deps else "") + ("parameters:\n" + refs if refs else "")
        docs.append(run_doc(name, body + f"revision: {i % 3 + 1}\n"))
    return docs


def _without_locations(desired: DesiredStack) -> dict[str, DesiredRun]:
    return {
        name: dataclasses.replace(
            run, locate=None, inputs={k: dataclasses.replace(v, locate=None) for k, v in run.inputs.items()}
        )
        for name, run in desired.runs.items()
    }


@settings(max_examples=40, deadline=None)
@given(graph=graphs(), seed=st.integers(0, 1000))
def test_manifest_layout_never_changes_the_desired_runs(graph: list[tuple[str, list[str]]], seed: int) -> None:
    docs = _documents(graph)
    files = {f"f{i}.yaml": doc for i, doc in enumerate(docs)}
    reference = load(files)
    shuffled = list(files.items())
    random.Random(seed).shuffle(shuffled)
    same_files = load(dict(shuffled))
    assert (same_files.runs, same_files.order, same_files.manifests_digest) == (
        reference.runs,
        reference.order,
        reference.manifests_digest,
    )
    random.Random(seed).shuffle(docs)
    one_file = load("---\n".join(docs))
    assert (_without_locations(one_file), one_file.order) == (_without_locations(reference), reference.order)


@settings(max_examples=40, deadline=None)
@given(graph=graphs())
def test_dependencies_come_before_dependents(graph: list[tuple[str, list[str]]]) -> None:
    desired = load("---\n".join(_documents(graph)))
    position = {name: i for i, name in enumerate(desired.order)}
    assert sorted(position) == sorted(name for name, _ in graph)
    for name, deps in graph:
        assert desired.runs[name].depends_on == set(deps)
        assert all(position[d] < position[name] for d in deps)
