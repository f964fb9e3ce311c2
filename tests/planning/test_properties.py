"""Properties of the planner over random stacks (DESIGN "Tests"):

- the order of manifests (files, documents, parameters) never changes the plan;
- the plan of an applied plan is empty;
- dependencies come first, and a target brings its dependencies along.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.planning.changes import Action, Plan
from reconciler.planning.planner import make_plan
from reconciler.planning.rendering import plan_document
from reconciler.state.models import Execution, State

from .stacks import applied_state, empty_state, load, plan, run_doc, simulate_apply, to_yaml, with_record

NAMES = ("web", "net", "db", "app-1", "app.2", "cache", "lb", "dns", "vol-9")
ORPHANS = ("gone-a", "gone-b")
OUTPUTS = ("id", "count", "tags")  # what `stacks.outputs_for` produces
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.integers(min_value=-5, max_value=100),
    st.booleans(),
    st.text(alphabet="abcxyz-", min_size=1, max_size=6).filter(lambda t: not t.startswith("-")),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
)


@dataclass(frozen=True)
class Generated:
    documents: tuple[dict[str, Any], ...]  # in dependency order: a run refers only to earlier ones
    retrying: frozenset[str]  # runs with onFailure: retry

    @property
    def names(self) -> list[str]:
        return [d["metadata"]["name"] for d in self.documents]


@st.composite
def generated_stacks(draw: st.DrawFn) -> Generated:
    names = draw(st.permutations(NAMES))[: draw(st.integers(min_value=1, max_value=6))]
    documents, retrying = [], set()
    for i, name in enumerate(names):
        earlier = names[:i]
        params: dict[str, Any] = draw(
            st.dictionaries(st.sampled_from(["size", "label", "on", "zone"]), scalars, max_size=3)
        )
        if earlier:
            for n in range(draw(st.integers(min_value=0, max_value=2))):
                upstream, output = draw(st.sampled_from(earlier)), draw(st.sampled_from(OUTPUTS))
                ref = f"${{runs.{upstream}.outputs.{output}}}"
                params[f"in{n}"] = ref if draw(st.booleans()) else f"pre-{ref}-post"
        if draw(st.booleans()):
            params["pw"] = {"type": "SecureString", "valueFrom": {"env": "PW"}}
        spec: dict[str, Any] = {"revision": draw(st.integers(min_value=1, max_value=2))}
        depends_on = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []
        if depends_on:
            spec["dependsOn"] = depends_on
        if draw(st.booleans()):
            spec.update(onFailure="retry", maxAttempts=3)
            retrying.add(name)
        documents.append(run_doc(name, draw(st.sampled_from(["wf-a", "wf-b"])), params, **spec))
    return Generated(tuple(documents), frozenset(retrying))


@st.composite
def layouts(draw: st.DrawFn, documents: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The same documents in another order, spread over files, with parameters in another order."""
    shuffled = []
    for document in draw(st.permutations(documents)):
        params = document["spec"]["parameters"]
        order = draw(st.permutations(sorted(params)))
        spec = {**document["spec"], "parameters": {k: params[k] for k in order}}
        shuffled.append({**document, "spec": spec})
    paths = draw(st.permutations(["a.yaml", "b/c.yml", "z.yaml"]))[: draw(st.integers(min_value=1, max_value=3))]
    files: dict[str, list[dict[str, Any]]] = {p: [] for p in paths}
    for document in shuffled:
        files[draw(st.sampled_from(paths))].append(document)
    pairs = [(f"manifests/{p}", to_yaml(*docs)) for p, docs in files.items() if docs]
    return draw(st.permutations(pairs))


PERTURBATIONS = ("keep", "drop", "stale", "older-revision", "running", "waiting-signal", "failed", "canceled")


@st.composite
def states(draw: st.DrawFn, generated: Generated, *, settled_failures: bool) -> State:
    """A state the stack was once applied to, since disturbed: records dropped, stale, running, failed...

    ``settled_failures`` allows failures that will not be retried (FAILED); else only retryable ones.
    """
    desired = load(to_yaml(*generated.documents))
    if not draw(st.booleans()):
        return empty_state() if draw(st.booleans()) else applied_state(desired)
    state = applied_state(desired)
    for name in generated.names:
        what = draw(st.sampled_from(PERTURBATIONS))
        failing = what in ("failed", "canceled")
        if failing and not settled_failures and name not in generated.retrying:
            continue
        if what == "drop":
            state = state.model_copy(update={"runs": {k: v for k, v in state.runs.items() if k != name}})
        elif what == "stale":
            state = with_record(state, name, key="sha256:stale")
        elif what == "older-revision":
            state = with_record(state, name, key="sha256:old", revision=0)
        elif what != "keep":
            state = with_record(
                state, name, execution={"state": what}, attempts=draw(st.integers(1, 3)) if settled_failures else 1
            )
    for orphan in draw(st.lists(st.sampled_from(ORPHANS), unique=True)):
        running = draw(st.booleans())
        execution = Execution(id=f"exec-{orphan}", state="running" if running else "completed")
        record = next(iter(state.runs.values()), None) if state.runs else None
        if record is not None:
            state = state.model_copy(
                update={"runs": {**state.runs, orphan: record.model_copy(update={"execution": execution})}}
            )
    return state


@FAST
@given(st.data())
def test_manifest_order_never_changes_the_plan(data: st.DataObject) -> None:
    generated = data.draw(generated_stacks())
    state = data.draw(states(generated, settled_failures=True))
    canonical = plan_document(plan(load(to_yaml(*generated.documents)), state))

    for _ in range(2):
        files = data.draw(layouts(generated.documents))
        desired = load(files)
        assert plan_document(plan(desired, state)) == canonical


@FAST
@given(st.data())
def test_the_plan_of_an_applied_plan_is_empty(data: st.DataObject) -> None:
    generated = data.draw(generated_stacks())
    state = data.draw(states(generated, settled_failures=False))
    desired = load(data.draw(layouts(generated.documents)))

    first = make_plan(desired, state, exists=bool(state.runs))
    after = simulate_apply(desired, state, first)
    second = plan(desired, after)

    assert not second.has_changes, [(c.run, c.action, c.reason) for c in second.changes if c.action.is_change]
    assert {c.action for c in second.changes} <= {Action.NOOP}
    assert [c.run for c in second.changes] == list(desired.order)
    assert plan(desired, simulate_apply(desired, after, second)).changes == second.changes


def _assert_dependencies_first(result: Plan, closure_of: Mapping[str, set[str]]) -> None:
    position = {c.run: i for i, c in enumerate(result.changes)}
    for change in result.changes:
        for dependency in change.depends_on:
            if dependency in position:
                assert position[dependency] < position[change.run], (dependency, change.run)
        for dependency in closure_of.get(change.run, set()):
            assert dependency in position, f"{change.run} is planned without its dependency {dependency}"


@FAST
@given(st.data())
def test_dependencies_come_first_and_targets_bring_them(data: st.DataObject) -> None:
    generated = data.draw(generated_stacks())
    state = data.draw(states(generated, settled_failures=True))
    desired = load(data.draw(layouts(generated.documents)))
    declared = _declared_dependencies(generated)
    for name, run in desired.runs.items():
        assert run.depends_on == declared[name]
    closure = {name: _closure(name, declared) for name in declared}
    targets = data.draw(st.lists(st.sampled_from(sorted(set(declared) | set(state.runs))), unique=True, max_size=2))

    result = plan(desired, state, targets=targets)

    _assert_dependencies_first(result, closure)
    expected = (
        set().union(*(closure.get(t, set()) | {t} for t in targets)) if targets else set(declared) | set(state.runs)
    )
    assert {c.run for c in result.changes} == expected


def _declared_dependencies(generated: Generated) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for document in generated.documents:
        spec = document["spec"]
        referenced = {
            v.split("runs.", 1)[1].split(".outputs.", 1)[0]
            for v in spec["parameters"].values()
            if isinstance(v, str) and "${runs." in v
        }
        found[document["metadata"]["name"]] = frozenset(referenced | set(spec.get("dependsOn", [])))
    return found


def _closure(name: str, edges: Mapping[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(name, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, ()))
    return seen
