"""The rate limiter: leases from the shared store, given back when unused, never past either window."""

from __future__ import annotations

import asyncio
import threading
import time
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


def most_in_a_window(sent: list[float], window: float) -> int:
    """The most requests sent in any window of this many seconds (the limit is on every such window)."""
    return max((sum(start <= t < start + window for t in sent) for start in sent), default=0)


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
    assert most_in_a_window(sent, 60.0) <= per_minute and most_in_a_window(sent, 3600.0) <= per_hour


async def test_a_refused_ask_gives_back_a_lease_only_once() -> None:
    """A lease's unused requests are given back by the ask after it ends; when that ask is refused
    (another process filled the minute), the next ask must not give them back again: each repeat
    takes them off the hour's count once more, and the hour then admits more than its limit."""
    store, clock = SQLiteStore.memory(), Clock(0.0)
    a, b = limiter(store, 4, 40, clock), limiter(store, 4, 40, clock)
    a.share = b.share = 1  # leases up to 4
    sent: list[float] = []
    for _ in range(3):  # leases of 1, 1 and 2: the last one keeps 1 unsent
        assert await a.take() == (0.0, "")
        sent.append(clock.now)
    clock.now = 61.0
    while await b.take() == (0.0, ""):  # b fills the minute
        sent.append(clock.now)
    for second in range(30):  # a asks, is refused, asks again...
        clock.now = 61.5 + second
        assert (await a.take())[0] > 0
    for second in range(122, 3600):
        clock.now = float(second)
        while await b.take() == (0.0, ""):
            sent.append(clock.now)
    assert most_in_a_window(sent, 3600.0) <= 40


async def test_an_ask_cancelled_after_its_give_back_was_stored_does_not_give_it_back_again() -> None:
    """The store ran the ask (gave back the lease's unused 3, granted 1) but the task was cancelled
    before the limiter took note: the next ask must not give the same 3 back again."""

    class Slow(SQLiteStore):
        def __init__(self) -> None:
            super().__init__(":memory:")
            self.started, self.slow = threading.Event(), False

        def _run_now(self, script: Any) -> Any:
            if self.slow:
                self.started.set()
                time.sleep(0.1)
            return super()._run_now(script)

    store, clock = Slow(), Clock(0.0)
    paced = limiter(store, 8, 1000, clock)
    paced.share = 1  # leases up to 8
    for _ in range(4):
        await paced.take()  # leases of 1, 1, 2 at 0 s
    clock.now = 1.2
    await paced.take()  # a lease of 4 at 1.2 s: 1 sent, 3 unused
    sent = 5
    clock.now, store.slow = 5.0, True
    task = asyncio.ensure_future(paced.take())  # a plain asyncio cancel, as asyncio.wait_for or a timeout makes
    while not store.started.is_set():
        await anyio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await anyio.sleep(0.2)  # the worker thread has committed
    store.slow = False
    clock.now = 6.0
    while await paced.take() == (0.0, ""):
        sent += 1
    assert sent <= 8


async def test_a_grant_that_arrives_after_its_second_ended_is_not_spent() -> None:
    """A grant is good until its one-second bucket ends. When the store answers late (a busy SQLite
    file waits up to 5 s for its lock; PostgreSQL over a network), the request must not go in a later
    second than it was counted in: that request then leaves the count a second early."""
    clock = Clock(0.9)

    class Late(SQLiteStore):
        def __init__(self) -> None:
            super().__init__(":memory:")
            self.delay = 0.0

        async def run(self, script: Script[Any], lock: str | None = None) -> Any:
            result = await super().run(script, lock)
            clock.now += self.delay  # the answer comes this much later
            return result

    store = Late()
    a, b = limiter(store, 2, 100, clock), limiter(store, 2, 100, clock)
    sent: list[float] = []
    store.delay = 1.2
    if await a.take() == (0.0, ""):  # asked at 0.9 s, counted in second 0, answered at 2.1 s
        sent.append(clock.now)
    store.delay = 0.0
    clock.now = 61.0
    while await b.take() == (0.0, ""):
        sent.append(clock.now)
    assert most_in_a_window(sent, 60.0) <= 2
