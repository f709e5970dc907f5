"""Read tools: list and retrieve sequences. They never change anything."""

from __future__ import annotations

from typing import Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_sequences import shaping
from mcp_sequences.client import ID_PATTERN
from mcp_sequences.models import Sequence, SequencePage
from mcp_sequences.toolkit import ToolArgs, app_state, tool

MAX_PAGE_SIZE = 100


class SequenceRef(ToolArgs):
    """Arguments naming one sequence."""

    id: str = Field(
        pattern=ID_PATTERN,
        description="Id of the sequence (letters, digits, '-' or '_'); list_sequences shows ids.",
    )


class ListSequencesArgs(ToolArgs):
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Sequences per page, 1-100.")
    page: int = Field(1, ge=1, description="Page number, starting at 1.")
    q: str | None = Field(None, max_length=200, description="Free-text search, e.g. part of a name, code or tag.")
    sortBy: str | None = Field(
        None, max_length=64, description="Field to sort by, e.g. createdAt, name, status. Default: most recent first."
    )
    order: Literal["asc", "desc"] | None = Field(None, description="Sort direction for sortBy.")
    fields: str | None = Field(
        None,
        max_length=500,
        description="Comma-separated fields to return, e.g. 'id,name,status'; keeps large lists small.",
    )
    p: str | None = Field(
        None,
        max_length=2000,
        description='The API\'s policyFilters: a JSON object of exact-match filters, e.g. \'{"status":"active"}\'.',
    )


@tool("List sequences", read_only=True)
async def list_sequences(args: ListSequencesArgs, ctx: Context) -> SequencePage:
    """List sequences, most recent first, one page at a time, with optional search, sort and filters.

    Use this to find a sequence's id, to browse or search (q), or to review many at once; use
    get_sequence for one sequence's full detail. Returns {items, page, limit, total, has_more};
    when has_more is true, call again with page + 1.
    """
    state = app_state(ctx)
    raw = await state.api.list(args.model_dump(by_alias=True, exclude_none=True))
    page = shaping.sequence_page(raw, page=args.page, limit=args.limit)
    return shaping.fit(page, state.settings.max_result_chars)


@tool("Get a sequence", read_only=True)
async def get_sequence(args: SequenceRef, ctx: Context) -> Sequence:
    """Retrieve one sequence by id with all its fields: steps, schedule, owner, contacts, status, dates.

    Use this before changing a sequence, to see its current state. Returns the sequence as the
    API stores it, including fields beyond the documented ones.
    """
    return shaping.sequence(await app_state(ctx).api.get(args.id))
