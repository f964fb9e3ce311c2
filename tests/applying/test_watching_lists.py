"""A workflow with many executions is listed no more often than its list's size allows (every row of a
list costs both sides CPU): a list of 20,000 rows at most every 2 s, one of a few rows every 0.2 s."""

from __future__ import annotations

import asyncio
import itertools

from reconciler.applying.watching import LIST_SECONDS_PER_ROW, MIN_INTERVAL, Watcher

from .test_watching import FakeSource, watching


def _spacing(old_rows: int) -> list[float]:
    """The times between lists of workflow A, with ``old_rows`` ended executions listed besides the
    three watched ones (which end after 6 s)."""
    gaps: list[float] = []

    async def scenario(watcher: Watcher, source: FakeSource) -> None:
        for n in range(old_rows):
            source.add("A", f"old-{n}", after=-1)
        for e in ("a1", "a2", "a3"):
            source.add("A", e, after=6)
        waits = [watcher.until_done("A", e) for e in ("a1", "a2", "a3")]
        assert await asyncio.gather(*waits) == ["completed"] * 3
        times = [t for t, w in source.list_calls if w == "A"]
        gaps.extend(b - a for a, b in itertools.pairwise(times))

    watching(scenario)
    return gaps


def test_a_long_list_is_read_less_often() -> None:
    short, long = _spacing(0), _spacing(20_000)
    assert short and min(short) >= MIN_INTERVAL - 1e-6
    assert long and min(long) >= 20_003 * LIST_SECONDS_PER_ROW - 1e-6  # ~2 s
    assert len(long) < len(short)
