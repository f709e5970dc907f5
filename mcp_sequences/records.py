"""Read what we need from an API record, whatever shape it came in; never fail on a shape.

The API documents no response schema. A record is kept as the plain JSON object the API sent
(`dict`), and everything that needs one of its facts (the guardrails, the person's confirmation,
list summaries, restore) asks this module, which understands the shapes seen in the wild: `_id`
for `id`, numeric ids, numbers as strings, `deleted: false` or `0`, epoch timestamps, contacts as
ids, an owner as an id, tags as one comma-separated string. Anything it cannot read is "unknown"
(None), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

Record = dict[str, Any]

# The spellings of the API's string flag `deleted` (and of JSON booleans and 0/1) that this server
# understands; anything else is refused on input and read as "not known to be deleted" on output.
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
# Epoch values above this are milliseconds (this is 2286-11-20 in seconds).
_EPOCH_MS_FROM = 10_000_000_000


def record_id(record: Record) -> str | None:
    """The id, as text (ids are sent back in paths), from `id` or `_id`."""
    for key in ("id", "_id"):
        value = record.get(key)
        if isinstance(value, dict) and len(value) == 1:  # extended JSON: {"$oid": "..."}
            value = next(iter(value.values()))
        text = scalar_text(value)
        if text:
            return text
    return None


def scalar_text(value: Any) -> str | None:
    """A string, number or boolean as text; None for anything else (objects, lists, null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def flag(value: Any) -> bool | None:
    """The truth of a flag in any understood spelling; None when it is not one."""
    if isinstance(value, bool):
        return value
    text = scalar_text(value)
    folded = text.casefold() if text is not None else None
    return True if folded in TRUE_WORDS else False if folded in FALSE_WORDS else None


def as_list(value: Any) -> list[Any]:
    """A list field as a list: null is empty, one comma-separated string is its parts, a scalar is one item."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def texts(value: Any) -> list[str]:
    """A list of strings (tags), keeping only the items that are text or numbers."""
    return [text for item in as_list(value) if (text := scalar_text(item)) is not None]


def date_text(value: Any) -> str | None:
    """An ISO 8601 date-time string as sent, or an epoch (seconds or milliseconds) as ISO 8601 UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            return None
    return value if isinstance(value, str) and value.strip() else None


def person_text(value: Any) -> str | None:
    """Who a person is (an owner): their name, else email, else id; or the id they were given as."""
    if isinstance(value, dict):
        return next((text for key in ("name", "email", "id", "_id") if (text := scalar_text(value.get(key)))), None)
    return scalar_text(value)


@dataclass(frozen=True)
class View:
    """The facts of a record the server itself relies on, read tolerantly."""

    id: str | None
    name: str | None
    status: str | None
    tags: list[str]
    deleted: bool
    steps: int
    contacts: int
    start: str | None
    end: str | None
    created: str | None
    updated: str | None

    @classmethod
    def of(cls, record: Record) -> View:
        return cls(
            id=record_id(record),
            name=scalar_text(record.get("name")),
            status=scalar_text(record.get("status")),
            tags=texts(record.get("tags")),
            deleted=flag(record.get("deleted")) is True,
            steps=len(as_list(record.get("steps"))),
            contacts=len(as_list(record.get("contacts"))),
            start=date_text(record.get("startDate")),
            end=date_text(record.get("endDate")),
            created=date_text(record.get("createdAt")),
            updated=date_text(record.get("updatedAt")),
        )
