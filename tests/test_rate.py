"""The rate limiter: leases from the shared store, given back when unused, never past either window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_sequences.rate import RateLimiter
from mcp_sequences.store import SQLiteStore, Store
from mcp_sequences.store.base import Script
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


class CountingStore(SQLiteStore):
    """An in-memory store that counts the transactions it runs (what a lease saves)."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.runs = 0

    async def run(self, script: Script[Any], lock: str | None = None) -> Any:
        self.runs += 1
        return await super().run(script, lock)


def counted(store: Store) -> int:
    """Requests counted in the store's minute buckets (what other processes see as spent)."""
    return store._conn.execute("SELECT coalesce(sum(hits), 0) FROM rate_counts WHERE span = 60").fetchone()[0]  # type: ignore[attr-defined]


def limiter(store: Store, per_minute: int, per_hour: int, clock: Callable[[], float]) -> RateLimiter:
    return RateLimiter(store, "credential", per_minute, per_hour, clock)


async def test_the_limiter_holds_to_both_windows() -> None:
    clock = Clock(0.0)
    paced = limiter(SQLiteStore.memory(), 3, 5, clock)
    for _ in range(3):
        assert await paced.take() == (0.0, "")
    # Counted in 1 s buckets, the oldest whole: the first request frees its slot after 61 s.
    assert await paced.take() == (61.0, "3 requests a minute")
    clock.now = 61
    assert await paced.take() == (0.0, "")
    assert await paced.take() == (0.0, "")
    # Counted in 1 min buckets: the hour's first requests (minute 0) leave the count at 61 min.
    assert await paced.take() == (pytest.approx(61 * 60 - 61), "5 requests an hour")


async def test_a_store_that_cannot_be_reached_still_paces_in_this_process() -> None:
    broken = SQLiteStore.memory()
    await broken.aclose()
    paced = limiter(broken, 1, 100, Clock(0.0))
    assert await paced.take() == (0.0, "")
    assert (await paced.take())[1] == "1 requests a minute"


async def test_a_busy_process_asks_the_store_about_once_a_second() -> None:
    """20 requests a second for two minutes, limits far above: 2,400 requests, not 2,400 transactions."""
    store, clock = CountingStore(), Clock(7200.0)
    paced = limiter(store, 10**6, 10**7, clock)
    for second in range(120):
        for tick in range(20):
            clock.now = 7200.0 + second + tick / 20
            assert await paced.take() == (0.0, "")
    assert store.runs <= 120 + 5  # one a second, and a few while the first second found its pace


async def test_what_a_lease_left_unsent_is_given_back() -> None:
    store, clock = SQLiteStore.memory(), Clock(100.0)
    paced = limiter(store, 10**6, 10**7, clock)
    for _ in range(40):
        await paced.take()  # leases of 1, 1, 2, 4, 8, 16, 32: 64 counted, 40 sent
    assert counted(store) == 64
    clock.now = 101.5
    await paced.take()  # asks for 40 (the last second's pace) and gives back 24
    assert counted(store) == 40 + 40


async def test_near_the_documented_limits_a_lease_is_at_most_two_requests() -> None:
    store, clock = SQLiteStore.memory(), Clock(100.0)
    paced = limiter(store, 480, 4800, clock)
    for _ in range(8):
        await paced.take()
    assert counted(store) <= 8 + 1  # nothing held for long that other processes might need


async def test_requests_waiting_together_ask_the_store_once_between_them() -> None:
    store = CountingStore()
    paced = limiter(store, 10**6, 10**7, Clock(100.0))
    for _ in range(8):  # the pace of this second: 8, so the next lease is 8
        await paced.take()
    before = store.runs
    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(paced.take)
    assert store.runs - before == 1


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 3, allow_nan=False)), min_size=1, max_size=150),
    per_minute=st.integers(1, 30),
    per_hour=st.integers(1, 90),
    share=st.sampled_from([1, 2, 4, 240]),
)
def test_processes_sharing_a_store_never_send_more_than_either_window_allows(
    steps: list[tuple[int, float]], per_minute: int, per_hour: int, share: int
) -> None:
    """Any order of requests from three processes, at any pace, leases of any size up to the whole
    limit (share 1): no sliding minute or hour ever holds more requests than its limit."""
    store, clock = SQLiteStore.memory(), Clock(0.0)
    processes = [limiter(store, per_minute, per_hour, clock) for _ in range(3)]
    for process in processes:
        process.share = share
    sent: list[float] = []

    async def play() -> None:
        for process, pause in steps:
            clock.now += pause
            if await processes[process].take() == (0.0, ""):
                sent.append(clock.now)

    anyio.run(play)
    for window, limit in ((60.0, per_minute), (3600.0, per_hour)):
        assert all(sum(start <= t < start + window for t in sent) <= limit for start in sent)
