"""``--target web`` on a forEach declaration's name selects every run it expands to (with their dependencies)."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.desired.runs import DesiredStack
from reconciler.errors import ManifestError

from .stacks import empty_state, plan, run_doc, stack


def _desired() -> DesiredStack:
    desired = stack(
        run_doc("net"),
        run_doc("web", parameters={"n": "${runs.net.outputs.id}-${each.key}"}, forEach=["a", "b"]),
        run_doc("db", parameters={"k": "${each.key}"}, forEach=["x"]),
        run_doc("solo"),
    )
    # the loader records which runs a forEach made (reconciler.desired.loading passes its groups)
    groups = {"web": ("web-a", "web-b"), "db": ("db-x",)}
    return dataclasses.replace(desired, groups=desired.groups or groups)


def test_a_for_each_name_targets_all_its_runs_and_their_dependencies() -> None:
    result = plan(_desired(), empty_state(), targets=("web",))
    assert sorted(c.run for c in result.changes) == ["net", "web-a", "web-b"]
    assert result.targets == ("web",)


def test_a_for_each_name_and_a_run_name_together() -> None:
    result = plan(_desired(), empty_state(), targets=("db", "solo", "web-b"))
    assert sorted(c.run for c in result.changes) == ["db-x", "net", "solo", "web-b"]


def test_a_name_that_is_neither_is_still_refused() -> None:
    with pytest.raises(ManifestError) as caught:
        plan(_desired(), empty_state(), targets=("webb",))
    assert "no run named 'webb'" in str(caught.value)


def test_expand_prefers_a_run_of_that_name() -> None:
    desired = dataclasses.replace(_desired(), groups={"solo": ("solo-a",), "web": ("web-a", "web-b")})
    assert desired.expand("solo") == ("solo",)
    assert desired.expand("web") == ("web-a", "web-b")
    assert desired.expand("nope") == ()
