"""Injected faults look to a client like a failing upstream or network, and nothing more.

Each fault must reach the journal (or provably not, for a refused connection), leave the
store untouched, and be used up as told, so reliability tests can count what happened.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from mcp_sequences.sandbox import SANDBOX_API_KEY, Fault, RecordedRequest, SandboxTransport
from mcp_sequences.sandbox.seed import SEED_SEQUENCES

pytestmark = pytest.mark.anyio

BASE = "/api/v2/sequences"
ACTIVITY = f"{BASE}/activity"
AUTH = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}


@pytest.fixture
async def client(sandbox: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox), base_url="http://sandbox", headers=AUTH) as c:
        yield c


def journaled(sandbox: Starlette) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.state.journal]


async def total(client: httpx.AsyncClient) -> int:
    """How many sequences are stored; asked only when no fault is pending."""
    return (await client.get(BASE)).json()["total"]


# --- Answers ----------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_status_fault_answers_without_creating(
    sandbox: Starlette, client: httpx.AsyncClient, status: int
) -> None:
    sandbox.state.faults.inject(Fault("status", status=status))
    response = await client.post(BASE, json={"name": "Never stored"})
    assert (response.status_code, response.json()) == (status, {"message": f"sandbox fault: HTTP {status}"})
    assert sandbox.state.journal[-1] == RecordedRequest("POST", BASE, {}, {"name": "Never stored"})
    assert await total(client) == len(SEED_SEQUENCES)


async def test_status_fault_defaults_to_503(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("status"))
    assert (await client.get(BASE)).status_code == 503


@pytest.mark.parametrize("retry_after", ["7", "Wed, 21 Oct 2026 07:28:00 GMT", None])
async def test_rate_limit_is_429_with_retry_after_as_given(
    sandbox: Starlette, client: httpx.AsyncClient, retry_after: str | None
) -> None:
    sandbox.state.faults.inject(Fault("rate_limit", retry_after=retry_after))
    response = await client.get(BASE)
    assert (response.status_code, response.json()) == (429, {"message": "Too many requests"})
    assert response.headers.get("retry-after") == retry_after


async def test_html_fault_is_a_502_web_page(client: httpx.AsyncClient, sandbox: Starlette) -> None:
    sandbox.state.faults.inject(Fault("html"))
    response = await client.get(BASE)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


async def test_malformed_fault_is_a_200_that_does_not_parse(client: httpx.AsyncClient, sandbox: Starlette) -> None:
    sandbox.state.faults.inject(Fault("malformed"))
    response = await client.get(BASE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


@pytest.mark.parametrize("size", [10_000, Fault("oversized").size])
async def test_oversized_fault_is_a_valid_envelope_of_at_least_size_bytes(
    sandbox: Starlette, client: httpx.AsyncClient, size: int
) -> None:
    sandbox.state.faults.inject(Fault("oversized", size=size))
    response = await client.get(BASE)
    assert response.status_code == 200
    assert len(response.content) >= size
    body = response.json()
    assert set(body) == {"data", "total"}
    assert body["total"] == len(body["data"])
    assert all({"id", "name"} <= set(record) for record in body["data"])


# --- Dropped connections ----------------------------------------------------


async def test_reset_reaches_the_server_but_stores_nothing(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("reset", method="POST"))
    with pytest.raises(httpx.ReadError, match="connection reset by peer"):
        await client.post(BASE, json={"name": "Lost"})
    assert journaled(sandbox) == [("POST", BASE)]
    assert await total(client) == len(SEED_SEQUENCES)


async def test_refuse_never_reaches_the_server(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("refuse"))
    with pytest.raises(httpx.ConnectError, match="connection refused"):
        await client.post(BASE, json={"name": "Unsent"})
    assert journaled(sandbox) == []
    assert (await client.post(BASE, json={"name": "Sent"})).status_code == 201
    assert journaled(sandbox) == [("POST", BASE)]


async def test_refuse_without_sandbox_transport_fails_loudly_in_the_app(sandbox: Starlette) -> None:
    """Only SandboxTransport can refuse before the app; a plain transport still sees a dropped connection."""
    sandbox.state.faults.inject(Fault("refuse"))
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=AUTH) as plain:
        with pytest.raises(ConnectionRefusedError):
            await plain.get(BASE)


# --- Delays -----------------------------------------------------------------


async def test_latency_delays_a_normal_answer(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("latency", seconds=0.05))
    started = time.monotonic()
    response = await client.get(BASE)
    assert time.monotonic() - started >= 0.05
    assert response.json()["total"] == len(SEED_SEQUENCES)


async def test_timeout_hangs_until_the_caller_gives_up(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("timeout", seconds=5))
    started = time.monotonic()
    with pytest.raises(TimeoutError), anyio.fail_after(0.2):
        await client.get(BASE)
    assert time.monotonic() - started < 1
    assert journaled(sandbox) == [("GET", BASE)]
    assert (await client.get(BASE)).status_code == 200


# --- Matching, counting, ordering -------------------------------------------


async def test_times_counts_matching_requests_then_the_fault_is_used_up(
    sandbox: Starlette, client: httpx.AsyncClient
) -> None:
    sandbox.state.faults.inject(Fault("status", times=2))
    assert [(await client.get(BASE)).status_code for _ in range(3)] == [503, 503, 200]
    assert sandbox.state.faults.active == []


async def test_times_zero_applies_to_every_matching_request(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    forever = Fault("status", status=500, times=0)
    sandbox.state.faults.inject(forever)
    assert [(await client.get(BASE)).status_code for _ in range(3)] == [500, 500, 500]
    assert sandbox.state.faults.active == [forever]


async def test_method_and_path_narrow_what_a_fault_matches(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("status", method="post", path=ACTIVITY))
    assert (await client.get(ACTIVITY)).status_code == 404  # the route answered, not the fault
    assert (await client.post(BASE, json={"name": "Unaffected"})).status_code == 201
    assert (await client.post(f"{ACTIVITY}?x=1", json={})).status_code == 503
    assert sandbox.state.faults.active == []


async def test_faults_apply_in_injection_order(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    delete_only = Fault("status", status=500, method="DELETE")
    sandbox.state.faults.inject(delete_only, Fault("status", status=502), Fault("rate_limit"))
    assert [(await client.get(BASE)).status_code for _ in range(3)] == [502, 429, 200]
    assert sandbox.state.faults.active == [delete_only]


async def test_refuse_waits_its_turn_behind_an_earlier_fault(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("status"), Fault("refuse"))
    assert (await client.get(BASE)).status_code == 503
    with pytest.raises(httpx.ConnectError):
        await client.get(BASE)


async def test_clear_drops_every_pending_fault(sandbox: Starlette, client: httpx.AsyncClient) -> None:
    sandbox.state.faults.inject(Fault("status", times=0), Fault("refuse"))
    sandbox.state.faults.clear()
    assert sandbox.state.faults.active == []
    assert (await client.get(BASE)).status_code == 200


async def test_a_bad_key_is_refused_before_any_fault(sandbox: Starlette) -> None:
    fault = Fault("status")
    sandbox.state.faults.inject(fault)
    transport = SandboxTransport(sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as anonymous:
        assert (await anonymous.get(BASE)).status_code == 401
    assert sandbox.state.faults.active == [fault]
    assert journaled(sandbox) == [("GET", BASE)]


@pytest.mark.parametrize(("kwargs", "problem"), [({"kind": "timout"}, "unknown fault kind"), ({"times": -1}, "times")])
def test_a_mistyped_fault_is_refused_when_made(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Fault(**{"kind": "status", **kwargs})  # type: ignore[arg-type]


# --- Over a real socket (conftest serves the sandbox with uvicorn) ----------


async def test_faults_over_a_real_socket(sandbox: Starlette, api_url: str) -> None:
    """Served by uvicorn, answers and delays are the same and httpx's own timeout applies; a reset is a 500."""
    sandbox.state.faults.inject(Fault("html"), Fault("timeout", seconds=0.15), Fault("reset"))
    async with httpx.AsyncClient(base_url=api_url, headers=AUTH, timeout=0.05) as client:
        assert (await client.get(BASE)).status_code == 502
        with pytest.raises(httpx.ReadTimeout):
            await client.get(BASE)
        assert (await client.get(BASE)).status_code == 500
    assert journaled(sandbox) == [("GET", BASE)] * 3
