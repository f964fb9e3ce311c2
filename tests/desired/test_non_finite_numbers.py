"""NaN and infinity are numbers YAML can write but JSON cannot carry: a located error at plan time,
never a bare ValueError when the request is encoded (shorthand and explicit form alike)."""

from __future__ import annotations

import pytest

from reconciler.parameters import check_value, infer_type

from .stacks import problems, run_doc


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf", ".NaN"])
def test_shorthand(written: str) -> None:
    found = problems(run_doc("a", f"parameters:\n  cpuCount: {written}\n"))
    assert len(found) == 1 and found[0].startswith("m.yaml:8:15: parameter 'cpuCount': ")
    assert "no NaN or infinity" in found[0]


def test_explicit_and_in_arrays() -> None:
    found = problems(
        run_doc(
            "a", "parameters:\n  size: {type: number, value: .inf}\n  sizes: {type: Array/number, value: [1, .nan]}\n"
        )
    )
    assert len(found) == 2 and all("finite number" in p for p in found), found


def test_the_type_rule() -> None:
    assert check_value("number", float("nan")) is not None and check_value("number", 1e308) is None
    assert infer_type(float("inf")) is None and infer_type(2.5) == "number"
