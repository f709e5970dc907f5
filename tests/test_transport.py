"""Retries and pacing on their own, over httpx.MockTransport: what is retried, how often, how long."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from mcp_sequences.rate import RateLimiter
from mcp_sequences.store import SQLiteStore
from mcp_sequences.transport import (
    PacedTransport,
    PacingExceeded,
    RetryPolicy,
    RetryTransport,
    retry_after,
    wait_reporter,
)
from tests.conftest import Clock

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)


class Upstream:
    """Answers each attempt from a script; counts what reached it."""

    def __init__(self, *script: int | type[Exception], headers: dict[str, str] | None = None) -> None:
        self.script, self.headers, self.seen = list(script), headers or {}, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, type):
            raise step("scripted failure")
        return httpx.Response(step, headers=self.headers, json={})


async def send(upstream: Upstream, method: str = "GET", policy: RetryPolicy = FAST) -> httpx.Response:
    async with httpx.AsyncClient(transport=RetryTransport(httpx.MockTransport(upstream), policy)) as client:
        return await client.request(method, "https://api.test/api/v2/sequences")


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_idempotent_methods_retry_transient_statuses(status: int, method: str) -> None:
    upstream = Upstream(status, status, 200)
    assert (await send(upstream, method)).status_code == 200 and upstream.seen == 3


@pytest.mark.parametrize("status", [429, 502, 503, 504, 500])
async def test_a_post_is_never_retried_once_it_reached_the_server(status: int) -> None:
    upstream = Upstream(status, 200)
    assert (await send(upstream, "POST")).status_code == status and upstream.seen == 1


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 500])
async def test_other_statuses_are_answers_not_retries(status: int) -> None:
    upstream = Upstream(status, 200)
    assert (await send(upstream)).status_code == status and upstream.seen == 1


async def test_retries_stop_after_the_limit_and_return_the_last_answer() -> None:
    upstream = Upstream(503)
    assert (await send(upstream)).status_code == 503 and upstream.seen == FAST.max_retries + 1


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_request_that_never_connected_is_retried_whatever_the_method(method: str) -> None:
    upstream = Upstream(httpx.ConnectError, 200)
    assert (await send(upstream, method)).status_code == 200 and upstream.seen == 2


@pytest.mark.parametrize(("method", "attempts"), [("GET", 3), ("POST", 1)])
async def test_a_dropped_connection_is_retried_only_when_idempotent(method: str, attempts: int) -> None:
    upstream = Upstream(httpx.ReadError)
    with pytest.raises(httpx.ReadError):
        await send(upstream, method)
    assert upstream.seen == attempts


async def test_retry_after_is_honoured() -> None:
    upstream = Upstream(429, 200, headers={"Retry-After": "0.2"})
    started = time.perf_counter()
    await send(upstream)
    assert time.perf_counter() - started >= 0.2 and upstream.seen == 2


async def test_a_retry_after_past_the_cap_is_handed_back_not_waited_for() -> None:
    upstream = Upstream(429, 200, headers={"Retry-After": "3600"})
    response = await send(upstream)
    assert response.status_code == 429 and upstream.seen == 1


@pytest.mark.parametrize(("header", "expected"), [("5", 5.0), ("0", 0.0), ("-3", 0.0), ("soon", None), (None, None)])
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": header} if header is not None else {})
    assert retry_after(response) == expected


def test_an_http_date_retry_after_is_seconds_from_now() -> None:
    when = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(when) == 0.0  # in the past: go now


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    delays = [policy.backoff(retry) for retry in range(8) for _ in range(50)]
    assert max(delays) <= 4.0 and min(delays) >= 0 and len(set(delays)) > 300


def limiter(per_minute: int, per_hour: int, clock: Callable[[], float] | None = None) -> RateLimiter:
    """A limiter counting in a store of its own (the shared stores have their own suite)."""
    return RateLimiter(SQLiteStore.memory(), "credential", per_minute, per_hour, clock or Clock(1000.0))


async def test_pacing_refuses_a_wait_longer_than_allowed_and_says_how_long() -> None:
    transport = PacedTransport(httpx.MockTransport(Upstream(200)), limiter(1, 100), max_wait=0.5)
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://api.test/")
        with pytest.raises(PacingExceeded, match=r"1 requests a minute.*about 61 s"):
            await client.get("https://api.test/")


async def test_pacing_waits_a_short_while_rather_than_refusing() -> None:
    started = time.perf_counter()
    paced = limiter(1, 100, clock=lambda: 0.0)
    await paced.take()
    paced.clock = lambda: 60.8 + time.perf_counter() - started  # the one request frees its slot at 61 s
    transport = PacedTransport(httpx.MockTransport(Upstream(200)), paced, max_wait=1.0)
    started = time.perf_counter()
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get("https://api.test/")).status_code == 200
    assert 0.1 <= time.perf_counter() - started < 1.0


class Listener:
    """What a tool call is told before each wait (toolkit turns it into progress notifications)."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, str]] = []

    async def __call__(self, seconds: float, why: str) -> None:
        self.heard.append((seconds, why))


async def test_a_pacing_wait_is_announced_with_its_length_and_the_limit() -> None:
    listener = Listener()

    class OneWait:
        """A limiter that holds the first request 0.05 s under a limit of 1 a minute, then lets it go."""

        def __init__(self) -> None:
            self.answers = [(0.05, "1 requests a minute"), (0.0, "")]

        async def take(self) -> tuple[float, str]:
            return self.answers.pop(0)

    transport = PacedTransport(httpx.MockTransport(Upstream(200)), OneWait(), max_wait=1.0)  # type: ignore[arg-type]
    token = wait_reporter.set(listener)
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("https://api.test/")
    finally:
        wait_reporter.reset(token)
    assert listener.heard == [(pytest.approx(0.05), "the API's rate limit of 1 requests a minute")]


async def test_each_retry_wait_is_announced_with_what_failed() -> None:
    listener = Listener()
    token = wait_reporter.set(listener)
    try:
        response = await send(Upstream(503, 200, headers={"Retry-After": "0.01"}))
        await send(Upstream(httpx.ConnectError, 200))
    finally:
        wait_reporter.reset(token)
    assert response.status_code == 200
    assert [why for _, why in listener.heard] == [
        "retry 1 of GET /api/v2/sequences after HTTP 503",
        "retry 1 of GET /api/v2/sequences after ConnectError",
    ]
    assert listener.heard[0][0] == 0.01
