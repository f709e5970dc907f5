"""The server against an API reached over real HTTP, as with a real base URL and key.

The sandbox, served by uvicorn on 127.0.0.1, stands in for api.icloud-ready.com: this exercises the
path the other tests replace with an in-process transport (sockets, pooling, bearer header).
"""

from __future__ import annotations

import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.server import build_server
from mcp_sequences.settings import Settings
from tests.conftest import FIRST_ID, call, journal

pytestmark = pytest.mark.anyio


async def test_tools_work_against_an_api_over_the_network(api_url: str, sandbox: Starlette) -> None:
    settings = Settings(base_url=api_url, api_key="sandbox")
    async with Client(build_server(settings)) as client:
        page = await call(client, "list_sequences", {"limit": 1})
        record = await call(client, "get_sequence", {"id": FIRST_ID})
    assert page["total"] == 7 and record["id"] == FIRST_ID
    assert journal(sandbox) == [("GET", "/api/v2/sequences"), ("GET", f"/api/v2/sequences/{FIRST_ID}")]


async def test_an_unreachable_api_is_an_error_result_not_a_crash() -> None:
    settings = Settings(base_url="http://127.0.0.1:9", api_key="k", timeout=0.5)  # port 9: discard, nothing listens
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("list_sequences", {})
        again = await client.call_tool("list_sequences", {})
    assert result.is_error is True and "Could not reach the API at http://127.0.0.1:9" in result.content[0].text
    assert again.is_error is True  # the server is still serving


async def test_a_404_on_the_list_says_the_base_url_is_wrong(api_url: str) -> None:
    """The list always exists: a 404 there means the base URL, not a missing sequence (nor 'call list_sequences')."""
    settings = Settings(base_url=f"{api_url}/crm", api_key="sandbox")
    async with Client(build_server(settings)) as client:
        listed = await client.call_tool("list_sequences", {})
        created = await client.call_tool("create_sequence", {"name": "Where does this go"})
    for result in (listed, created):
        text = result.content[0].text
        assert result.is_error is True and "HTTP 404" in text
        assert "ICLOUDREADY_BASE_URL is probably wrong" in text and "list_sequences finds" not in text


async def test_a_404_on_one_sequence_still_means_it_does_not_exist(api_url: str) -> None:
    async with Client(build_server(Settings(base_url=api_url, api_key="sandbox"))) as client:
        result = await client.call_tool("get_sequence", {"id": "6650b00000000000000000ff"})
    assert "It does not exist" in result.content[0].text and "BASE_URL" not in result.content[0].text
