"""The desired builder's fast paths give exactly what the general paths give."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired import inputs
from reconciler.desired.runs import OutputRef
from reconciler.desired.templating import Scope
from reconciler.desired.variables import Variables
from reconciler.manifest.interpolation import _parse, parse_template
from reconciler.manifest.models import Variable
from reconciler.manifest.parsing import ManifestLoader, _Builder, parse_documents

DOCUMENT = parse_documents("m.yaml", "spec:\n  parameters:\n    x: 1\n", [])[0]
PATH = ("spec", "parameters", "x")

plain_scalars = st.one_of(
    st.text(),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.sampled_from(["${", "a ${var.x} b", "$${x}", "${runs.a.outputs.b}", ""]),
)


def _scope() -> Scope:
    return Scope(Variables(declared={"x": Variable()}, values={"x": "v"}), DOCUMENT, [])


@given(plain_scalars)
def test_shorthand_fast_path_equals_the_general_path(raw: Any) -> None:
    fast_scope, general_scope = _scope(), _scope()
    fast = inputs._shorthand("x", raw, PATH, fast_scope)
    general = inputs._general_shorthand("x", raw, PATH, general_scope)
    assert fast == general
    assert (fast_scope.problems, fast_scope.uses) == (general_scope.problems, general_scope.uses)
    if fast is not None and general is not None:
        assert type(fast.value) is type(general.value)
        assert fast.location == general.location


@given(st.text(alphabet="${}.abvrunsoteach$ -x", max_size=30))
def test_remembered_templates_equal_fresh_parses(text: str) -> None:
    first, again = parse_template(text), parse_template(text)
    fresh = _parse(text) if "${" in text else ((text,), ())
    assert first == again == (fresh[0], list(fresh[1]))


_TEXT = st.text(st.characters(blacklist_characters="*", blacklist_categories=("Cs",)), max_size=8)


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), _TEXT),
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_TEXT, children, max_size=4)),
        max_leaves=20,
    )
)
def test_the_builder_without_alias_bookkeeping_builds_the_same_data(value: Any) -> None:
    text = yaml.safe_dump({"root": value}, allow_unicode=True)
    assert "*" not in text
    node = yaml.compose(text, Loader=ManifestLoader)
    general_problems: list[Any] = []
    fast_problems: list[Any] = []
    general = _Builder("f.yaml", general_problems).build(node)
    fast = _Builder("f.yaml", fast_problems, aliases=False).build(node)
    assert (fast, fast_problems) == (general, general_problems)


_VARIABLE_VALUES = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_REFERENCES = st.sampled_from(
    [
        "${var.x}",
        "${var.secret}",
        "${var.undeclared}",
        "${var.unset}",
        "${runs.net.outputs.id}",
        "${runs.Bad.outputs.id}",
        "${each.key}",
        "${each.value}",
        "${var.x}${var.x}",
        " ${var.x}",
        "${var.}",
    ]
)


@given(
    _REFERENCES, _VARIABLE_VALUES, st.booleans(), st.one_of(st.none(), st.tuples(st.text(max_size=3), _VARIABLE_VALUES))
)
def test_whole_reference_fast_path_equals_the_general_path(
    raw: str, value: Any, known: bool, each: tuple[str, Any] | None
) -> None:
    def scope() -> Scope:
        declared = {"x": Variable(), "secret": Variable(sensitive=True), "unset": Variable()}
        variables = Variables(declared=declared, values={"x": value, "secret": value}, known=known)
        return Scope(variables, DOCUMENT, [], each)

    fast_scope, general_scope = scope(), scope()
    fast = inputs._shorthand("x", raw, PATH, fast_scope)
    general = inputs._general_shorthand("x", raw, PATH, general_scope)
    assert fast == general
    assert (fast_scope.problems, fast_scope.uses, fast_scope.sensitive_variables) == (
        general_scope.problems,
        general_scope.uses,
        general_scope.sensitive_variables,
    )
    if fast is not None and general is not None:
        assert type(fast.value) is type(general.value)
        assert fast.location == general.location


def test_a_document_without_for_each_is_the_one_instance_expand_gives() -> None:
    from reconciler.desired.expansion import Instance, expand
    from reconciler.desired.loading import _NAME_PATH

    assert expand("a", None, _scope()) == [Instance("a", None, _NAME_PATH)]


def test_every_input_is_located_at_its_parameter_key_through_the_shared_locator() -> None:
    from reconciler.desired.loading import load_stack

    from .stacks import STACK, run_doc

    body = (
        "forEach: [x, y]\nparameters:\n  p: 1\n  q: ${var.owner}\n  r: {type: number, value: 2}\n"
        "  s: {type: string, valueFrom: {env: E}}\n  t: n-${each.key}\n"
    )
    text = run_doc("a", body) + "---\n" + run_doc("b", "parameters:\n  p: 1\n  q: '${runs.a-x.outputs.o}'\n")
    _, desired = load_stack(STACK, "s.yaml", [("m.yaml", text)], {"zone": "z"}, [], {"E": "e"}, open)
    documents = parse_documents("m.yaml", text, [])
    seen = 0
    for run in desired.runs.values():
        document = documents[1 if run.name == "b" else 0]
        for name, found in run.inputs.items():
            assert found.location == document.location(("spec", "parameters", name), key=True)
            seen += 1
    assert seen == 2 * 5 + 2


def test_a_kept_run_builds_the_desired_run_its_fields_name() -> None:
    import dataclasses

    from reconciler.desired.loading import _Run
    from reconciler.desired.runs import DesiredRun

    def locate() -> Any:
        return None

    kept = _Run("n", "wf", {}, 7, 30.0, "retry", 5, {"a": "b"}, locate)
    built = kept.build(frozenset({"d"}))
    expected = DesiredRun(**kept._asdict(), depends_on=frozenset({"d"}))
    assert built == expected
    assert [getattr(built, f.name) for f in dataclasses.fields(DesiredRun)] == [
        getattr(expected, f.name) for f in dataclasses.fields(DesiredRun)
    ]


def _general_inputs(parameters: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """What `build_inputs` gives without its fast paths: `_explicit` or `_general_shorthand` per input."""
    sources = inputs.Sources({"E": "e"}, open)
    built: dict[str, Any] = {}
    for name, raw in parameters.items():
        scope.sensitive_variables.clear()
        path = ("spec", "parameters", name)
        found = (
            inputs._explicit(name, raw, path, scope, sources)
            if isinstance(raw, dict)
            else inputs._general_shorthand(name, raw, path, scope)
        )
        if found is not None:
            built[name] = found
    return built


_EXPLICIT_TYPES = st.sampled_from(["string", "number", "boolean", "Date", "SecureString", "Array/string", "bad", "", 1])
_EXPLICIT_VALUES = st.one_of(
    plain_scalars,
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(["2026-01-31", "2026-01-31T10:00:00Z", "31/01/2026", "${var.x}", "$${x}", 1.5, True, 3]),
)
_EXPLICIT = st.one_of(
    st.fixed_dictionaries({"type": _EXPLICIT_TYPES, "value": _EXPLICIT_VALUES}),
    st.fixed_dictionaries({"value": _EXPLICIT_VALUES, "type": _EXPLICIT_TYPES}),
    st.fixed_dictionaries({"type": st.sampled_from(["string", "number"]), "valueFrom": st.just({"env": "E"})}),
    st.fixed_dictionaries({"type": st.just("string"), "value": st.text(max_size=3), "description": st.just("d")}),
    st.fixed_dictionaries({"type": st.just("string")}),
)
_PARAMETER_VALUES = st.one_of(
    plain_scalars, _REFERENCES, _REFERENCES, st.none(), st.lists(st.integers(), max_size=2), _EXPLICIT
)


@given(_EXPLICIT)
def test_the_plain_explicit_form_equals_the_general_explicit_path(raw: dict[str, Any]) -> None:
    fast_scope, general_scope = _scope(), _scope()
    fast = inputs._plain_explicit("x", raw, fast_scope.parameter_locator())
    general = inputs._explicit("x", raw, PATH, general_scope, inputs.Sources({"E": "e"}, open))
    if fast is not None:  # otherwise build_inputs takes the general path itself
        assert fast == general
        assert general_scope.problems == []
        assert general is not None
        assert type(fast.value) is type(general.value)
        assert (fast.name, fast.location) == (general.name, general.location)


def test_the_plain_explicit_form_is_taken_for_plain_values_of_plain_types() -> None:
    locate = _scope().parameter_locator()
    for raw in (
        {"type": "string", "value": "a"},
        {"value": 2, "type": "number"},
        {"type": "Date", "value": "2026-01-31"},
    ):
        assert inputs._plain_explicit("x", raw, locate) is not None
    for raw in ({"type": "SecureString", "value": "a"}, {"type": "number", "value": "2"}, {"type": "string"}):
        assert inputs._plain_explicit("x", raw, locate) is None


_EACH = st.one_of(st.none(), st.tuples(st.text(max_size=3), _VARIABLE_VALUES))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.dictionaries(st.sampled_from(["x", "y", "z"]), _PARAMETER_VALUES, max_size=3), _EACH),
        min_size=1,
        max_size=4,
    ),
    _VARIABLE_VALUES,
    st.booleans(),
)
def test_build_inputs_with_its_fast_paths_and_remembered_references_equals_the_general_path(
    runs: list[tuple[dict[str, Any], tuple[str, Any] | None]], value: Any, known: bool
) -> None:
    """Several runs of one load share `Remembered`: each run's inputs, problems, uses and locations
    are those of the general path (`_explicit` / `_general_shorthand`, nothing remembered)."""
    declared = {"x": Variable(), "secret": Variable(sensitive=True), "unset": Variable()}
    variables = Variables(declared=declared, values={"x": value, "secret": value}, known=known)
    remembered: dict[str, inputs.Remembered] = {}
    sources = inputs.Sources({"E": "e"}, open)
    for parameters, each in runs:
        fast_scope, general_scope = Scope(variables, DOCUMENT, [], each), Scope(variables, DOCUMENT, [], each)
        fast = inputs.build_inputs(parameters, fast_scope, sources, remembered)
        general = _general_inputs(parameters, general_scope)
        assert fast == general
        assert (fast_scope.problems, fast_scope.uses) == (general_scope.problems, general_scope.uses)
        for name, found in fast.items():
            assert type(found.value) is type(general[name].value)
            assert (found.name, found.location) == (general[name].name, general[name].location)
        without = inputs.build_inputs(parameters, Scope(variables, DOCUMENT, [], each), sources)
        assert without == general


def test_only_whole_var_and_runs_references_without_problems_are_remembered() -> None:
    declared = {"x": Variable(), "secret": Variable(sensitive=True)}
    scope = Scope(Variables(declared=declared, values={"x": "v", "secret": "s"}), DOCUMENT, [], ("k", "v"))
    remembered: dict[str, inputs.Remembered] = {}
    parameters = {
        "a": "${var.x}",
        "b": "${runs.net.outputs.id}",
        "c": "${each.key}",
        "d": "${var.secret}",
        "e": "${var.nope}",
        "f": "n-${var.x}",
    }
    inputs.build_inputs(parameters, scope, inputs.Sources({}, open), remembered)
    assert remembered == {
        "${var.x}": inputs.Remembered("string", "v", False, None, ""),
        "${runs.net.outputs.id}": inputs.Remembered(
            "string", OutputRef("net", "id"), False, "net", "${runs.net.outputs.id}"
        ),
    }


@given(st.text(max_size=12).filter(lambda text: "${" not in text))
def test_a_workflow_without_a_reference_renders_to_itself(workflow: str) -> None:
    """Why `_Collector._add_instance` takes such a workflow as it is, without `render`."""
    from reconciler.desired.templating import render

    scope = _scope()
    assert render(workflow, scope, ("spec", "workflow"), runs_allowed=False) is workflow
    assert (scope.problems, scope.uses) == ([], [])


def test_a_workflow_with_a_reference_is_still_rendered() -> None:
    from .stacks import one_run, run_doc

    assert one_run(run_doc("a", workflow="wf-${var.owner}")).workflow == "wf-platform-team"


@given(
    st.text(max_size=3),
    plain_scalars,
    st.booleans(),
    st.one_of(st.none(), st.text(max_size=3)),
    st.booleans(),
    st.text(max_size=3),
)
def test_new_input_builds_the_frozen_input_its_fields_name(
    type_name: str, value: Any, sensitive: bool, source: str | None, inferred: bool, name: str
) -> None:
    import dataclasses

    import pytest

    from reconciler.desired.runs import DesiredInput, new_input

    def locate(name: str) -> Any:
        return name

    args = (type_name, value, sensitive, source, locate, inferred, name)
    fast, plain = new_input(*args), DesiredInput(*args)
    assert fast == plain
    assert [getattr(fast, f.name) for f in dataclasses.fields(DesiredInput)] == list(args)
    assert fast.location == plain.location == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.type = "x"  # type: ignore[misc]


def test_new_run_builds_the_frozen_run_its_fields_name() -> None:
    import dataclasses

    import pytest

    from reconciler.desired.runs import DesiredRun, new_run

    def locate() -> Any:
        return "here"

    args = ("n", "wf", {}, 7, frozenset({"d"}), 30.0, "retry", 5, {"a": "b"}, locate)
    fast, plain = new_run(*args), DesiredRun(*args)  # type: ignore[arg-type]
    assert fast == plain
    assert [getattr(fast, f.name) for f in dataclasses.fields(DesiredRun)] == list(args)
    assert fast.location == "here"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "x"  # type: ignore[misc]


def _reference_edges(uses: dict[str, list[Any]], groups: dict[str, list[str]], problems: list[Any]) -> Any:
    """`resolve_edges` as first written: every use through `_targets`."""
    from reconciler.desired import graph

    edges: dict[str, dict[str, Any]] = {name: {} for name in uses}
    for name, run_uses in uses.items():
        for use in run_uses:
            for target in graph._targets(use, uses, groups, problems):
                edges[name].setdefault(target, use)
    return edges


def _reference_order(edges: dict[str, dict[str, Any]], nodes: set[str]) -> tuple[list[str], set[str]]:
    """`_kahn` as first written: the counts and reverse edges in two passes."""
    import heapq

    waiting = {name: sum(1 for dep in edges[name] if dep in nodes) for name in nodes}
    dependents: dict[str, list[str]] = {}
    for name in nodes:
        for dep in edges[name]:
            if dep in nodes:
                dependents.setdefault(dep, []).append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents.get(name, ()):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    return order, nodes - set(order)


_RUN_NAMES = st.sampled_from(["a", "b", "c", "d", "e", "g-x", "g-y"])


@given(
    st.dictionaries(
        _RUN_NAMES,
        st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "g-x", "g-y", "g", "zz"]), st.booleans())),
    ),
    st.booleans(),
)
def test_the_graph_equals_its_first_straightforward_version(declared: dict[str, list[Any]], group: bool) -> None:
    from reconciler.desired import graph
    from reconciler.desired.templating import RunUse

    uses = {
        name: [
            RunUse(target, DOCUMENT, ("spec", "dependsOn", i), depends_on=flag) for i, (target, flag) in enumerate(u)
        ]
        for name, u in declared.items()
    }
    groups = {"g": [n for n in ("g-x", "g-y") if n in uses]} if group else {}
    fast_problems: list[Any] = []
    general_problems: list[Any] = []
    edges = graph.resolve_edges(uses, groups, fast_problems)
    expected = _reference_edges(uses, groups, general_problems)
    assert edges == expected
    assert [list(e) for e in edges.values()] == [list(e) for e in expected.values()]
    assert fast_problems == general_problems
    nodes = set(edges)
    assert graph._kahn(edges, nodes) == _reference_order(edges, nodes)
    for left_out in nodes:
        assert graph._kahn(edges, nodes - {left_out}) == _reference_order(edges, nodes - {left_out})


@given(st.text(alphabet="0123456789dhms x", max_size=6))
def test_the_remembered_duration_check_equals_the_plain_one(text: str) -> None:
    from reconciler.manifest.models import _check_duration, duration_seconds

    def plain() -> Any:
        try:
            return duration_seconds.__wrapped__(text)
        except ValueError as exc:
            return str(exc)

    for _ in range(2):  # a failure is raised again, never remembered
        try:
            assert _check_duration(text) == text
            assert duration_seconds(text) == plain()
        except ValueError as exc:
            assert str(exc) == plain()


def test_validate_calls_the_model_validator_as_model_validate_does() -> None:
    from reconciler.manifest.models import WorkflowRun
    from reconciler.manifest.validating import validate

    from .stacks import run_doc

    good = parse_documents("m.yaml", run_doc("a", "timeout: 10m\nparameters: {x: 1}\n"), [])[0]
    assert validate(good, WorkflowRun, []) == WorkflowRun.model_validate(good.data)
    bad = parse_documents("m.yaml", run_doc("a", "timeout: 10x\n"), [])[0]
    for _ in range(2):
        problems: list[Any] = []
        assert validate(bad, WorkflowRun, problems) is None
        assert [str(p) for p in problems] == [
            "m.yaml:7:12: spec.timeout: '10x' is not a duration: write e.g. 30s, 30m, 2h or 1h30m"
        ]


@given(st.text(max_size=3), st.text(max_size=3), st.booleans())
def test_new_use_builds_the_frozen_use_its_fields_name(run: str, source: str, depends_on: bool) -> None:
    import dataclasses

    import pytest

    from reconciler.desired.templating import RunUse, new_use

    args = (run, DOCUMENT, PATH, source, depends_on)
    fast, plain = new_use(*args), RunUse(*args)
    assert fast == plain
    assert [getattr(fast, f.name) for f in dataclasses.fields(RunUse)] == list(args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.run = "x"  # type: ignore[misc]
