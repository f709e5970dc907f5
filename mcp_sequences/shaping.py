"""Turn the API's JSON into the tools' result models, whatever envelope it came in.

The API documents no response schema, so this accepts the common shapes: a bare array, or an
object holding the array under data/items/results/docs with totals beside it or under meta.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mcp_sequences.errors import APIResponseError
from mcp_sequences.models import MAX_NESTING, Activity, Sequence, SequencePage, nesting

S = TypeVar("S", bound=Sequence)
A = TypeVar("A", bound=Activity)

LIST_KEYS = ("data", "items", "results", "docs", "sequences", "records")
RECORD_KEYS = ("data", "sequence", "result", "record")
TOTAL_KEYS = ("total", "totalCount", "total_count", "totalDocs", "totalItems", "count")
NESTED_META_KEYS = ("meta", "pagination", "paging")
HAS_MORE_KEYS = ("has_more", "hasMore", "hasNextPage", "has_next")


def sequence_page(raw: Any, page: int | None, limit: int | None) -> SequencePage:
    """One normalised page; `page` and `limit` are what was asked, used when the API does not echo them."""
    items, meta = _split_envelope(raw)
    total = _first_int(meta, TOTAL_KEYS)
    page = _first_int(meta, ("page", "currentPage"), default=page)
    limit = _first_int(meta, ("limit", "pageSize", "perPage", "per_page"), default=limit)
    return SequencePage(
        items=[_parse(Sequence, item, "a listed sequence") for item in items],
        page=page,
        limit=limit,
        total=total,
        has_more=_has_more(meta, len(items), page, limit, total),
    )


def fit(page: SequencePage, max_chars: int) -> SequencePage:
    """Cut a page that would flood the model's context, and say how to get the rest in smaller bites.

    `has_more` keeps what the API said: the next page does not hold the items cut from this one,
    so the note says how to reach them (a smaller limit, or fewer fields).
    """
    if _size(page) <= max_chars:
        return page
    total = len(page.items)
    keep = _most_items_within(page, max_chars, note=_cut_note(total, total, max_chars))
    return page.model_copy(update={"items": page.items[:keep], "note": _cut_note(keep, total, max_chars)})


def _cut_note(keep: int, total: int, max_chars: int) -> str:
    return (
        f"Cut to {keep} of the {total} sequences on this page to stay under {max_chars:,} characters. "
        f"To see the rest, page through with limit={keep}, or ask for fewer fields "
        "(e.g. fields='id,name,status,updatedAt')."
    )


def _most_items_within(page: SequencePage, max_chars: int, note: str) -> int:
    """Binary search: the longest prefix of the items that fits with the note (at least one item)."""
    low, high = 1, len(page.items)
    while low < high:
        middle = (low + high + 1) // 2
        if _size(page.model_copy(update={"items": page.items[:middle], "note": note})) <= max_chars:
            low = middle
        else:
            high = middle - 1
    return low


def _size(page: SequencePage) -> int:
    return len(page.model_dump_json(exclude_unset=True))


def sequence(raw: Any, fallback_id: str | None = None, model: type[S] = Sequence) -> S:
    """A single record, unwrapped from {data: {...}} and the like.

    A write that answers with no body, or only an acknowledgement, still yields the id it was about.
    """
    record = _unwrap_record(raw)
    parsed = model() if record is None else _parse(model, record, "the sequence")
    if parsed.id is None and fallback_id is not None:
        parsed.id = fallback_id
    return parsed


def activity(raw: Any, model: type[A] = Activity) -> A:
    record = _unwrap_record(raw)
    return model() if record is None else _parse(model, record, "the activity")


def _split_envelope(raw: Any) -> tuple[list[Any], dict[str, Any]]:
    if isinstance(raw, list):
        return raw, {}
    if isinstance(raw, dict):
        for key in LIST_KEYS:
            if isinstance(raw.get(key), list):
                meta = dict(raw)
                for nested in NESTED_META_KEYS:
                    if isinstance(raw.get(nested), dict):
                        meta |= raw[nested]
                return raw[key], meta
    raise APIResponseError(
        "The API's list answer holds no list of sequences (expected an array, or data/items/results); "
        "check ICLOUDREADY_BASE_URL."
    )


def _unwrap_record(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise APIResponseError(f"The API answered with a {type(raw).__name__} where a JSON object was expected.")
    if "id" in raw or "_id" in raw:  # a record, not an envelope around one
        return raw
    return next((raw[key] for key in RECORD_KEYS if isinstance(raw.get(key), dict)), raw)


def _has_more(meta: dict[str, Any], count: int, page: int | None, limit: int | None, total: int | None) -> bool:
    for key in HAS_MORE_KEYS:
        if isinstance(meta.get(key), bool):
            return meta[key]
    if total is not None and page is not None and limit:
        return page * limit < total
    # No totals: a full page suggests another one.
    return bool(limit) and count >= (limit or 0)


def _first_int(meta: dict[str, Any], keys: tuple[str, ...], default: int | None = None) -> int | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return default


def _parse(model: type[BaseModel], data: Any, what: str) -> Any:
    if nesting(data) > MAX_NESTING:
        raise APIResponseError(
            f"The API returned {what} nested deeper than {MAX_NESTING} levels, which this server does not pass "
            "on; ask for fewer fields (fields='id,name,status')."
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(map(str, err["loc"])) or "(root)" for err in exc.errors()}))
        raise APIResponseError(
            f"The API returned {what} in an unexpected shape (fields: {fields}); "
            "ask for fewer fields with `fields`, or report this to the server's maintainers."
        ) from exc
