"""YAML 1.2 core reading, duplicate keys, syntax errors and merge keys, each with its location."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import Problem
from reconciler.manifest.interpolation import Reference, parse_template
from reconciler.manifest.parsing import parse_documents, parse_value


def read(text: str) -> tuple[list[Any], list[str]]:
    problems: list[Problem] = []
    documents = parse_documents("f.yaml", text, problems)
    return [d.data for d in documents], [str(p) for p in problems]


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("10", 10),
        ("-3", -3),
        ("0o17", 15),
        ("0x1F", 31),
        ("0755", "0755"),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("1.10", 1.1),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1.2.3", "1.2.3"),
        ("2026-01-31", "2026-01-31"),
        ("'true'", "true"),
        ("!!str 12", "12"),
    ],
)
def test_plain_scalars_follow_yaml_1_2_core(scalar: str, value: Any) -> None:
    assert read(f"k: {scalar}\n") == ([{"k": value}], [])


def test_duplicate_keys_at_any_depth() -> None:
    _, problems = read("a:\n  b:\n    - {c: 1, c: 2}\n  b: 3\n")
    assert problems == [
        "f.yaml:3:14: duplicate key 'c' (first at line 3)",
        "f.yaml:4:3: duplicate key 'b' (first at line 2)",
    ]


def test_syntax_error_keeps_earlier_documents() -> None:
    data, problems = read("a: 1\n---\nb: [1\nc: 2\n")
    assert data == [{"a": 1}]
    assert problems == ["f.yaml:4:2: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'"]


def test_empty_documents_are_skipped() -> None:
    assert read("---\n# nothing\n---\na: 1\n---\n") == ([{"a": 1}], [])


def test_merge_keys_and_their_locations() -> None:
    problems: list[Problem] = []
    [document] = parse_documents("f.yaml", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", problems)
    assert document.data["m"] == {"x": 1, "y": 3}
    assert str(document.location(("m", "x"))) == "f.yaml:1:14"
    assert str(document.location(("m", "y"))) == "f.yaml:4:6"


def test_text_location_finds_a_reference_inside_a_scalar() -> None:
    problems: list[Problem] = []
    [document] = parse_documents("f.yaml", "a: |\n  first\n  then ${var.x}\n", problems)
    assert str(document.text_location(("a",), "${var.x}")) == "f.yaml:3:8"


def test_parse_value() -> None:
    assert parse_value("[a, yes]") == ["a", "yes"]
    with pytest.raises(ValueError):
        parse_value("[a")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("plain", ("plain",)),
        ("$${var.x}", ("${var.x}",)),
        ("$$x", ("$$x",)),
        ("${var.a-b_c}", (Reference("var", "a-b_c", source="${var.a-b_c}"),)),
        ("${ each.key }", (Reference("each", "key", source="${ each.key }"),)),
        (
            "n-${runs.net.a.outputs.id}!",
            ("n-", Reference("runs", "net.a", "id", source="${runs.net.a.outputs.id}", offset=2), "!"),
        ),
    ],
)
def test_template_parts(text: str, parts: tuple[Any, ...]) -> None:
    assert parse_template(text) == (parts, [])


@pytest.mark.parametrize(
    "text", ["${foo}", "${var.}", "${runs.a.outputs}", "${each.item}", "${var.x", "${runs.A.outputs.x}"]
)
def test_malformed_references(text: str) -> None:
    _, errors = parse_template(text)
    assert len(errors) == 1 and errors[0].offset == 0
