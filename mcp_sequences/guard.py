"""The guardrail layer: what a write may do to a sequence, decided before anything is sent.

A write is judged against the record as it is now (`assess`), in this order:

1. protection: a sequence with a --protect-tag or --protect-status cannot be deleted, and its
   status, deleted flag and protecting tags cannot change, whatever the policy;
2. the delete policy: with `deny`, nothing is deleted, including through `deleted: "true"`;
3. the delete budget (budget.py): at most --max-deletes deletes an hour, shared through the store;
4. what needs a person's yes under the `confirm` policy: a delete (by DELETE, or by setting
   `deleted` through PUT/PATCH), and a PUT or PATCH that would clear data the record has now
   (PUT by leaving fields out; either by sending them empty).

Nothing here talks to the API or to the client: tools fetch, ask and send; this decides.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from mcp_sequences.models import Sequence, SequenceFields
from mcp_sequences.settings import Settings

Kind = Literal["delete", "replace", "patch"]
GUARDED_FIELDS = ("status", "deleted")
EMPTY: tuple[Any, ...] = (None, "", [], {})


class Refused(Exception):
    """A write the guardrails refuse; the message names the rule and what would allow the write."""


@dataclass(frozen=True)
class Assessment:
    """What a write would do, as far as the guardrails care."""

    deletes: bool
    clears: tuple[str, ...]
    needs_yes: bool


def assess(kind: Kind, before: Sequence, body: dict[str, Any], settings: Settings) -> Assessment:
    """Judge a write against the record as it is now; raises Refused when a rule forbids it."""
    deletes = is_delete(kind, body)
    rule = protection(before, settings)
    if rule and deletes:
        raise Refused(f"{describe(before)} is protected ({rule}) and cannot be deleted")
    if rule and (changed := protected_changes(kind, before, body, settings)):
        raise Refused(f"{describe(before)} is protected ({rule}): its {', '.join(changed)} cannot be changed")
    if deletes and settings.delete_policy == "deny":
        raise Refused("deleting is turned off on this server (--delete-policy deny); pause the sequence instead")
    clears = () if kind == "delete" else cleared_fields(kind, before, body)
    return Assessment(deletes, clears, needs_yes=settings.delete_policy == "confirm" and (deletes or bool(clears)))


def marks_deleted(body: dict[str, Any]) -> bool:
    """Bodies come from the args models, which spell the flag canonically ("true")."""
    return body.get("deleted") == "true"


def is_delete(kind: Kind, body: dict[str, Any]) -> bool:
    return kind == "delete" or marks_deleted(body)


def protection(record: Sequence, settings: Settings) -> str | None:
    """The rule that protects this record, in words, or None (tags and statuses match in any case)."""
    tags = protecting_tags(record.tags, settings)
    if tags:
        return f"tag {tags[0]!r}, --protect-tag"
    if record.status is not None and _fold(record.status) in {_fold(s) for s in settings.protect_status}:
        return f"status {record.status!r}, --protect-status"
    return None


def protecting_tags(tags: Any, settings: Settings) -> list[str]:
    protected = {_fold(tag) for tag in settings.protect_tag}
    return sorted(tag for tag in tags or () if isinstance(tag, str) and _fold(tag) in protected)


def _fold(text: str) -> str:
    return text.strip().casefold()


def protected_changes(kind: Kind, before: Sequence, body: dict[str, Any], settings: Settings) -> list[str]:
    """The guarded fields this write would change; PUT changes every field it leaves out."""
    now = before.model_dump()
    changed = [
        name for name in GUARDED_FIELDS if (kind == "replace" or name in body) and body.get(name) != now.get(name)
    ]
    if kind == "replace" or "tags" in body:
        kept = {_fold(tag) for tag in protecting_tags(body.get("tags"), settings)}
        changed += [
            f"protecting tag {tag!r}" for tag in protecting_tags(before.tags, settings) if _fold(tag) not in kept
        ]
    return changed


def cleared_fields(kind: Kind, before: Sequence, body: dict[str, Any]) -> tuple[str, ...]:
    """Documented fields the record has data in that this write would empty.

    A PUT empties every field it leaves out; PUT and PATCH alike empty a field sent as null, "",
    [] or {}. The deleted flag is the delete rules' business, not data.
    """
    now = before.model_dump(by_alias=True)
    return tuple(
        name
        for name in SequenceFields.model_fields
        if name != "deleted"
        and now.get(name) not in EMPTY
        and (body.get(name) in EMPTY if name in body else kind == "replace")
    )


def describe(record: Sequence) -> str:
    return f"sequence {record.name or '(unnamed)'!r} (id {record.id})"


def confirmation_text(record: Sequence, earlier: str | None = None) -> str:
    """What the person must type back: the name before recent renames (so a harmless-looking new
    name cannot stand in for it), else the name, or the id of an unnamed sequence."""
    for name in (earlier, record.name):
        if name and name.strip():
            return name.strip()
    return str(record.id)


def typed_correctly(typed: str, record: Sequence, earlier: str | None = None) -> bool:
    return typed.strip().casefold() == confirmation_text(record, earlier).casefold()


def record_version(record: Sequence) -> str:
    """A short fingerprint of the record as shown: an answer given for one version is not one for another."""
    shown = json.dumps(record.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()[:8]


def confirmation_message(kind: Kind, record: Sequence, assessment: Assessment, earlier: str | None = None) -> str:
    """The question the person sees: what will happen, to what, and how to say yes.

    `earlier` is the name the sequence had before renames made through this server in the last day.
    """
    action = "DELETE" if assessment.deletes else "CLEAR DATA IN" if kind == "patch" else "REPLACE"
    lines = [f"{action} the sequence {record.name or '(unnamed)'!r}?", _facts(record)]
    if assessment.clears:
        lines.append(f"This clears what the sequence has now in: {', '.join(assessment.clears)}.")
    if assessment.deletes:
        lines.append("The audit log keeps a copy; restore_sequence can re-create it under a new id.")
    if earlier:
        lines.append(f"It was renamed through this server in the last 24 hours; before that it was {earlier!r}.")
    lines.append(f"To confirm, type the sequence's name: {confirmation_text(record, earlier)}")
    return "\n".join(lines)


def _facts(record: Sequence) -> str:
    facts = [f"id {record.id}", f"status {record.status or 'unknown'}"]
    facts += [_count(items, noun) for items, noun in ((record.steps, "step"), (record.contacts, "contact")) if items]
    dates = [f"{label} {value}" for label, value in (("starts", record.startDate), ("ends", record.endDate)) if value]
    dates += [
        f"{label} {value[:10]}"
        for label, value in (("created", record.createdAt), ("updated", record.updatedAt))
        if value
    ]
    return "; ".join([*facts, *dates, f"version {record_version(record)}"])


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
