"""Turn the API's JSON into what the tools return, whatever envelope or shape it came in.

Records pass through whole (sanitised for display, `_id` read as `id`). Envelopes recognised: a
bare record or array; a record under data/sequence/result/record/item (with or without
`success`); a list under data/items/results/docs/sequences/records, or under any one key whose
value is an array of objects, with totals beside it or under meta/pagination/paging. What cannot
be recognised is returned as sent, under `raw`, with a note: never refused for its shape.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_sequences.models import MAX_NESTING, nesting
from mcp_sequences.records import Record, View, person_text, record_id
from mcp_sequences.sanitize import clean

LIST_KEYS = ("data", "items", "results", "docs", "sequences", "records")
RECORD_KEYS = ("data", "sequence", "result", "record", "item")
TOTAL_KEYS = ("total", "totalCount", "total_count", "totalDocs", "totalItems", "count")
NESTED_META_KEYS = ("meta", "pagination", "paging")
HAS_MORE_KEYS = ("has_more", "hasMore", "hasNextPage", "has_next")
UNRECOGNISED = "The API answered in a shape this server does not recognise; its answer is under `raw`, as sent."
TOO_DEEP = f"The API's answer nests deeper than {MAX_NESTING} levels; it is under `raw` as JSON text."


class ListAnswer:
    """A list answer taken apart: the records, what the API said about paging, and anything odd."""

    def __init__(self, raw: Any) -> None:
        self.items, self.meta = _split_envelope(raw)
        self.note = None if self.items is not None else UNRECOGNISED
        self.raw = raw if self.items is None else None
        self.items = [_as_record(item) for item in self.items or []]

    def total(self) -> int | None:
        return _first_int(self.meta, TOTAL_KEYS)

    def has_more(self, page: int, limit: int) -> bool:
        """Whether a page after this one holds more: the API's word, else its total, else a full page.

        `page` and `limit` are what was asked; the API's own echo of them wins (it may cap a limit).
        """
        for key in HAS_MORE_KEYS:
            if isinstance(self.meta.get(key), bool):
                return self.meta[key]
        page = _first_int(self.meta, ("page", "currentPage")) or page
        limit = _first_int(self.meta, ("limit", "pageSize", "perPage", "per_page")) or limit
        total = self.total()
        if total is not None:
            return page * limit < total
        return len(self.items) >= limit


def record(raw: Any, fallback_id: str | None = None) -> Record:
    """One record unwrapped from its envelope, `_id` read as `id`; a bodiless answer yields the id it was about."""
    found = _unwrap_record(raw)
    if found is None:
        result = {} if raw is None else {"raw": _displayable(raw), "note": UNRECOGNISED}
    else:
        result = _as_record(found)
    if "id" not in result and fallback_id is not None:
        result = {"id": fallback_id, **result}
    return result


def shown(value: Any) -> Any:
    """What the model and the person may be shown: invisible and bidi characters removed."""
    return clean(_displayable(value))


def summary(item: Record) -> dict[str, Any]:
    """What a person scanning a list needs of one sequence, in a few dozen tokens."""
    view = View.of(item)
    fields = {
        "id": view.id,
        "name": view.name,
        "status": view.status,
        "owner": person_text(item.get("owner")),
        "steps": view.steps,
        "contacts": view.contacts,
        "tags": view.tags or None,
        "updated": (view.updated or view.created or "")[:10] or None,
        "deleted": True if view.deleted else None,
    }
    return shown({key: value for key, value in fields.items() if value is not None})


def project(item: Record, fields: list[str]) -> Record:
    """Only the fields asked for (and the id), whether or not the API honoured `fields`."""
    return shown({key: item[key] for key in dict.fromkeys(["id", *fields]) if key in item})


def _as_record(item: Any) -> Record:
    if not isinstance(item, dict):
        return {"value": item}
    if "id" not in item and "_id" in item:
        rest = {key: value for key, value in item.items() if key != "_id"}
        return {"id": record_id(item) or item["_id"], **rest}
    return item


def _displayable(value: Any) -> Any:
    """Nesting past the limit is passed on as JSON text rather than refused."""
    if nesting(value) <= MAX_NESTING:
        return value
    return {"raw_json": json.dumps(value, ensure_ascii=False)[:100_000], "note": TOO_DEEP}


def _split_envelope(raw: Any) -> tuple[list[Any] | None, dict[str, Any]]:
    if isinstance(raw, list):
        return raw, {}
    if not isinstance(raw, dict):
        return None, {}
    key = next((key for key in LIST_KEYS if isinstance(raw.get(key), list)), None) or _only_list_of_objects(raw)
    if key is None:
        inner = raw.get("data")
        if isinstance(inner, dict):  # {"data": {"items": [...], "total": 3}}
            items, meta = _split_envelope(inner)
            return items, {**_meta(raw), **meta}
        return None, {}
    return raw[key], _meta(raw)


def _only_list_of_objects(raw: dict[str, Any]) -> str | None:
    keys = [
        key
        for key, value in raw.items()
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
    ]
    return keys[0] if len(keys) == 1 else None


def _meta(raw: dict[str, Any]) -> dict[str, Any]:
    meta = dict(raw)
    for nested in NESTED_META_KEYS:
        if isinstance(raw.get(nested), dict):
            meta |= raw[nested]
    return meta


def _unwrap_record(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, dict):
        return None
    if "id" in raw or "_id" in raw:  # a record, not an envelope around one
        return raw
    return next((raw[key] for key in RECORD_KEYS if isinstance(raw.get(key), dict)), raw)


def _first_int(meta: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None
