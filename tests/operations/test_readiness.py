"""Readiness checks: run together, bounded in time, and an API probe asked at most once per ttl."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import pytest
from starlette.applications import Starlette

from mcp_sequences.errors import AuthenticationError
from mcp_sequences.operations.readiness import Cached, NotReady, Readiness
from mcp_sequences.sandbox import SandboxTransport
from mcp_sequences.upstream import open_api, reachable
from tests.conftest import Clock, journal, sandbox_settings

pytestmark = pytest.mark.anyio


async def fine() -> None:
    pass


async def broken() -> None:
    raise ConnectionError("down")


async def stuck() -> None:
    await anyio.sleep(60)


async def test_ready_when_every_check_passes() -> None:
    readiness = Readiness()
    readiness.add("store", fine)
    readiness.add("upstream", fine)
    assert await readiness.failing() == []


async def test_failing_and_slow_checks_are_named() -> None:
    readiness = Readiness(timeout=0.05)
    readiness.add("upstream", broken)
    readiness.add("store", stuck)
    readiness.add("other", fine)
    with anyio.fail_after(5):
        assert await readiness.failing() == ["store", "upstream"]


async def test_a_cached_check_runs_once_per_ttl_and_keeps_its_answer() -> None:
    clock, runs = Clock(), []

    async def probe() -> None:
        runs.append(clock.now)
        if len(runs) == 2:
            raise ConnectionError("down")

    cached = Cached(probe, ttl=10, clock=clock)
    await cached()
    clock.now = 9.9
    await cached()
    assert runs == [0]
    clock.now = 10
    with pytest.raises(ConnectionError):
        await cached()
    clock.now = 15
    with pytest.raises(NotReady):  # the failure is remembered, not asked again
        await cached()
    clock.now = 20
    await cached()
    assert runs == [0, 10, 20]


async def test_probes_arriving_together_share_one_check() -> None:
    runs = []

    async def probe() -> None:
        runs.append(1)
        await anyio.sleep(0.05)

    cached = Cached(probe, ttl=10)
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(cached)
    assert runs == [1]


async def test_the_api_is_reachable_with_one_small_list_call(sandbox: Starlette) -> None:
    async with AsyncExitStack() as stack:
        api = await open_api(sandbox_settings(), stack, SandboxTransport(sandbox))
        await reachable(api)
    assert [(r.method, r.path, r.query) for r in sandbox.state.journal] == [
        ("GET", "/api/v2/sequences", {"limit": "1"})
    ]


async def test_a_refused_key_is_not_ready(sandbox: Starlette) -> None:
    async with AsyncExitStack() as stack:
        api = await open_api(sandbox_settings(api_key="wrong"), stack, SandboxTransport(sandbox))
        with pytest.raises(AuthenticationError):
            await reachable(api)


async def test_a_used_up_rate_budget_is_still_ready(sandbox: Starlette) -> None:
    """Every replica shares the budget: taking this one out of the pool would help nobody."""
    async with AsyncExitStack() as stack:
        settings = sandbox_settings(rate_per_minute=1, max_rate_wait=0)
        api = await open_api(settings, stack, SandboxTransport(sandbox))
        await reachable(api)
        await reachable(api)  # refused by the pacing, not sent
    assert len(journal(sandbox)) == 1
