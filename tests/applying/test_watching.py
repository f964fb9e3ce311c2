"""The watcher against a scripted StateSource, on virtual time (an hour of backoff takes milliseconds)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.applying.watching import MAX_INTERVAL, MIN_INTERVAL, Watcher
from reconciler.errors import NotFoundError, RemoteError, TemporaryRemoteError

from .virtual_time import run_virtual


@dataclass(frozen=True)
class Read:
    id: str
    state: str
    start_date: datetime | None = None
    end_date: datetime | None = None


def server_date(clock: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=clock)


class FakeSource:
    """Executions that end at scripted times; every call counted with the time it was made."""

    def __init__(self) -> None:
        self.clock = asyncio.get_running_loop().time
        self.ends: dict[str, tuple[str, float, str]] = {}  # execution -> (workflow, ends at, final state)
        self.list_calls: list[tuple[float, str]] = []
        self.get_calls: list[tuple[float, str]] = []
        self.list_errors: list[RemoteError] = []
        self.get_errors: dict[str, list[RemoteError]] = {}
        self.hidden: set[str] = set()  # executions the list does not show
        self.began: dict[str, float] = {}
        self.dated = True  # whether a read gives an ended execution's start and end dates
        self.slow: dict[str, float] = {}  # execution -> how long a read of it takes (else 0.01 s)

    def add(self, workflow: str, execution: str, after: float, final: str = "completed") -> None:
        self.ends[execution] = (workflow, self.clock() + after, final)
        self.began[execution] = self.clock()

    def _state(self, execution: str) -> str:
        _, ends_at, final = self.ends[execution]
        return final if self.clock() >= ends_at else "running"

    async def list_states(self, workflow_id: str) -> dict[str, str]:
        self.list_calls.append((self.clock(), workflow_id))
        await asyncio.sleep(0.01)  # a round trip
        if self.list_errors:
            raise self.list_errors.pop(0)
        return {e: self._state(e) for e, (w, _, _) in self.ends.items() if w == workflow_id and e not in self.hidden}

    async def get_execution(self, workflow_id: str, execution_id: str) -> Read:
        self.get_calls.append((self.clock(), execution_id))
        await asyncio.sleep(self.slow.get(execution_id, 0.01))
        errors = self.get_errors.get(execution_id)
        if errors:
            raise errors.pop(0)
        if execution_id not in self.ends:
            raise NotFoundError(f"no execution {execution_id}", status=403)
        state = self._state(execution_id)
        if state == "running" or not self.dated:
            return Read(execution_id, state)
        ended = self.ends[execution_id][1]
        return Read(execution_id, state, server_date(self.began[execution_id]), server_date(ended))

    def gets_of(self, execution: str) -> list[float]:
        return [t for t, e in self.get_calls if e == execution]


Scenario = Callable[[Watcher, FakeSource], Awaitable[None]]


def watching(scenario: Scenario) -> None:
    """Run ``scenario`` with a started watcher on a fresh FakeSource, on virtual time."""

    async def main() -> None:
        source = FakeSource()
        watcher = Watcher(source, clock=asyncio.get_running_loop().time)
        watcher.start()
        try:
            await scenario(watcher, source)
        finally:
            await watcher.stop()

    run_virtual(main())


def test_three_executions_of_one_workflow_are_watched_with_the_list() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=5)
        source.add("B", "b1", after=5)
        began = source.clock()
        states = await asyncio.gather(
            *(watcher.until_done(w, e) for w, e in [*(("A", f"a{i}") for i in (1, 2, 3)), ("B", "b1")])
        )
        assert states == ["completed"] * 4
        assert {w for _, w in source.list_calls} == {"A"}
        assert {e for _, e in source.get_calls} == {"b1"}  # a lone execution: its own state
        assert source.clock() - began < 6  # seen within ~10 % of their age after they ended

    watching(scenario)


@pytest.mark.parametrize("count", [1, 2])
def test_one_or_two_executions_are_watched_one_by_one(count: int) -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        names = [f"a{i}" for i in range(count)]
        for i, e in enumerate(names):
            source.add("A", e, after=1 + i)
        states = await asyncio.gather(*(watcher.until_done("A", e) for e in names))
        assert states == ["completed"] * count
        assert source.list_calls == []
        assert {e for _, e in source.get_calls} == set(names)

    watching(scenario)


@pytest.mark.parametrize("final", ["completed", "failed", "canceled"])
@pytest.mark.parametrize("count", [1, 3])
def test_a_terminal_state_ends_the_watch(final: str, count: int) -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        names = [f"x{i}" for i in range(count)]
        for e in names:
            source.add("W", e, after=0.7, final=final)
        states = await asyncio.gather(*(watcher.until_done("W", e) for e in names))
        assert states == [final] * count
        assert watcher.current(names[0]) is None  # no longer watched
        calls = len(source.list_calls) + len(source.get_calls)
        await asyncio.sleep(60)
        assert len(source.list_calls) + len(source.get_calls) == calls  # and no longer looked at

    watching(scenario)


def test_an_execution_the_list_does_not_show_is_looked_at_alone() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=1)
        source.hidden.add("a3")
        states = await asyncio.gather(*(watcher.until_done("A", e) for e in ("a1", "a2", "a3")))
        assert states == ["completed"] * 3
        assert source.list_calls
        assert "a3" in {e for _, e in source.get_calls}  # never listed: read alone

    watching(scenario)


def test_a_temporary_error_only_delays_the_next_look() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "a1", after=1)
        source.get_errors["a1"] = [TemporaryRemoteError("503 busy", status=503) for _ in range(5)]
        assert await watcher.until_done("A", "a1") == "completed"
        assert len(source.gets_of("a1")) >= 6
        assert source.get_errors["a1"] == []

    watching(scenario)


def test_a_temporary_list_error_only_delays_the_next_look() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=3)
        source.list_errors = [TemporaryRemoteError("503 busy", status=503)]
        states = await asyncio.gather(*(watcher.until_done("A", e) for e in ("a1", "a2", "a3")))
        assert states == ["completed"] * 3
        assert len(source.list_calls) >= 2

    watching(scenario)


def test_a_temporary_list_error_is_not_followed_by_one_lookup_per_execution() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3", "a4", "a5"):
            source.add("A", e, after=3)
        source.list_errors = [TemporaryRemoteError("503 busy", status=503)]
        await asyncio.gather(*(watcher.until_done("A", e) for e in ("a1", "a2", "a3", "a4", "a5")))
        assert source.get_calls == []

    watching(scenario)


def test_a_permanent_error_fails_only_the_waiting_call() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "a1", after=1)
        source.add("B", "b1", after=2)
        source.get_errors["a1"] = [NotFoundError("execution a1 is gone", status=403)]
        gone, fine = await asyncio.gather(
            watcher.until_done("A", "a1"), watcher.until_done("B", "b1"), return_exceptions=True
        )
        assert isinstance(gone, NotFoundError) and "a1 is gone" in str(gone)
        assert fine == "completed"
        assert len(source.gets_of("a1")) == 1  # not retried

    watching(scenario)


def test_a_permanent_list_error_fails_the_watches_of_that_workflow() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=1)
        source.add("B", "b1", after=1)
        source.list_errors = [NotFoundError("workflow A is gone", status=403)]
        results = await asyncio.gather(
            *(watcher.until_done(w, e) for w, e in [("A", "a1"), ("A", "a2"), ("A", "a3"), ("B", "b1")]),
            return_exceptions=True,
        )
        assert [type(r) for r in results[:3]] == [NotFoundError] * 3
        assert results[3] == "completed"

    watching(scenario)


def test_the_interval_grows_with_age_and_stays_bounded() -> None:
    hour = 3600.0

    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "long", after=10 * hour)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(watcher.until_done("A", "long"), timeout=hour)
        times = source.gets_of("long")
        # 0.2 s steps while young, then +10 % of the age, then every 15 s: about 290 looks in an hour
        assert 200 < len(times) < 400, len(times)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[0] == pytest.approx(MIN_INTERVAL + 0.01, abs=0.02)  # the look's own round trip
        assert all(later >= earlier - 1e-6 for earlier, later in itertools.pairwise(gaps))
        assert gaps[-1] == pytest.approx(MAX_INTERVAL + 0.01, abs=0.02)
        assert watcher.current("long") is None  # the watch ended with its waiter

    watching(scenario)


def test_the_list_backs_off_too() -> None:
    hour = 3600.0

    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        names = [f"a{i}" for i in range(20)]
        for e in names:
            source.add("A", e, after=10 * hour)
        waiting = asyncio.gather(*(watcher.until_done("A", e) for e in names))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(waiting, timeout=hour)
        assert source.get_calls == []
        assert 200 < len(source.list_calls) < 400, len(source.list_calls)  # one list for all 20

    watching(scenario)


@pytest.mark.parametrize("dated", [True, False])
def test_the_first_look_waits_for_what_executions_of_the_workflow_ran(dated: bool) -> None:
    """By the server's dates when the read gives them, else by the time until one was seen ended."""

    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.dated = dated
        source.add("A", "first", after=5)
        assert await watcher.until_done("A", "first") == "completed"
        took = source.clock() - source.ends["first"][1] + 5  # seen ended this long after its start
        assert took > 5.05  # the backoff saw it late
        looks_of_first = len(source.gets_of("first"))
        assert looks_of_first > 3  # young, it was looked at often
        source.add("A", "second", after=5)
        source.add("B", "other", after=5)
        began = source.clock()
        states = await asyncio.gather(watcher.until_done("A", "second"), watcher.until_done("B", "other"))
        assert list(states) == ["completed", "completed"]
        first_look = source.gets_of("second")[0] - began
        assert first_look == pytest.approx(5 if dated else took, abs=0.01)  # not before the first one ran
        assert len(source.gets_of("second")) == 1  # ended by then: one read
        assert len(source.gets_of("other")) > 3  # another workflow learns on its own

    watching(scenario)


def test_what_one_execution_ran_brings_the_first_look_of_the_others_forward() -> None:
    """Executions started before any of their workflow ended (looked at with the list, backing off)
    are read alone when they reach the age the first one ran, not at their backoff's next look."""

    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        seen: dict[str, float] = {}

        async def watch(execution: str) -> None:
            await watcher.until_done("A", execution)
            seen[execution] = source.clock()

        source.add("A", "x0", after=5)
        first = asyncio.ensure_future(watch("x0"))
        await asyncio.sleep(1)
        later = [f"x{i}" for i in range(1, 6)]
        for e in later:
            source.add("A", e, after=5)
        await asyncio.gather(first, *(watch(e) for e in later))
        assert seen["x0"] - source.began["x0"] > 5.05  # the backoff saw the first one late
        for e in later:
            assert seen[e] - source.began[e] == pytest.approx(5.01, abs=0.005)  # read alone as it ended
            assert source.gets_of(e)[-1] == pytest.approx(source.began[e] + 5)

    watching(scenario)


def test_the_read_that_saw_an_execution_end_is_handed_over_once() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "alone", after=1)
        for e in ("l1", "l2", "l3"):
            source.add("L", e, after=1)
        await asyncio.gather(
            *(watcher.until_done(w, e) for w, e in [("A", "alone"), ("L", "l1"), ("L", "l2"), ("L", "l3")])
        )
        read = watcher.take_read("alone")
        assert isinstance(read, Read) and (read.id, read.state) == ("alone", "completed")
        assert watcher.take_read("alone") is None
        assert watcher.take_read("l1") is None  # seen ended in a list: nothing read alone to hand over

    watching(scenario)


def test_a_list_ends_the_watches_it_shows_ended_and_leaves_the_others_schedule() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=0.5)
        await asyncio.gather(*(watcher.until_done("A", e) for e in ("a1", "a2", "a3")))  # learns ~0.6 s
        source.add("A", "late", after=30)
        late = asyncio.ensure_future(watcher.until_done("A", "late"))
        await asyncio.sleep(1)
        for e in ("b1", "b2", "b3"):
            source.add("A", e, after=0.05)
        source.add("A", "quick", after=0.05)
        quick = asyncio.ensure_future(watcher.until_done("A", "quick", first_look=60))  # not due for a minute
        # due together, before what the workflow's executions ran: listed
        await asyncio.gather(*(watcher.until_done("A", e, first_look=0.1) for e in ("b1", "b2", "b3")))
        await asyncio.sleep(0.1)
        assert quick.done()  # ended, shown so by the list of the others: no need to wait for its look
        assert source.gets_of("quick") == []
        assert not late.done()
        assert source.gets_of("late") == [] or min(source.gets_of("late")) > 1.4  # not pulled forward
        await late

    watching(scenario)


def test_a_long_workflow_is_still_looked_at_within_the_longest_interval() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "long", after=120)
        await watcher.until_done("A", "long")
        source.add("A", "fails-fast", after=1, final="failed")
        began = source.clock()
        assert await watcher.until_done("A", "fails-fast") == "failed"
        assert source.clock() - began <= MAX_INTERVAL + 0.1

    watching(scenario)


def test_a_slow_look_does_not_hold_up_the_others() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "slow", after=1)
        source.slow["slow"] = 30  # its reads take half a minute
        source.add("B", "quick", after=2)
        slow = asyncio.ensure_future(watcher.until_done("A", "slow"))
        began = source.clock()
        assert await watcher.until_done("B", "quick") == "completed"
        assert source.clock() - began < 2.5  # looked at on time, while a read of "slow" was under way
        assert not slow.done()
        assert await slow == "completed"

    watching(scenario)


def test_a_bug_in_a_look_fails_the_watches_instead_of_leaving_them_waiting() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "x", after=1)
        source.get_errors["x"] = [ValueError("a bug")]  # type: ignore[list-item]  # not a RemoteError
        with pytest.raises(ValueError, match="a bug"):
            await asyncio.wait_for(watcher.until_done("A", "x"), timeout=60)

    watching(scenario)


def test_a_quick_failure_does_not_teach_how_long_the_workflow_runs() -> None:
    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        source.add("A", "bad", after=0.5, final="failed")
        assert await watcher.until_done("A", "bad") == "failed"
        source.add("A", "good", after=5)
        began = source.clock()
        assert await watcher.until_done("A", "good") == "completed"
        assert source.gets_of("good")[0] - began == pytest.approx(MIN_INTERVAL)  # as if nothing ended yet
        source.add("A", "next", after=5)
        began = source.clock()
        await watcher.until_done("A", "next")
        assert source.gets_of("next") == [pytest.approx(began + 5)]  # a completion does teach it

    watching(scenario)
