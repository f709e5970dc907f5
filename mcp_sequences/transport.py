"""What sits between the API client and the network: pacing under the API's rate limits, and retries.

    SequencesClient -> httpx.AsyncClient (auth) -> RetryTransport -> PacedTransport -> network

Retries are safe by construction: only idempotent methods are retried, and only on failures
that say nothing was done (connection errors, 429, 502, 503, 504). A POST is retried only when
the request provably never reached the server (it could not connect), so a create is never
duplicated. Every attempt, retries included, is paced by one budget kept in the state store and
shared by every process using the same credential, so the API key is never pushed past the
documented 480/minute, 4,800/hour however many processes use it.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import anyio
import httpx

from mcp_sequences.rate import RateLimiter

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRIES = 2  # three attempts in all
BASE_DELAY = 0.5  # seconds; doubled each retry, with full jitter
MAX_DELAY = 8.0
RETRY_AFTER_CAP = 30.0  # a longer Retry-After is not waited for: the caller is told instead
# Request extension: the time.monotonic() by which the whole call must be done; no retry waits past it.
DEADLINE = "mcp_sequences.deadline"
# Request extension set by PacedTransport: seconds this attempt was held back by the rate limiter.
PACED_WAIT = "mcp_sequences.paced_wait"


# Told (seconds, what for) before each wait: a tool call sets it to send the client progress, so a
# person watching a slow call sees why. Carried by the call's context, so concurrent calls keep theirs.
WaitReporter = Callable[[float, str], Awaitable[None]]
wait_reporter: ContextVar[WaitReporter | None] = ContextVar("mcp_sequences_wait_reporter", default=None)


async def wait(seconds: float, why: str) -> None:
    """Sleep, saying first what for and how long to whoever listens for this call."""
    report = wait_reporter.get()
    if report is not None and seconds > 0:
        await report(seconds, why)
    await anyio.sleep(seconds)


class PacingExceeded(Exception):
    """Keeping under the API's rate limit would mean waiting longer than a call may wait."""

    def __init__(self, wait: float, limit: str) -> None:
        self.wait = wait
        super().__init__(
            f"This server keeps under the API's limit of {limit} and that is used up: the next request "
            f"can go in about {math.ceil(wait)} s. Try again then, or make fewer calls (larger pages)."
        )


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = MAX_RETRIES
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY
    retry_after_cap: float = RETRY_AFTER_CAP

    def backoff(self, retry: int) -> float:
        """Capped exponential backoff with full jitter: retries from many clients spread out."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry))


DEFAULT_RETRY = RetryPolicy()


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (delta-seconds or an HTTP date), if it said."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RetryTransport(httpx.AsyncBaseTransport):
    """Retries what can be retried without risk; returns the last response or raises the last error."""

    def __init__(self, inner: httpx.AsyncBaseTransport, policy: RetryPolicy = DEFAULT_RETRY) -> None:
        self.inner = inner
        self.policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for retry in range(self.policy.max_retries + 1):
            last = retry == self.policy.max_retries
            try:
                response = await self.inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                delay, failure = self.policy.backoff(retry), type(exc).__name__  # never reached the server
                if last or not _in_time(request, delay):
                    raise
            except httpx.TransportError as exc:
                delay, failure = self.policy.backoff(retry), type(exc).__name__
                if last or request.method not in IDEMPOTENT_METHODS or not _in_time(request, delay):
                    raise
            else:
                delay, failure = self._delay(request, response, retry), f"HTTP {response.status_code}"
                if last or delay is None or not _in_time(request, delay):
                    return response
                await response.aclose()
            logger.info("retrying %s %s in %.2f s (retry %d)", request.method, request.url.path, delay, retry + 1)
            await wait(delay, f"retry {retry + 1} of {request.method} {request.url.path} after {failure}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, request: httpx.Request, response: httpx.Response, retry: int) -> float | None:
        """How long to wait before retrying this response, or None to hand it back as it is."""
        if response.status_code not in RETRY_STATUSES or request.method not in IDEMPOTENT_METHODS:
            return None
        asked = retry_after(response)
        if asked is None:
            return self.policy.backoff(retry)
        return asked if asked <= self.policy.retry_after_cap else None

    async def aclose(self) -> None:
        await self.inner.aclose()


def _in_time(request: httpx.Request, delay: float) -> bool:
    """A retry after `delay` could still finish before the call's deadline (when it has one)."""
    deadline = request.extensions.get(DEADLINE)
    return deadline is None or time.monotonic() + delay < deadline


class PacedTransport(httpx.AsyncBaseTransport):
    """Holds each request until the rate limiter lets it go, or refuses when that would take too long."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter, max_wait: float) -> None:
        self.inner = inner
        self.limiter = limiter
        self.max_wait = max_wait

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0
        while (taken := await self.limiter.take())[0] > 0:
            needed, limit = taken
            if waited + needed > self.max_wait:
                raise PacingExceeded(waited + needed, limit)
            logger.warning("pacing under the API's limit of %s: holding a request for %.1f s", limit, needed)
            await wait(needed, f"the API's rate limit of {limit}")
            waited += needed
        request.extensions[PACED_WAIT] = waited  # for the metrics of rate-limit waits
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
