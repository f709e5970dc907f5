"""Catch a misspelled key inside a sub-object (`steps.0.subjet`) before it is stored.

Sub-objects are open: the API documents nothing below a sequence's fields, and a record may come
back with keys of its own. So a key is accepted when our model types it or the API itself has
returned it at that place (in the record being changed, or any record read by this process), which
keeps every read-modify-write round trip working; anything else is refused as a likely typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from mcp_sequences.models import ArgumentError, Contact, Person, Schedule, Sender, Step
from mcp_sequences.records import Record

SUB_OBJECTS: dict[str, type[BaseModel]] = {
    "steps": Step,
    "contacts": Contact,
    "owner": Person,
    "emailFrom": Sender,
    "schedule": Schedule,
}
# A hostile API could send endless keys; a real one has a handful per sub-object.
MAX_LEARNED_KEYS = 200


class KeyCatalog:
    """The keys each sub-object has had in records the API returned to this process."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {field: set() for field in SUB_OBJECTS}

    def learn(self, records: Iterable[Record]) -> None:
        for record in records:
            for field, where_objects in _sub_objects(record):
                seen = self._seen[field]
                for _, item in where_objects:
                    seen.update(key for key in item if isinstance(key, str) and len(seen) < MAX_LEARNED_KEYS)

    def check(self, body: dict[str, Any]) -> None:
        """Raise ArgumentError naming every unknown key in the body's sub-objects, with a suggestion."""
        problems = []
        for field, where_objects in _sub_objects(body):
            known = sorted(SUB_OBJECTS[field].model_fields.keys() | self._seen[field])
            for where, item in where_objects:
                problems += [(f"{where}.{key}", _unknown(key, known)) for key in item if key not in known]
        if problems:
            raise ArgumentError(*problems)


def _sub_objects(record: Record) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """Each sub-object field with its objects and where they are (steps.0, owner)."""
    found = []
    for field in SUB_OBJECTS:
        value = record.get(field)
        located = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        objects = [(field if index is None else f"{field}.{index}", item) for index, item in located]
        found.append((field, [(where, item) for where, item in objects if isinstance(item, dict)]))
    return found


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) or [
        name for name in known if name.casefold() == key.casefold()
    ]
    guess = f"did you mean {close[0]}? " if close else ""
    return f"unknown key; {guess}known keys: {', '.join(known)}"
