"""The guardrail layer: what a write may do to a sequence, decided before anything is sent.

A write is judged against the record as it is now (`assess`), in this order:

1. protection: a sequence with a --protect-tag or --protect-status cannot be deleted, and its
   status, deleted flag and protecting tags cannot change, whatever the policy;
2. the delete policy: with `deny`, nothing is deleted, including through `deleted: "true"`;
3. the delete budget: at most --max-deletes deletes an hour in this process;
4. what needs a person's yes under the `confirm` policy: a delete (by DELETE, or by setting
   `deleted` through PUT/PATCH), and a PUT or PATCH that would clear data the record has now
   (PUT by leaving fields out; either by sending them empty).

Nothing here talks to the API or to the client: tools fetch, ask and send; this decides.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp_sequences.models import SequenceFields
from mcp_sequences.records import Record, View, flag, scalar_text, texts
from mcp_sequences.sanitize import clean_text
from mcp_sequences.settings import Settings

Kind = Literal["delete", "replace", "patch"]
HOUR = 3600.0
EMPTY: tuple[Any, ...] = (None, "", [], {})


class Refused(Exception):
    """A write the guardrails refuse; the message names the rule and what would allow the write."""


@dataclass(frozen=True)
class Assessment:
    """What a write would do, as far as the guardrails care."""

    deletes: bool
    clears: tuple[str, ...]
    needs_yes: bool


@dataclass(frozen=True)
class DeletePolicy:
    """The delete policy for this call, and where it comes from, in words (refusals name it)."""

    mode: Literal["confirm", "deny", "allow"]
    source: str = "on this server (--delete-policy deny)"


def assess(
    kind: Kind, before: Record, body: dict[str, Any], settings: Settings, policy: DeletePolicy | None = None
) -> Assessment:
    """Judge a write against the record as it is now; raises Refused when a rule forbids it.

    `policy` is the caller's own when the HTTP deployment sets one; by default, --delete-policy.
    """
    policy = policy or DeletePolicy(settings.delete_policy)
    deletes = is_delete(kind, body)
    rule = protection(before, settings)
    if rule and deletes:
        raise Refused(f"{describe(before)} is protected ({rule}) and cannot be deleted")
    if rule and (changed := protected_changes(kind, before, body, settings)):
        raise Refused(f"{describe(before)} is protected ({rule}): its {', '.join(changed)} cannot be changed")
    if deletes and policy.mode == "deny":
        raise Refused(f"deleting is turned off {policy.source}; pause the sequence instead")
    clears = () if kind == "delete" else cleared_fields(kind, before, body)
    return Assessment(deletes, clears, needs_yes=policy.mode == "confirm" and (deletes or bool(clears)))


def marks_deleted(body: dict[str, Any]) -> bool:
    """Bodies come from the args models, which spell the flag canonically ("true")."""
    return body.get("deleted") == "true"


def is_delete(kind: Kind, body: dict[str, Any]) -> bool:
    return kind == "delete" or marks_deleted(body)


def protection(record: Record, settings: Settings) -> str | None:
    """The rule that protects this record, in words, or None (tags and statuses match in any case)."""
    tags = protecting_tags(record.get("tags"), settings)
    if tags:
        return f"tag {tags[0]!r}, --protect-tag"
    status = View.of(record).status
    if status is not None and _fold(status) in {_fold(s) for s in settings.protect_status}:
        return f"status {status!r}, --protect-status"
    return None


def protecting_tags(tags: Any, settings: Settings) -> list[str]:
    protected = {_fold(tag) for tag in settings.protect_tag}
    return sorted(tag for tag in texts(tags) if _fold(tag) in protected)


def _fold(text: str) -> str:
    """Compare as a person reads: letter case, surrounding space and invisible characters do not count."""
    return clean_text(text).strip().casefold()


def protected_changes(kind: Kind, before: Record, body: dict[str, Any], settings: Settings) -> list[str]:
    """The guarded fields this write would change; PUT changes every field it leaves out."""
    touched = body.keys() if kind == "patch" else {"status", "deleted", "tags"}
    changed = []
    if "status" in touched and _status(body.get("status")) != _status(before.get("status")):
        changed.append("status")
    if "deleted" in touched and (flag(body.get("deleted")) is True) != View.of(before).deleted:
        changed.append("deleted")
    if "tags" in touched:
        kept = {_fold(tag) for tag in protecting_tags(body.get("tags"), settings)}
        changed += [
            f"protecting tag {tag!r}" for tag in protecting_tags(before.get("tags"), settings) if _fold(tag) not in kept
        ]
    return changed


def _status(value: Any) -> str | None:
    text = scalar_text(value)
    return _fold(text) if text is not None else None


def cleared_fields(kind: Kind, before: Record, body: dict[str, Any]) -> tuple[str, ...]:
    """Documented fields the record has data in that this write would empty.

    A PUT empties every field it leaves out; PUT and PATCH alike empty a field sent as null, "",
    [] or {}. The deleted flag is the delete rules' business, not data.
    """
    return tuple(
        name
        for name in SequenceFields.model_fields
        if name != "deleted"
        and before.get(name) not in EMPTY
        and (body.get(name) in EMPTY if name in body else kind == "replace")
    )


def shown_name(record: Record) -> str | None:
    """The name as the person sees it: invisible and bidi characters removed, then trimmed."""
    name = View.of(record).name
    return clean_text(name).strip() or None if name is not None else None


def describe(record: Record) -> str:
    return f"sequence {shown_name(record) or '(unnamed)'!r} (id {View.of(record).id})"


def confirmation_text(record: Record) -> str:
    """What the person must type back: the name as shown, or the id of an unnamed sequence."""
    return shown_name(record) or str(View.of(record).id)


def typed_correctly(typed: str, record: Record) -> bool:
    return _fold(typed) == _fold(confirmation_text(record))


def confirmation_message(kind: Kind, record: Record, assessment: Assessment) -> str:
    """The question the person sees: what will happen, to what, and how to say yes."""
    action = "DELETE" if assessment.deletes else "CLEAR DATA IN" if kind == "patch" else "REPLACE"
    lines = [f"{action} the sequence {shown_name(record) or '(unnamed)'!r}?", _facts(View.of(record))]
    if assessment.clears:
        lines.append(f"This clears what the sequence has now in: {', '.join(assessment.clears)}.")
    if assessment.deletes:
        lines.append("The audit log keeps a copy; restore_sequence can re-create it under a new id.")
    lines.append(f"To confirm, type the sequence's name: {confirmation_text(record)}")
    return "\n".join(lines)


def _facts(view: View) -> str:
    facts = [f"id {view.id}", f"status {clean_text(view.status or 'unknown')}"]
    facts += [_count(count, noun) for count, noun in ((view.steps, "step"), (view.contacts, "contact")) if count]
    dated = (("starts", view.start), ("ends", view.end), ("created", view.created), ("updated", view.updated))
    facts += [f"{label} {clean_text(value)[:10]}" for label, value in dated if value]
    return "; ".join(facts)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class DeleteBudget:
    """At most `limit` deletes in any hour, shared by every session of the process."""

    limit: int
    clock: Callable[[], float] = time.monotonic
    _spent: deque[float] = field(default_factory=deque)

    def check(self) -> None:
        """Refuse now, before anyone is asked, when no delete is left this hour."""
        now = self.clock()
        while self._spent and now - self._spent[0] >= HOUR:
            self._spent.popleft()
        if len(self._spent) >= self.limit:
            wait = math.ceil((HOUR - (now - self._spent[0])) / 60) if self._spent else 60
            raise Refused(
                f"this server allows {self.limit} deletes an hour (--max-deletes) and they are used up; "
                f"the next is possible in about {wait} minutes"
            )

    def reserve(self) -> float:
        """Take one delete from this hour's budget; `release` gives it back if the delete fails."""
        self.check()
        stamp = self.clock()
        self._spent.append(stamp)
        return stamp

    def release(self, stamp: float) -> None:
        self._spent.remove(stamp)
