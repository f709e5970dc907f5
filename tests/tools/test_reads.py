"""list_sequences and get_sequence against the sandbox, in both protocol eras."""

from __future__ import annotations

import pytest
from mcp import Client
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, call

pytestmark = pytest.mark.anyio


async def test_list_sequences_returns_a_normalised_page(client: Client) -> None:
    page = await call(client, "list_sequences", {"limit": 3, "page": 2})
    assert (page["page"], page["limit"], page["total"]) == (2, 3, 7)
    assert len(page["items"]) == 3 and page["has_more"] is True
    last = await call(client, "list_sequences", {"limit": 3, "page": 3})
    assert len(last["items"]) == 1 and last["has_more"] is False


async def test_list_sequences_passes_search_sort_and_projection(client: Client, sandbox: Starlette) -> None:
    page = await call(client, "list_sequences", {"q": "webinar", "sortBy": "name", "order": "asc", "fields": "id,name"})
    assert page["items"] and all(set(item) == {"id", "name"} for item in page["items"])
    assert all("webinar" in item["name"].lower() for item in page["items"])
    assert sandbox.state.journal[-1].query == {
        "limit": "20",
        "page": "1",
        "q": "webinar",
        "sortBy": "name",
        "order": "asc",
        "fields": "id,name",
    }


async def test_get_sequence_keeps_every_field_the_api_returns(client: Client) -> None:
    record = await call(client, "get_sequence", {"id": FIRST_ID})
    assert record["id"] == FIRST_ID
    assert {"name", "steps", "schedule", "owner", "createdAt"} <= set(record)
