"""``output``'s selection, pure: the selector (run names may contain dots), and which selected outputs
are sensitive (shown as ``(sensitive)``: the state keeps only their names)."""

from __future__ import annotations

import pytest

from reconciler.errors import UserError
from reconciler.operations.show import outputs_of, parse_selector, raw_value, sensitive_among
from reconciler.state.models import RunRecord, State


def _state() -> State:
    runs = {
        "vault": RunRecord(workflow="wf", key="k", outputs={"id": "v-1"}, sensitive_outputs=["token"]),
        "web.eu": RunRecord(workflow="wf", key="k", outputs={"ip": "10.0.0.1", "note": "(sensitive)"}),
    }
    return State(lineage="l", salt="s", runs=runs)


def test_the_selector_names_a_run_and_an_output_or_neither() -> None:
    state = _state()
    assert parse_selector(state, None) == ("", "")
    assert parse_selector(state, "vault") == ("vault", "")
    assert parse_selector(state, "vault.token") == ("vault", "token")
    assert parse_selector(state, "web.eu") == ("web.eu", "")  # a dotted run name
    assert parse_selector(state, "web.eu.ip") == ("web.eu", "ip")
    with pytest.raises(UserError, match="no run named 'nope'"):
        parse_selector(state, "nope.x")


def test_sensitive_outputs_are_told_from_a_value_that_reads_like_the_mark() -> None:
    state = _state()
    assert sensitive_among(state, outputs_of(state, None)) == [("vault", "token")]
    assert sensitive_among(state, outputs_of(state, "vault.id")) == []
    assert sensitive_among(state, outputs_of(state, "web.eu.note")) == []  # a real value "(sensitive)"
    assert outputs_of(state, "vault.token") == {"vault": {"token": "(sensitive)"}}


def test_raw_values_are_bare_strings_or_json() -> None:
    assert raw_value("x y") == "x y"
    assert raw_value(["a", 2]) == '["a", 2]'
    assert raw_value(None) == "null"
