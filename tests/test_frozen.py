"""`positional_constructor` builds the same frozen object as the dataclass itself, and refuses a class
it cannot build that way."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, field, fields

import pytest

from reconciler.frozen import positional_constructor


@dataclass(frozen=True, slots=True)
class _Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default=(), compare=False)


def test_the_same_object_as_the_dataclass_constructor() -> None:
    build = positional_constructor(_Point)
    fast, plain = build(1, 2, ("a",)), _Point(1, 2, ("a",))
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert [getattr(fast, f.name) for f in fields(_Point)] == [1, 2, ("a",)]
    assert build(x=3, y=4, tags=()) == _Point(3, 4)  # keywords by the field names work too
    with pytest.raises(FrozenInstanceError):
        fast.x = 5  # type: ignore[misc]


def test_every_field_is_required() -> None:
    with pytest.raises(TypeError):
        positional_constructor(_Point)(1)  # type: ignore[call-arg]


def test_only_slotted_dataclasses() -> None:
    @dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError, match="not a slotted dataclass"):
        positional_constructor(Plain)
