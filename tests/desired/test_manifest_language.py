"""forEach over objects, ``${each.value.FIELD}``, run names built from the key, and the grammar behind them."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired.runs import Interpolation, OutputRef
from reconciler.manifest.interpolation import Reference, parse_template

from .stacks import STACK, load, problems, run_doc

OBJECTS_STACK = STACK + "    vms: {type: list}\n    sizes: {type: map}\n"


def values(manifests: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Each run's input values, by run name."""
    desired = load(manifests, **kwargs)
    return {name: {k: v.value for k, v in run.inputs.items()} for name, run in desired.runs.items()}


def test_for_each_over_a_list_of_objects_is_keyed_by_name_and_reads_nested_fields() -> None:
    manifest = run_doc(
        "web",
        """
        forEach:
          - {name: a, cpu: 2, disk: {size: 10}, zones: [z1, z2]}
          - {name: b, cpu: 4, disk: {size: 20}, zones: [z3]}
        parameters:
          cpu: ${each.value.cpu}
          size: ${each.value.disk.size}
          zone: ${each.value.zones.0}
          label: vm-${each.key}-${each.value.disk.size}
          whole: {type: Properties, value: ${each.value.disk}}
        """.replace("${each.value.disk}}", '"${each.value.disk}"}'),
    )
    assert values(manifest) == {
        "web-a": {"cpu": 2, "size": 10, "zone": "z1", "label": "vm-a-10", "whole": {"size": 10}},
        "web-b": {"cpu": 4, "size": 20, "zone": "z3", "label": "vm-b-20", "whole": {"size": 20}},
    }


def test_for_each_over_a_map_of_objects_gives_the_map_key() -> None:
    manifest = run_doc(
        "db",
        """
        forEach:
          east: {cpu: 2, tier: {name: gold}}
          west: {cpu: 8, tier: {name: silver}}
        parameters:
          key: ${each.key}
          cpu: ${each.value.cpu}
          tier: ${each.value.tier.name}
        """,
    )
    assert values(manifest) == {
        "db-east": {"key": "east", "cpu": 2, "tier": "gold"},
        "db-west": {"key": "west", "cpu": 8, "tier": "silver"},
    }


def test_for_each_over_objects_from_a_var_file() -> None:
    manifest = run_doc("vm", "forEach: ${var.vms}\nparameters:\n  cpu: ${each.value.cpu}\n  n: ${each.key}")
    var_file = ("prod.yaml", "vms:\n  - {name: x1, cpu: 1}\n  - {name: x2, cpu: 2}\n")
    assert values(manifest, stack=OBJECTS_STACK, var_files=[var_file]) == {
        "vm-x1": {"cpu": 1, "n": "x1"},
        "vm-x2": {"cpu": 2, "n": "x2"},
    }
    map_manifest = run_doc("vm", "forEach: ${var.sizes}\nparameters:\n  cpu: ${each.value.cpu}")
    map_file = ("prod.yaml", "sizes: {small: {cpu: 1}, large: {cpu: 8}}\n")
    assert values(map_manifest, stack=OBJECTS_STACK, var_files=[map_file]) == {
        "vm-large": {"cpu": 8},
        "vm-small": {"cpu": 1},
    }


def test_existing_for_each_forms_keep_their_names_and_values() -> None:
    listed = run_doc("n", "forEach: [a, 1.10, 2]\nparameters:\n  k: ${each.key}\n  v: ${each.value}")
    assert values(listed) == {
        "n-a": {"k": "a", "v": "a"},
        "n-1.10": {"k": "1.10", "v": "1.10"},
        "n-2": {"k": "2", "v": "2"},
    }
    mapped = run_doc("m", "forEach: {a: 4, b: [x]}\nparameters:\n  v: ${each.value}")
    assert values(mapped) == {"m-a": {"v": 4}, "m-b": {"v": ["x"]}}


def test_a_list_item_mapping_without_a_name_is_a_located_problem() -> None:
    manifest = run_doc("web", "forEach:\n  - {name: a}\n  - {cpu: 2}\nparameters:\n  x: ${each.key}")
    found = problems(manifest)
    assert len(found) == 1
    assert found[0].startswith("m.yaml:9:7: a forEach list item that is a mapping needs a 'name' field")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "forEach: {a: {cpu: 2}}\nparameters:\n  x: ${each.value.mem}",
            "m.yaml:9:8: ${each.value.mem}: each.value has no field 'mem' (its fields: cpu)",
        ),
        (
            "forEach: {a: {cpu: 2}}\nparameters:\n  x: ${each.value.cpu.n}",
            "m.yaml:9:8: ${each.value.cpu.n}: each.value.cpu is 2, not a mapping: it has no field 'n'",
        ),
        (
            "forEach: {a: {z: [1]}}\nparameters:\n  x: ${each.value.z.3}",
            "m.yaml:9:8: ${each.value.z.3}: each.value.z is a list of 1 items: '3' is not an index of it",
        ),
        (
            "forEach: [a]\nparameters:\n  x: ${each.key.x}",
            "m.yaml:9:8: unknown reference '${each.key.x}'",
        ),
    ],
)
def test_a_missing_field_is_a_located_problem(body: str, expected: str) -> None:
    found = problems(run_doc("web", body))
    assert len(found) == 1 and found[0].startswith(expected), found


KEYED = run_doc("web", "forEach: [a, b]\nparameters:\n  name: w-${each.key}")


def test_a_run_name_built_from_the_key_resolves_per_run_and_adds_the_edge() -> None:
    manifest = (
        KEYED
        + "---\n"
        + run_doc(
            "db",
            "forEach: {a: 1, b: 2}\nparameters:\n  ip: ${runs.web-${each.key}.outputs.ip}\n"
            "  url: http://${runs.web-${each.key}.outputs.ip}:80",
        )
    )
    desired = load(manifest)
    for key in ("a", "b"):
        run = desired.runs[f"db-{key}"]
        assert run.inputs["ip"].value == OutputRef(f"web-{key}", "ip")
        assert run.inputs["url"].value == Interpolation(("http://", OutputRef(f"web-{key}", "ip"), ":80"))
        assert run.depends_on == {f"web-{key}"}
    assert desired.order.index("web-a") < desired.order.index("db-a")


def test_a_run_name_built_from_a_variable() -> None:
    manifest = KEYED + "---\n" + run_doc("db", "parameters:\n  ip: ${runs.web-${var.zone}.outputs.ip}")
    desired = load(manifest, variables={"zone": "b"})
    assert desired.runs["db"].inputs["ip"].value == OutputRef("web-b", "ip")
    assert desired.runs["db"].depends_on == {"web-b"}


def test_a_built_name_that_is_not_declared_is_located_and_names_the_run() -> None:
    manifest = KEYED + "---\n" + run_doc("db", "forEach: [a, c]\nparameters:\n  ip: ${runs.web-${each.key}.outputs.ip}")
    assert problems(manifest) == [
        "m.yaml:19:9: ${runs.web-${each.key}.outputs.ip} in run 'db-c' names run 'web-c', which is not declared "
        "(did you mean 'web-b'?)"
    ]


@pytest.mark.parametrize(
    ("reference", "variables", "expected"),
    [
        ("${runs.web-${var.zone}.outputs.ip}", {"zone": "B"}, "names the run 'web-B', which is not a valid run name"),
        ("${runs.web-${each.value}.outputs.ip}", {}, "${each.value} is not a string or a number"),
        ("${runs.web-${each.key}.outputs.ip}", {}, "is only available in a run with forEach"),
        ("${runs.web-${runs.x.outputs.y}.outputs.ip}", {}, "only a run's name may be built from"),
    ],
)
def test_a_built_name_that_cannot_be_made_is_a_located_problem(
    reference: str, variables: dict[str, str], expected: str
) -> None:
    for_each = "forEach: {a: [1]}\n" if "each.value" in reference else ""
    manifest = KEYED + "---\n" + run_doc("db", f"{for_each}parameters:\n  ip: {reference}")
    found = problems(manifest, variables=variables or {"zone": "a"})
    assert len(found) == 1 and found[0].startswith("m.yaml:") and expected in found[0], found


def test_the_grammar_of_fields_and_built_names() -> None:
    assert parse_template("${each.value.disk.size}") == (
        (Reference("each", "value", source="${each.value.disk.size}", fields=("disk", "size")),),
        [],
    )
    text = "x-${runs.web-${each.key}.outputs.ip}"
    inner = Reference("each", "key", source="${each.key}", offset=4)
    built = Reference("runs", "web-${each.key}", "ip", source=text[2:], offset=2, name_parts=("web-", inner))
    assert parse_template(text) == (("x-", built), [])
    _, errors = parse_template("${runs.web-${each.key}.outputs.ip")
    assert len(errors) == 1 and "unterminated" in errors[0].message
