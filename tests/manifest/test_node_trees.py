"""Node trees are dropped once a document's data is built, and composed again (once per file) only
when a problem or a location needs them: for every document, a syntax error later in the file too."""

from __future__ import annotations

import gc

from yaml.nodes import Node

from reconciler.errors import Problem, SourceLocation
from reconciler.manifest.parsing import parse_documents

TEXT = """\
a: 1
b:
  c: [x, y]
---
d: two
---
e: {f: bad: ]
"""


def _live_nodes() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Node))


def test_no_node_tree_outlives_the_parse() -> None:
    before = _live_nodes()
    problems: list[Problem] = []
    documents = parse_documents("m.yaml", TEXT * 50, problems)
    assert len(documents) == 2  # the third document has a syntax error: the file ends there
    assert _live_nodes() == before


def test_documents_before_a_syntax_error_are_located_from_the_text_again() -> None:
    problems: list[Problem] = []
    first, second = parse_documents("m.yaml", TEXT, problems)
    assert [p.location.line for p in problems] == [7]
    assert first.location(("b", "c"), key=True) == SourceLocation("m.yaml", 3, 3)
    assert first.location(("b", "c", 1)) == SourceLocation("m.yaml", 3, 10)
    assert second.location(("d",)) == SourceLocation("m.yaml", 5, 4)
    assert second.text_location(("d",), "wo") == SourceLocation("m.yaml", 5, 5)
