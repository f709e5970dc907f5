"""Static tokens (MCP_SEQUENCES_HTTP_TOKENS): no token, no service; a token names its caller."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import FIRST_ID
from tests.processes import HttpServer, serving

pytestmark = pytest.mark.anyio

TOKENS = {"sales-agent": "tok-sales-8f1e2d3c4b5a", "ops": "tok-ops-0a9b8c7d6e5f"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """The real command, as deployed: tokens from the environment."""
    yield from serving(tmp_path_factory.mktemp("auth"), MCP_SEQUENCES_HTTP_TOKENS=json.dumps(TOKENS))


@pytest.mark.parametrize("authorization", [None, f"Basic {TOKENS['ops']}"])
def test_no_bearer_credentials_get_401_with_a_bare_challenge(server: HttpServer, authorization: str | None) -> None:
    """RFC 6750 §3.1: no error code when no credentials were sent; no made-up issuer or metadata either."""
    headers = HEADERS | ({"Authorization": authorization} if authorization else {})
    response = httpx.post(server.url, headers=headers, json=TOOLS_LIST)
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


def test_a_wrong_token_gets_401_invalid_token(server: HttpServer) -> None:
    response = httpx.post(server.url, headers=HEADERS | {"Authorization": "Bearer wrong-token"}, json=TOOLS_LIST)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"]
)
def test_static_tokens_advertise_no_authorization_server(server: HttpServer, path: str) -> None:
    assert httpx.get(f"http://127.0.0.1:{server.port}{path}").status_code == 404


def test_a_forged_loopback_host_header_does_not_get_past_the_tokens(server: HttpServer) -> None:
    """The Host check stops DNS rebinding, not attackers: any client can send Host: localhost."""
    headers = HEADERS | {"Host": f"localhost:{server.port}"}
    assert httpx.post(server.url, headers=headers, json=TOOLS_LIST).status_code == 401


async def test_a_token_is_served_and_its_name_is_the_audited_caller(server: HttpServer) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKENS['sales-agent']}"})
    async with Client(streamable_http_client(server.url, http_client=http)) as client:
        result = await client.call_tool("patch_sequence", {"id": FIRST_ID, "priority": "low"})
    assert result.is_error is False
    [line] = server.audit()
    assert (line["tool"], line["caller"], line["outcome"]) == ("patch_sequence", "sales-agent", "ok")
    assert all(token not in server.audit_log.read_text() for token in TOKENS.values())
