"""Pydantic models behind the tools' schemas: strict about what we send, open about what we receive.

Inputs type and check every documented field of a sequence (the API reference lists them, but
nothing below them): a bad date, a blank name or an unknown spelling of `deleted` is refused
before anything is sent. Sub-objects (steps, schedule, owner, sender, contacts) type the keys the
domain makes clear and let others through to `keys.py`, which accepts a key the API itself
returned and refuses a likely typo.

Outputs promise only their top-level shape. A sequence is the JSON object the API sent, passed
on whole (`records.py` reads facts from it tolerantly), so no answer can fail for its shape.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from mcp_sequences.records import FALSE_WORDS, TRUE_WORDS, flag

# Deeper than any real sequence or activity; deep enough that pydantic and JSON never recurse out.
MAX_NESTING = 32
MAX_NAME_CHARS = 200


class ArgumentError(ValueError):
    """Arguments a tool refuses after its schema accepted them (it took context: a record, a cursor).

    Each problem is (where, what is wrong), e.g. ("steps.0.subjet", "unknown key; did you mean subject?").
    """

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems


def nesting(value: Any) -> int:
    """How deeply arrays and objects nest in a JSON value (iteratively: it may be hostile)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_bool(value: Any) -> Any:
    """JSON true is not the number 1: pydantic would read it so, and send 1."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _iso_date(value: str) -> str:
    """YYYY-MM-DD, or a full ISO 8601 date-time; sent exactly as given."""
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 date, YYYY-MM-DD (e.g. 2026-01-15)") from None
    return value


def check_dates(body: dict[str, Any], before: dict[str, Any] | None = None) -> None:
    """Refuse an end before the start, taking a date left out of a PATCH from the record."""
    start, end = (body.get(key, (before or {}).get(key)) for key in ("startDate", "endDate"))
    if isinstance(start, str) and isinstance(end, str) and _is_date(start[:10]) and _is_date(end[:10]) and end < start:
        raise ArgumentError(("endDate", f"{end} is before startDate {start}"))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _known_flag(value: Any) -> str:
    """Only the known words: anything else might be read as either, so it is refused, not guessed."""
    truth = flag(value) if isinstance(value, bool | str | int) else None
    if truth is None:
        words = "/".join(sorted(TRUE_WORDS | FALSE_WORDS))
        raise ValueError(f"must be true or false (also accepted: {words})")
    return "true" if truth else "false"


def checked(pattern: str, expected: str) -> AfterValidator:
    """A format check that is enforced but not spelled out in the schema: regexes cost the model tokens."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {expected}")
        return value

    return AfterValidator(check)


def at_most(chars: int) -> AfterValidator:
    return checked(rf"(?s).{{0,{chars}}}", f"at most {chars} characters")


def count(minimum: int = 0, maximum: int | None = None) -> Any:
    """A whole number in range; JSON true is not 1."""
    return Annotated[int, Field(ge=minimum, le=maximum), BeforeValidator(_no_bool)]


Count = count()
Name = Annotated[str, at_most(MAX_NAME_CHARS), AfterValidator(_not_blank)]
IsoDate = Annotated[str, AfterValidator(_iso_date)]
Time = Annotated[str, checked(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?", "a time of day, HH:MM")]
Email = Annotated[str, checked(r"[^@\s]+@[^@\s]+", "an email address")]
IdValue = str | int
# `deleted` is a string in the API; what is sent is always "true" or "false", so the guardrails
# judge exactly what the API will receive.
DeletedFlag = Annotated[str, BeforeValidator(_known_flag)]


class Open(BaseModel):
    """A sub-object: known keys are typed; other keys pass to the key check (keys.py)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Step(Open):
    order: Count | None = None
    type: str | None = Field(None, description="email, call, task, linkedin")
    delayDays: Count | None = Field(None, description="days after the previous step")
    subject: str | None = None
    template: str | None = None
    body: str | None = None


class Person(Open):
    id: IdValue | None = None
    name: str | None = None
    email: Email | None = None


class Sender(Open):
    name: str | None = None
    email: Email | None = None


class Schedule(Open):
    timezone: str | None = Field(None, description="IANA")
    days: list[str] | None = Field(None, description="e.g. ['mon','tue']")
    startTime: Time | None = Field(None, description="HH:MM")
    endTime: Time | None = Field(None, description="HH:MM")


class Contact(Open):
    id: IdValue | None = None
    email: Email | None = None
    name: str | None = None
    status: str | None = None


class SequenceFields(BaseModel):
    """The documented fields of a sequence, all optional: the body of create, update and patch."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    code: str | None = None
    status: str | None = Field(None, description="draft, active, paused, completed...")
    type: str | None = Field(None, description="email, call, mixed")
    priority: str | None = Field(None, description="low, medium, high")
    owner: Person | IdValue | None = Field(None, description="A user id, or {keys}")
    emailFrom: Sender | None = Field(None, description="Sender {keys}")
    schedule: Schedule | None = Field(None, description="When it sends {keys}")
    steps: list[Step] | None = Field(None, description="In order, each {keys}")
    contacts: list[Contact | IdValue] | None = Field(None, description="Contact ids, or {keys}")
    tags: list[str] | None = None
    maxContacts: Count | None = None
    template: str | None = None
    startDate: IsoDate | None = Field(None, description="YYYY-MM-DD")
    endDate: IsoDate | None = Field(None, description="YYYY-MM-DD")
    deleted: DeletedFlag | None = Field(None, description='"true" or "false"')


class SequenceRecord(BaseModel):
    """A sequence exactly as the API sent it (every field, any shape)."""

    model_config = ConfigDict(extra="allow")


class SequencePage(BaseModel):
    """One page of list_sequences, the same shape whatever envelope the API used."""

    items: list[dict[str, Any]]
    page: int | None = None
    total: int | None = None
    has_more: bool
    next_cursor: str | None = None
    note: str | None = None
    raw: Any = None


class PlannedRequest(BaseModel):
    """An API request as it would be sent."""

    method: str
    path: str
    body: dict[str, Any] | None = None


class DryRun(BaseModel):
    """What a write would have done: the exact request, and what a real call would meet."""

    request: PlannedRequest
    verdict: str


# Results hold API records under a key of their own (`sequence`, `activity`) so that no field the
# API sends can collide with a field of ours and fail validation.


class DryRunnable(BaseModel):
    dry_run: DryRun | None = None


class WrittenSequence(DryRunnable):
    """The sequence as stored; with dry_run, the request instead."""

    sequence: dict[str, Any] | None = None


class WrittenActivity(DryRunnable):
    """The activity as the API stored it (its shape is undocumented: every field is kept)."""

    activity: dict[str, Any] | None = None


class DeleteResult(DryRunnable):
    """What delete_sequence did."""

    deleted: bool
    id: str
    name: str | None = None


class RestoreResult(DryRunnable):
    """What restore_sequence did."""

    restored_from: str
    in_place: bool
    sequence: dict[str, Any] | None = None
