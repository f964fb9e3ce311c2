"""YAML text -> documents that keep their node tree, read as YAML 1.2 core.

Why not ``yaml.safe_load``: it reads YAML 1.1, where ``yes``/``no``/``on``/``off`` become booleans,
``0755`` an octal number, ``2026-01-31`` a date and ``1:30`` a sexagesimal 90; a manifest value
silently changes meaning. `ManifestLoader` resolves plain scalars by the YAML 1.2 core schema only
(``true``/``false``, ``null``/``~``, decimal/``0o``/``0x`` integers, floats), with one deliberate
exception: an integer written with a leading zero (``0755``) stays the string it looks like, because
YAML 1.1 and 1.2 disagree on its value.

Why our own construction walk: one pass over the node tree builds the plain data *and* finds
duplicate keys at any depth (which PyYAML accepts silently). The node trees are dropped once the
data is built (they are several times its size); a later problem that must be located
(`Document.location`) composes its file's text again, once per file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import InvalidValueError, Problem, SourceLocation

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"


class ManifestLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader whose plain scalars follow the YAML 1.2 core schema (no ``yes``/``no`` booleans)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level registry

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # libyaml's composer asks `resolve` for the tag of every node: answered from the C-level
        # cache below for a (kind, text, implicit) it has seen.
        self.resolve = _remembered_tag


class _Tags(yaml.resolver.BaseResolver):
    """`ManifestLoader`'s implicit resolvers (the same registry), to resolve a tag without a loader."""

    yaml_implicit_resolvers = ManifestLoader.yaml_implicit_resolvers


@lru_cache(maxsize=1 << 18)
def _remembered_tag(kind: Any, value: Any, implicit: Any) -> Any:
    """The tag `ManifestLoader` resolves, remembered. With no path resolvers it depends on these three
    alone, and manifests repeat the same keys and values thousands of times."""
    return _TAGS.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _resolver(tag: str, pattern: str, first: str) -> None:
    ManifestLoader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_resolver(BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver(INT, r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolver(
    FLOAT,
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    "-+.0123456789",
)
_resolver(NULL, r"^(?:~|null|Null|NULL|)$", "~nN")
ManifestLoader.add_implicit_resolver(NULL, re.compile(r"^$"), [""])
_resolver(MERGE, r"^<<$", "<")
_TAGS = _Tags()


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def _int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


_SCALARS: dict[str, Callable[[str], Any]] = {
    STR: lambda text: text,
    INT: _int,
    FLOAT: _float,
    BOOL: lambda text: text.lower() == "true",
    NULL: lambda text: None,
}


def mark_location(file: str, mark: Any) -> SourceLocation:
    """A PyYAML mark (0-based) as a 1-based `SourceLocation`."""
    return SourceLocation(file, mark.line + 1, mark.column + 1)


class _Source:
    """The text of one file, shared by its documents; its node trees composed again on first need."""

    __slots__ = ("file", "nodes", "text")

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.nodes: list[Node] | None = None

    def node(self, index: int) -> Node:
        if self.nodes is None:
            self.nodes = _compose_again(self.text)
        if index >= len(self.nodes):
            raise ValueError(f"{self.file}: document {index} is no longer in the text")
        return self.nodes[index]


class Document:
    """One YAML document: its plain data, and where to find the node tree it was built from.

    ``index`` is the document's place among the non-empty documents of ``text``. The node tree is
    only needed to say where something is written: `node` composes the file's text again on first
    use (which only a problem or a location asks for), once for all the documents of that file.
    """

    __slots__ = ("_children", "_lines", "_source", "data", "index")

    def __init__(self, source: _Source, data: Any, index: int = 0) -> None:
        self._source = source
        self.data = data
        self.index = index
        self._children: dict[int, dict[Any, tuple[Node, Node]]] = {}
        self._lines: list[str] | None = None

    def __repr__(self) -> str:
        return f"Document(file={self.file!r}, index={self.index}, data={self.data!r})"

    def without_data(self) -> Document:
        """The same document for locating only: what a run built from it keeps, once its data is read
        (the data is the size of the node tree's values, and is not needed again)."""
        return Document(self._source, None, self.index)

    @property
    def file(self) -> str:
        return self._source.file

    @property
    def text(self) -> str:
        return self._source.text

    @property
    def node(self) -> Node:
        return self._source.node(self.index)

    def children(self, node: MappingNode) -> dict[Any, tuple[Node, Node]]:
        """Key -> (key node, value node) of a mapping node, merge keys included (cached)."""
        found = self._children.get(id(node))
        if found is None:
            found = _children_of(node)
            self._children[id(node)] = found
        return found

    def node_at(self, path: tuple[Any, ...], *, key: bool = False) -> Node:
        """The deepest node along ``path`` (the key node of the last step when ``key``)."""
        node = self.node
        for i, step in enumerate(path):
            if isinstance(node, MappingNode):
                pair = self.children(node).get(step)
                if pair is None:
                    continue  # a step of a pydantic loc that is not in the data (e.g. a union tag)
                node = pair[0] if key and i == len(path) - 1 else pair[1]
            elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
        return node

    def location(self, path: tuple[Any, ...] = (), *, key: bool = False) -> SourceLocation:
        """Where ``path`` is written (the key when ``key``); the nearest existing parent otherwise."""
        return mark_location(self.file, self.node_at(path, key=key).start_mark)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def text_location(self, path: tuple[Any, ...], text: str) -> SourceLocation:
        """Where ``text`` (e.g. one ``${...}`` reference) is written inside the scalar at ``path``."""
        node = self.node_at(path)
        start, end = node.start_mark, node.end_mark
        if text and isinstance(node, ScalarNode):
            for line in range(start.line, min(end.line, len(self.lines) - 1) + 1):
                column = self.lines[line].find(text, start.column if line == start.line else 0)
                if column >= 0:
                    return SourceLocation(self.file, line + 1, column + 1)
        return mark_location(self.file, start)


def _children_of(node: MappingNode) -> dict[Any, tuple[Node, Node]]:
    found: dict[Any, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    for k, pair in _children_of(source).items():
                        found.setdefault(k, pair)
        elif isinstance(key_node, ScalarNode):
            found[_SCALARS.get(key_node.tag, str)(key_node.value)] = (key_node, value_node)
    return found


class _Builder:
    """Builds plain data from a node tree in one walk, reporting duplicate keys and odd tags.

    An alias (``*name``) makes one node appear in several places, or inside itself: such a node is
    built once and shared, and a loop is reported. A text without ``*`` has no alias, every node
    appears once, and ``aliases=False`` skips that bookkeeping (two set and dict updates per mapping).
    """

    def __init__(self, file: str, problems: list[Problem], *, aliases: bool = True) -> None:
        self.file = file
        self.problems = problems
        self.aliases = aliases
        self.memo: dict[int, Any] = {}
        self.building: set[int] = set()

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(mark_location(self.file, node.start_mark), message))

    def build(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            convert = _SCALARS.get(node.tag)
            if convert is None:
                self.problem(node, f"unsupported YAML tag {node.tag!r}")
                return node.value
            return convert(node.value)
        if not self.aliases:
            return self.mapping(node) if isinstance(node, MappingNode) else self.sequence(node)
        done = self.memo.get(id(node))
        if done is not None:
            return done
        if id(node) in self.building:
            self.problem(node, "a recursive alias is not supported")
            return None
        self.building.add(id(node))
        built = self.mapping(node) if isinstance(node, MappingNode) else self.sequence(node)
        self.building.discard(id(node))
        self.memo[id(node)] = built
        return built

    def sequence(self, node: Node) -> list[Any]:
        if node.tag != SEQ:
            self.problem(node, f"unsupported YAML tag {node.tag!r}")
        return [self.build(item) for item in node.value]

    def mapping(self, node: MappingNode) -> dict[Any, Any]:
        if node.tag != MAP:
            self.problem(node, f"unsupported YAML tag {node.tag!r}")
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merged = {**self.merge_source(value_node), **merged}
                continue
            key = self.key(key_node)
            if key in result:
                first = _previous_key_line(node, key_node, key)
                self.problem(key_node, f"duplicate key {key!r} (first at line {first})")
            result[key] = self.build(value_node)
        return {**merged, **result} if merged else result

    def merge_source(self, node: Node) -> dict[Any, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[Any, Any] = {}
        for source in reversed(sources):
            built = self.build(source)
            if isinstance(built, dict):
                merged.update(built)
            else:
                self.problem(source, "a merge key (<<) needs a mapping or a list of mappings")
        return merged

    def key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            self.problem(node, "a mapping key must be a plain value, not a list or a mapping")
        elif node.tag not in _SCALARS:
            self.problem(node, f"unsupported YAML tag {node.tag!r}")
        return _key_value(node)


def _key_value(node: Node) -> Any:
    """The key a key node stands for (a null key is ``""``); what `_Builder.key` gives, unreported."""
    if not isinstance(node, ScalarNode):
        return f"<complex key at line {node.start_mark.line + 1}>"
    convert = _SCALARS.get(node.tag)
    value = convert(node.value) if convert is not None else node.value
    return value if value is not None else ""


def _previous_key_line(mapping: MappingNode, key_node: Node, key: Any) -> int:
    """The line of the last key before ``key_node`` in ``mapping`` that stands for ``key`` (a duplicate
    is rare: found again only when reported)."""
    line = 0
    for other, _ in mapping.value:
        if other is key_node:
            break
        if other.tag != MERGE and _key_value(other) == key:
            line = other.start_mark.line + 1
    return line


def parse_documents(file: str, text: str, problems: list[Problem]) -> list[Document]:
    """Every non-empty document of ``text``; syntax errors and duplicate keys go to ``problems``.

    A syntax error ends the file (YAML cannot resume after one); the documents before it are kept.
    """
    source = _Source(file, text)
    return [Document(source, data, i) for i, data in enumerate(_parse(file, text, problems))]


def _parse(file: str, text: str, problems: list[Problem]) -> list[Any]:
    """The plain data of each non-empty document; each node tree is dropped once its data is built."""
    found: list[Any] = []
    aliases = "*" in text
    loader = ManifestLoader(text)
    try:
        for node in _non_empty(loader):
            found.append(_Builder(file, problems, aliases=aliases).build(node))
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(file, exc, text))
    except yaml.YAMLError as exc:  # a reader error: bytes that are not valid text
        problems.append(Problem(SourceLocation(file), f"cannot read YAML: {exc}"))
    finally:
        loader.dispose()
    return found


def _non_empty(loader: ManifestLoader) -> Iterator[Node]:
    """The node trees of ``loader``'s documents, but for empty ones (a stray `---`, or only comments)."""
    while loader.check_node():
        node: Node | None = loader.get_node()
        if node is not None and not (isinstance(node, ScalarNode) and node.tag == NULL):
            yield node


def _compose_again(text: str) -> list[Node]:
    """The node trees of the non-empty documents of ``text`` (which parsed before), up to a syntax
    error if there is one (as `_parse` kept them)."""
    nodes: list[Node] = []
    loader = ManifestLoader(text)
    try:
        for node in _non_empty(loader):
            nodes.append(node)
    except yaml.YAMLError:
        pass  # reported when the text was parsed; the documents before it are in ``nodes``
    finally:
        loader.dispose()
    return nodes


def _syntax_problem(file: str, exc: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    where = mark_location(file, mark) if mark is not None else SourceLocation(file)
    message = " ".join(part for part in (exc.context, exc.problem) if part)
    return Problem(where, f"YAML syntax error: {message or exc}{_flow_hint(exc, text)}")


def _flow_hint(exc: yaml.MarkedYAMLError, text: str) -> str:
    """A ``${...}`` inside ``{...}`` or ``[...]`` ends the flow collection at its ``}``: say to quote it."""
    start, end = exc.context_mark, exc.problem_mark
    if "flow" not in (exc.context or "") or start is None or end is None:
        return ""
    if not any("${" in line for line in text.split("\n")[start.line : end.line + 1]):
        return ""
    return (
        ' (a ${...} inside {...} or [...] must be quoted, e.g. {type: number, value: "${each.value}"};'
        " a quoted whole reference keeps its value's type)"
    )


def parse_value(text: str) -> Any:
    """A small YAML value (a ``--var`` list or mapping, a file read for a typed parameter)."""
    problems: list[Problem] = []
    documents = parse_documents("<value>", text, problems)
    if problems:
        raise InvalidValueError(problems[0].message)
    if len(documents) > 1:
        raise InvalidValueError("more than one YAML document")
    return documents[0].data if documents else None
