"""The HTTP endpoint with MCP_SEQUENCES_HTTP_TOKENS: no token, no service; a token names its caller."""

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    yield from serving(tmp_path_factory.mktemp("auth"), MCP_SEQUENCES_HTTP_TOKENS=json.dumps(TOKENS))


@pytest.fixture(scope="module")
def url(server: HttpServer) -> str:
    return server.url


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKENS['ops']}"])
def test_without_a_valid_token_nothing_is_served(url: str, authorization: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = httpx.post(url, headers=headers, json=body)
    assert response.status_code == 401 and "invalid_token" in response.text


async def test_a_token_is_served_and_its_name_is_the_audited_caller(url: str, server: HttpServer) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKENS['sales-agent']}"})
    async with Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("patch_sequence", {"id": FIRST_ID, "priority": "low"})
    assert result.is_error is False
    [line] = server.audit()
    assert (line["tool"], line["caller"], line["outcome"]) == ("patch_sequence", "sales-agent", "ok")
    assert all(token not in server.audit_log.read_text() for token in TOKENS.values())
