"""/healthz and /readyz over real HTTP: unauthenticated, no data, and /readyz follows the API."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.processes import ApiServer, free_port, launched, serving


def base(url: str) -> str:
    return url.removesuffix("/mcp")


def test_alive_and_ready_without_a_token_while_mcp_needs_one(tmp_path: Path) -> None:
    for server in serving(tmp_path, MCP_SEQUENCES_HTTP_TOKENS='{"agent": "a-token-of-32-characters-or-more-xx"}'):
        assert httpx.post(server.url, json={}, timeout=10).status_code == 401
        alive = httpx.get(base(server.url) + "/healthz", timeout=10)
        ready = httpx.get(base(server.url) + "/readyz", timeout=10)
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_not_ready_when_the_api_cannot_be_reached(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = ApiServer(tmp_path, base_url=nowhere)
    with launched(server):
        server.wait_until_listening()
        ready = httpx.get(base(server.url) + "/readyz", timeout=30)
        alive = httpx.get(base(server.url) + "/healthz", timeout=10)
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready", "failing": ["upstream"]})
    assert alive.status_code == 200
