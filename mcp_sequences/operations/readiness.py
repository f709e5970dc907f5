"""Readiness: can this replica take calls now? Named async checks, run together, each bounded in time.

The server registers its checks when it starts (the upstream API; the shared store registers
its own with `readiness.add("store", store.ping)`). A load balancer asks often, so a check that
costs an API request is wrapped in `Cached`: one request per `ttl`, however often it is asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]  # returns when ready, raises when not
CHECK_TIMEOUT = 5.0  # seconds; a check slower than this counts as failing


class NotReady(Exception):
    """A check failed recently; its answer is reused until the cache expires."""


@dataclass
class Readiness:
    timeout: float = CHECK_TIMEOUT
    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def failing(self) -> list[str]:
        """The names of the checks that fail or time out (none: ready)."""
        failed: list[str] = []

        async def run(name: str, check: Check) -> None:
            try:
                with anyio.fail_after(self.timeout):
                    await check()
            except Exception as exc:
                # The type only: an error's text may carry the API's answer.
                logger.warning("not ready: %s check failed (%s)", name, type(exc).__name__)
                failed.append(name)

        async with anyio.create_task_group() as group:
            for name, check in self.checks.items():
                group.start_soon(run, name, check)
        return sorted(failed)


@dataclass
class Cached:
    """A check run at most once per `ttl` seconds; callers in between get its last answer."""

    check: Check
    ttl: float
    clock: Callable[[], float] = time.monotonic
    _checked_at: float | None = None
    _ok: bool = False
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def __call__(self) -> None:
        async with self._lock:  # probes arriving together share one check
            if self._checked_at is None or self.clock() - self._checked_at >= self.ttl:
                self._ok = False
                try:
                    await self.check()
                    self._ok = True
                finally:
                    self._checked_at = self.clock()
        if not self._ok:
            raise NotReady(f"failed within the last {self.ttl:g} s")
