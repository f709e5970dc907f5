"""What the catalogue and results cost a model: deterministic budgets (bytes, and o200k tokens).

Every token in a model's context is paid for by the user. Issue 7 set the budgets: the whole
tools/list within 2,000 tokens, what a model reads of it (name, description, input schema) within
1,300, and a default list page of 20 realistic sequences within 1,500. benchmarks/bench.py prints
the same figures.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.sandbox.seed import realistic_copies
from tests.conftest import call

pytestmark = pytest.mark.anyio

WHOLE_CATALOGUE_TOKENS = 2_000
MODEL_VIEW_TOKENS = 1_300
DEFAULT_PAGE_TOKENS = 1_500
# The same budgets in bytes, at the ~4 bytes a token these JSON texts average; the byte checks need
# no tokenizer, the token checks are exact.
WHOLE_CATALOGUE_BYTES = 8_000
MODEL_VIEW_BYTES = 5_600
DEFAULT_PAGE_BYTES = 5_000


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def tokens(text: str) -> int:
    quicktok = pytest.importorskip("quicktok", reason="pip install -e '.[test]' brings the o200k tokenizer")
    return len(quicktok.get_encoding("o200k_base").encode(text))


async def catalogue(client: Client) -> tuple[str, str]:
    listed = await client.list_tools()
    whole = compact(listed.model_dump(mode="json", by_alias=True, exclude_none=True))
    view = compact(
        [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in listed.tools]
    )
    return whole, view


async def test_the_catalogue_fits_its_budgets(client: Client) -> None:
    whole, view = await catalogue(client)
    assert len(whole.encode()) <= WHOLE_CATALOGUE_BYTES and len(view.encode()) <= MODEL_VIEW_BYTES
    assert tokens(whole) <= WHOLE_CATALOGUE_TOKENS and tokens(view) <= MODEL_VIEW_TOKENS


async def test_a_default_page_of_twenty_realistic_sequences_fits_its_budget(client: Client, sandbox: Starlette) -> None:
    for record in realistic_copies(20):
        sandbox.state.store.create_sequence(record)
    result = await client.call_tool("list_sequences", {})
    text = result.content[0].text
    assert len(result.structured_content["items"]) == 20 and result.structured_content["has_more"] is True
    assert len(text.encode()) <= DEFAULT_PAGE_BYTES and tokens(text) <= DEFAULT_PAGE_TOKENS


async def test_the_full_record_is_still_one_call_away(client: Client) -> None:
    """Lean lists must not hide data: get_sequence gives every field of what a summary names."""
    page = await call(client, "list_sequences", {"limit": 1})
    record = await call(client, "get_sequence", {"id": page["items"][0]["id"]})
    assert {"steps", "contacts", "schedule", "owner"} <= set(record)
