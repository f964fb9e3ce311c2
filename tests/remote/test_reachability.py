"""The endpoint's reachability: one notice per outage, sporadic 5xx are no outage, give-up on time."""

from __future__ import annotations

import pytest

from reconciler.errors import EndpointUnreachableError
from reconciler.remote.reachability import Notice, Reachability


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _watched(give_up_after: float = 60.0) -> tuple[Reachability, Clock, list[Notice]]:
    clock = Clock()
    reachability = Reachability("https://vcd", give_up_after, clock=clock)
    notices: list[Notice] = []
    reachability.subscribe(notices.append)
    return reachability, clock, notices


def test_one_notice_per_outage_however_many_requests_fail() -> None:
    reachability, clock, notices = _watched()
    for _ in range(20):  # 20 failed requests, 1 s apart
        reachability.failed("GET x: 502 Bad Gateway", clock.now)
        clock.now += 1
    reachability.answered()
    reachability.answered()
    assert [n.reachable for n in notices] == [False, True]
    assert "https://vcd is not answering (GET x: 502 Bad Gateway)" in notices[0].message
    assert "answers again (after 20s)" in notices[1].message


def test_sporadic_failures_between_answers_are_no_outage() -> None:
    reachability, clock, notices = _watched()
    for _ in range(50):
        reachability.failed("GET x: 500 Internal Server Error", clock.now)
        clock.now += 1
        reachability.answered()
    assert notices == []
    reachability.check("read x")  # nothing to give up on


def test_no_request_is_sent_once_the_outage_lasted_the_give_up_time() -> None:
    reachability, clock, _ = _watched(give_up_after=60.0)
    reachability.failed("cannot connect", clock.now)
    clock.now += 59
    reachability.check("read x")
    assert reachability.time_left() == pytest.approx(1.0)
    clock.now += 1
    with pytest.raises(EndpointUnreachableError, match=r"gave up on the VCD endpoint https://vcd: no answer for 60s"):
        reachability.check("read x")
