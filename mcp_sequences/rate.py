"""The API's rate budget as one process spends it: leased from the shared store, a few requests at a time.

Asking the store for every request costs a transaction per API call, and most of a busy server's
time. So the limiter asks for as many requests as it used in the last second (doubling within a
second while they run out), keeps them until their one-second bucket ends, and gives back what
it did not send. Near the real limits a lease is one or two requests, so other processes are not
starved by slots held here; with limits far above the traffic, a busy process asks once a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from mcp_sequences.store import Grant, SQLiteStore, Store, StoreUnavailable, Unused

logger = logging.getLogger(__name__)

# A lease holds at most this share of the minute's limit (and a tenth of it of the hour's): 2 of the
# documented 480 a minute and 4,800 an hour.
LEASE_SHARE = 240
# Asks for one request at most, while the store's answers come after the second they were counted in.
ASKS = 3


@dataclass
class Lease:
    """`left` requests granted at `at` by `store`, that may go until `until`."""

    store: Store
    at: float
    until: float
    left: int


@dataclass
class RateLimiter:
    """At most `per_minute` and `per_hour` requests, counted in the store shared by every process using
    the same credential (`key`). When that store cannot be reached, requests are still paced, by a
    private in-process count: reads keep working while the store is down."""

    store: Store
    key: str
    per_minute: int
    per_hour: int
    clock: Callable[[], float] = time.time  # wall time: processes on several machines compare it
    fallback: Store = field(default_factory=SQLiteStore.memory)
    share: int = LEASE_SHARE
    _lease: Lease | None = field(default=None, init=False)
    _sent: int = field(default=0, init=False)  # requests sent in the lease's bucket
    _asking: anyio.Lock = field(default_factory=anyio.Lock, init=False)

    @property
    def most(self) -> int:
        """The largest lease: small enough that what one process holds barely dents a shared limit."""
        return max(1, min(self.per_minute // self.share, self.per_hour // (10 * self.share)))

    async def take(self) -> tuple[float, str]:
        """Count one request now, or say how long until one may go and which limit holds it back."""
        if self._spend():
            return 0.0, ""
        async with self._asking:  # one question at a time: the others spend what it brings
            if self._spend():
                return 0.0, ""
            return await self._renew()

    async def _renew(self) -> tuple[float, str]:
        """A new lease, with one request of it spent. A grant that arrives after its second ended (a
        store waiting for its lock, a slow network) is not spent, since a request must go in the
        second it was counted in: the next ask gives it all back. After ASKS late answers the request
        goes anyway; a store that slow paces far below any limit."""
        for _ in range(ASKS):
            now = self.clock()
            grant, source = await self._ask(now)
            if grant.count == 0:
                return grant.wait, grant.limit
            self._lease = lease = Lease(source, now, grant.until, grant.count)
            if self._spend():
                return 0.0, ""
        lease.left, self._sent = lease.left - 1, self._sent + 1
        return 0.0, ""

    def _spend(self) -> bool:
        lease = self._lease
        if lease is None or lease.left == 0 or self.clock() >= lease.until:
            return False
        lease.left, self._sent = lease.left - 1, self._sent + 1
        return True

    async def _ask(self, now: float) -> tuple[Grant, Store]:
        want, unused = self._plan(now)
        try:
            return await self._ask_of(self.store, now, want, unused), self.store
        except StoreUnavailable as exc:
            logger.warning("pacing in this process only: %s", exc)
            return await self._ask_of(self.fallback, now, want, unused), self.fallback

    async def _ask_of(self, store: Store, now: float, want: int, unused: Unused | None) -> Grant:
        """Ask `store`, giving `unused` back only to the store that granted it."""
        back = unused if self._lease is not None and self._lease.store is store else None
        return await store.take_rate(self.key, now, self.per_minute, self.per_hour, want, back)

    def _plan(self, now: float) -> tuple[int, Unused | None]:
        """How many to ask for (as many as this second or the last one used), and what to give back."""
        lease, want, unused = self._lease, 1, None
        if lease is not None and now < lease.until:
            want = self._sent  # ran out within the second: twice as many in all
        elif lease is not None:
            want = self._sent if now < lease.until + 1 else 1
            unused = Unused(lease.at, lease.left) if lease.left else None
            # Given back by this ask, once: if it is refused, fails or is cancelled after the store
            # ran it, the next ask must not give the same requests back again (at worst, a failed
            # ask leaves them counted, which only over-counts).
            lease.left, self._sent = 0, 0
        return max(1, min(self.most, want)), unused
