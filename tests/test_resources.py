"""The sequences://{id} resource template."""

from __future__ import annotations

import json

import pytest
from mcp import Client, MCPError

from tests.conftest import FIRST_ID

pytestmark = pytest.mark.anyio


async def test_the_resource_template_reads_a_sequence(client: Client) -> None:
    result = await client.read_resource(f"sequences://{FIRST_ID}")
    assert json.loads(result.contents[0].text)["id"] == FIRST_ID
    assert result.contents[0].mime_type == "application/json"


async def test_an_unknown_resource_id_is_not_found(client: Client) -> None:
    with pytest.raises(MCPError, match="404"):
        await client.read_resource("sequences://nope")
