"""The delete budget: at most --max-deletes deletes an hour, counted in the shared state store.

Every process and replica using the same store and API credential spends from one budget, so
N replicas allow --max-deletes an hour between them, not N times as many.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from mcp_sequences.audit import UNREACHABLE
from mcp_sequences.guard import Refused
from mcp_sequences.store import Store, StoreUnavailable

T = TypeVar("T")


@dataclass
class DeleteBudget:
    """At most `limit` deletes in any hour, for everyone sharing `store` with this `key`."""

    store: Store
    key: str
    limit: int
    clock: Callable[[], float] = time.time

    async def check(self) -> None:
        """Refuse now, before anyone is asked, when no delete is left this hour."""
        wait = await self._ask(self.store.delete_wait(self.key, self.clock(), self.limit))
        if wait > 0:
            raise self._spent(wait)

    async def reserve(self) -> int:
        """Take one delete from this hour's budget; `release` gives it back if the delete fails."""
        spend, wait = await self._ask(self.store.take_delete(self.key, self.clock(), self.limit))
        if spend is None:
            raise self._spent(wait)
        return spend

    async def release(self, spend: int) -> None:
        await self._ask(self.store.give_back_delete(spend))

    async def _ask(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except StoreUnavailable as exc:
            raise Refused(f"{UNREACHABLE} ({exc})") from exc

    def _spent(self, wait: float) -> Refused:
        return Refused(
            f"this server allows {self.limit} deletes an hour (--max-deletes, shared by every process using "
            f"its state store) and they are used up; the next is possible in about {math.ceil(wait / 60)} minutes"
        )
