"""Building many frozen, slotted dataclass objects fast: one shared constructor maker.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (frozen forbids
plain assignment), which looks the field up on the class for each one. Where tens of thousands are
built in one command (a 10,000-run plan: desired inputs and runs, the uses of run outputs, the
changes), `positional_constructor` gives a function that sets the slots through their descriptors,
fetched once: about half the time per object, and the same object (equal, same hash, still frozen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def positional_constructor(cls: Callable[P, T]) -> Callable[P, T]:
    """A constructor for the frozen, slotted dataclass ``cls`` taking *every* field, in field order.

    Typed as ``cls`` itself, but with no defaults: a call that leaves a field out is a TypeError.
    The function is written out and compiled once, one descriptor call per field, as dataclasses
    writes ``__init__`` (a loop over the descriptors would cost what it saves)."""
    if not (isinstance(cls, type) and is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls!r} is not a slotted dataclass")
    names = [f.name for f in fields(cls)]
    namespace: dict[str, object] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def construct({', '.join(names)}):", "    built = _new(_cls)"]
    for i, name in enumerate(names):
        namespace[f"_set{i}"] = cls.__dict__[name].__set__
        lines.append(f"    _set{i}(built, {name})")
    lines.append("    return built")
    exec("\n".join(lines), namespace)  # our own field names, as dataclasses writes __init__
    construct = namespace["construct"]
    construct.__qualname__ = f"positional_constructor({cls.__qualname__})"  # type: ignore[attr-defined]
    return construct  # type: ignore[return-value]
