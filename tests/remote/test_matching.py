"""Recognising our own execution after a lost start: time window, user, inputs, one adopter each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.remote.executions import Execution, parse_date
from reconciler.remote.matching import Wanted, assign, same_inputs, same_user, same_value

T0 = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
SKEW = timedelta(minutes=2)
INPUTS: dict[str, tuple[str, Any]] = {"vmName": ("string", "web-01"), "cpu": ("number", 2)}


def execution(
    eid: str, start: datetime | None, inputs: dict[str, tuple[str, Any]], user: str = "deployer@acme"
) -> Execution:
    return Execution(eid, "wf", "Provision", "running", start, None, user, inputs=inputs)


@pytest.mark.parametrize(
    ("type_name", "sent", "got", "same"),
    [
        ("number", 2, 2.0, True),
        ("number", 2, 3, False),
        ("boolean", True, 1, False),
        ("SecureString", "s3cret", "********", True),
        ("Array/SecureString", ["a"], ["*"], True),
        ("Date", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00.000+00:00", True),
        ("Date", "2026-01-31T10:00:00Z", "2026-01-31T11:00:00+00:00", False),
        ("VC:VirtualMachine", {"id": "vm-1"}, {"id": "vm-1", "href": "https://x"}, True),
        ("VC:VirtualMachine", {"id": "vm-1"}, {"id": "vm-2"}, False),
        ("Array/number", [1, 2], [1.0, 2.0], True),
        ("Array/number", [1, 2], [2, 1], False),
        ("Properties", {"a": 1, "b": [True]}, {"a": 1.0, "b": [True]}, True),
        ("Properties", {"a": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_same_value(type_name: str, sent: Any, got: Any, same: bool) -> None:
    assert same_value(type_name, sent, got) is same


def test_extra_inputs_only_count_when_they_have_values() -> None:
    assert same_inputs(INPUTS, {**INPUTS, "note": ("string", None)})
    assert not same_inputs(INPUTS, {**INPUTS, "note": ("string", "x")})
    assert same_inputs(INPUTS, {**INPUTS, "note": ("string", "x")}, extras_allowed=True)
    assert not same_inputs(INPUTS, {"vmName": ("string", "web-01")})


@pytest.mark.parametrize(
    ("started_by", "user", "same"),
    [
        ("deployer@acme", "DEPLOYER@ACME", True),
        ("deployer", "deployer@acme", True),
        ("other@acme", "deployer@acme", False),
    ],
)
def test_same_user(started_by: str, user: str, same: bool) -> None:
    assert same_user(started_by, user) is same


def test_assign_takes_the_earliest_match_in_the_window_by_the_same_user() -> None:
    executions = [
        execution("too-early", T0 - timedelta(minutes=5), INPUTS),
        execution("other-user", T0, INPUTS, user="jdoe@acme"),
        execution("other-inputs", T0, {**INPUTS, "cpu": ("number", 4)}),
        execution("later", T0 + timedelta(seconds=30), INPUTS),
        execution("skewed", T0 - timedelta(seconds=30), INPUTS),
    ]
    found = assign({"web": Wanted(INPUTS, T0, "deployer@acme")}, executions, SKEW)
    assert found["web"] is not None and found["web"].id == "skewed"


def test_each_execution_is_adopted_once_and_excluded_ids_never() -> None:
    executions = [
        execution("a", T0, INPUTS),
        execution("b", T0 + timedelta(seconds=1), INPUTS),
        execution("c", T0, INPUTS),
    ]
    wanted = {
        1: Wanted(INPUTS, T0, None, frozenset({"c"})),
        2: Wanted(INPUTS, T0 + timedelta(milliseconds=1), None, frozenset({"c"})),
        3: Wanted(INPUTS, T0 + timedelta(milliseconds=2), None, frozenset({"c"})),
    }
    found = assign(wanted, executions, SKEW)
    assert {k: (v.id if v else None) for k, v in found.items()} == {1: "a", 2: "b", 3: None}


def test_exact_matches_win_over_matches_with_filled_in_defaults() -> None:
    with_default = execution("default-filled", T0, {**INPUTS, "zone": ("string", "eu-1")})
    exact = execution("exact", T0 + timedelta(seconds=5), INPUTS)
    found = assign({"k": Wanted(INPUTS, T0, None)}, [with_default, exact], SKEW)
    assert found["k"] is exact
    alone = assign({"k": Wanted(INPUTS, T0, None)}, [with_default], SKEW)
    assert alone["k"] is with_default


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-04-03T14:19:20.488+00:00", datetime(2024, 4, 3, 14, 19, 20, 488000, tzinfo=UTC)),
        ("2024-04-03T14:19:20Z", datetime(2024, 4, 3, 14, 19, 20, tzinfo=UTC)),
        ("2024-04-03T14:19:20.488Z", datetime(2024, 4, 3, 14, 19, 20, 488000, tzinfo=UTC)),
        ("2024-04-03T16:19:20+02:00", datetime(2024, 4, 3, 14, 19, 20, tzinfo=UTC)),
        ("2024-04-03T14:19:20", datetime(2024, 4, 3, 14, 19, 20, tzinfo=UTC)),
        (1712153960488, datetime(2024, 4, 3, 14, 19, 20, 488000, tzinfo=UTC)),
        ("1712153960488", datetime(2024, 4, 3, 14, 19, 20, 488000, tzinfo=UTC)),
        (1712153960, datetime(2024, 4, 3, 14, 19, 20, tzinfo=UTC)),
        (None, None),
        ("not a date", None),
    ],
)
def test_parse_date(raw: Any, expected: datetime | None) -> None:
    parsed = parse_date(raw)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None
