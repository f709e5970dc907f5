"""Pages that fit the model's context, and a cursor that resumes exactly where a page stopped.

A page of long sequences can be cut to fit `--max-result-chars`. Telling the model "call again
with page + 1" would skip what was cut, so every page that has more says where to resume: an
opaque `next_cursor` holding the query, the API page and how many of its items were shown.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from mcp_sequences.models import ArgumentError, SequencePage

CUT_NOTE = (
    "Cut to {kept} of {total} sequences to stay under {limit:,} characters; call again with only "
    "cursor=next_cursor for the rest (fields= or a smaller limit makes pages smaller)."
)


NOT_OURS = "is not a cursor this server gave; pass next_cursor exactly as returned"


class CursorError(ArgumentError):
    """A cursor this server did not give (or one cut short in copying)."""

    def __init__(self, problem: str = NOT_OURS) -> None:
        super().__init__(("cursor", problem))


def encode(state: dict[str, Any]) -> str:
    text = json.dumps(state, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        state = None
    if not isinstance(state, dict):
        raise CursorError()
    return state


def fit(page: SequencePage, max_chars: int, resume_after: Callable[[int], str]) -> SequencePage:
    """Cut a page that would flood the context to its longest prefix that fits, with a cursor to the rest."""
    if _size(page) <= max_chars:
        return page
    total = len(page.items)

    def cut(keep: int) -> SequencePage:
        note = CUT_NOTE.format(kept=keep, total=total, limit=max_chars)
        extra = {"has_more": True, "next_cursor": resume_after(keep), "note": note}
        return page.model_copy(update={"items": page.items[:keep], **extra})

    low, high = 1, total  # binary search; at least one item, so paging always advances
    while low < high:
        middle = (low + high + 1) // 2
        if _size(cut(middle)) <= max_chars:
            low = middle
        else:
            high = middle - 1
    return cut(low)


def _size(page: SequencePage) -> int:
    return len(page.model_dump_json(exclude_none=True))
