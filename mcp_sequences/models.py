"""Pydantic models of a sequence: the tools' input and output schemas are generated from these.

The API documents the sequence's top-level fields and nothing below them, so the sub-shapes
(step, owner, schedule, contact, sender) type the keys the domain makes clear and keep any others.
Output models keep every field the API returns, documented or not.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

# The API's ids are strings; some deployments return numbers. Both are passed on as they came.
IdValue = str | int


# Deeper than any real sequence or activity; deep enough that pydantic and JSON never recurse out.
MAX_NESTING = 32


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


# `deleted` is a string in the API. Models spell it many ways; what is sent is always the canonical
# "true"/"false", so the guardrails judge exactly what the API will receive.
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})


def _canonical_flag(value: Any) -> Any:
    text = str(value).strip().lower() if isinstance(value, bool | str) else None
    if text in TRUE_WORDS:
        return "true"
    return "false" if text in FALSE_WORDS else value


class Open(BaseModel):
    """A sub-object of the API: known keys are typed, unknown keys are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Step(Open):
    """One step of a sequence."""

    order: int | None = Field(None, ge=0, description="Position of the step in the sequence, starting at 1.")
    type: str | None = Field(None, description="Kind of step, e.g. email, call, task, linkedin.")
    delayDays: int | None = Field(None, ge=0, description="Days to wait after the previous step before this one.")
    subject: str | None = Field(None, description="Email subject line, for email steps.")
    template: str | None = Field(None, description="Id or name of the email template this step sends.")
    body: str | None = Field(None, description="Text of the message or instructions for the step.")


class Person(Open):
    """A user of the CRM, e.g. the sequence's owner."""

    id: IdValue | None = Field(None, description="User id in the CRM.")
    name: str | None = Field(None, description="Full name.")
    email: str | None = Field(None, description="Email address.")


class Sender(Open):
    """The address the sequence's emails are sent from."""

    name: str | None = Field(None, description="Display name shown to recipients.")
    email: str | None = Field(None, description="Sending email address.")


class Schedule(Open):
    """When the sequence is allowed to send."""

    timezone: str | None = Field(None, description="IANA time zone, e.g. America/New_York.")
    days: list[str] | None = Field(None, description="Weekdays it sends on, e.g. ['mon','tue','wed','thu','fri'].")
    startTime: str | None = Field(None, description="Earliest local send time, HH:MM.")
    endTime: str | None = Field(None, description="Latest local send time, HH:MM.")


class Contact(Open):
    """A person enrolled in the sequence."""

    id: IdValue | None = Field(None, description="Contact id in the CRM.")
    email: str | None = Field(None, description="Contact's email address.")
    name: str | None = Field(None, description="Contact's name.")
    status: str | None = Field(None, description="Progress in the sequence, e.g. active, replied, finished.")


class SequenceFields(BaseModel):
    """The documented fields of a sequence, all optional (the base of every input and output)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(None, description="Name of the sequence, shown in the CRM.")
    code: str | None = Field(None, description="Short unique code or reference for the sequence.")
    schedule: Schedule | None = Field(None, description="When the sequence may send (time zone, days, hours).")
    priority: str | None = Field(None, description="Priority, e.g. low, medium, high.")
    owner: Person | None = Field(None, description="CRM user who owns the sequence.")
    type: str | None = Field(None, description="Kind of sequence, e.g. email, call, mixed.")
    emailFrom: Sender | None = Field(None, description="Sender name and address of the sequence's emails.")
    maxContacts: int | None = Field(None, ge=0, description="Most contacts that may be enrolled at once.")
    tags: list[str] | None = Field(None, description="Labels for finding and grouping sequences.")
    status: str | None = Field(None, description="Lifecycle status, e.g. draft, active, paused, completed, archived.")
    steps: list[Step] | None = Field(None, description="The steps, in order: emails, calls, tasks and their delays.")
    contacts: list[Contact] | None = Field(None, description="Contacts enrolled in the sequence.")
    template: str | None = Field(None, description="Default email template (id or name) for the sequence.")
    startDate: str | None = Field(None, description="Date the sequence starts, ISO 8601 (YYYY-MM-DD).")
    endDate: str | None = Field(None, description="Date the sequence ends, ISO 8601 (YYYY-MM-DD).")
    deleted: Annotated[str | None, BeforeValidator(_canonical_flag)] = Field(
        None, description="The API's soft-delete flag as a string, 'true' or 'false'. Setting it to 'true' deletes."
    )


class Identified(BaseModel):
    """The id a stored sequence has (a base of its own so that id comes first in results)."""

    id: IdValue | None = Field(
        None,
        # Document stores often call it _id; either way it reaches the model as id.
        validation_alias=AliasChoices("id", "_id"),
        description="The sequence's id: pass it to get/update/patch/delete.",
    )


class Sequence(SequenceFields, Identified):
    """A sequence as the API returns it; fields the API adds beyond the documented ones are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    createdAt: str | None = Field(None, description="When the sequence was created (ISO 8601), if the API says.")
    updatedAt: str | None = Field(None, description="When it was last changed (ISO 8601), if the API says.")


class SequencePage(BaseModel):
    """One page of list_sequences, the same shape whatever envelope the API used."""

    items: list[Sequence] = Field(description="The sequences on this page.")
    page: int | None = Field(description="This page's number (1-based), when known.")
    limit: int | None = Field(description="Page size asked for, when known.")
    total: int | None = Field(description="Sequences matching the query across all pages, when the API says.")
    has_more: bool = Field(description="True when another page probably follows: call again with page + 1.")
    note: str | None = Field(None, description="Set when this page was cut short to fit; says how to see the rest.")


class Activity(Open):
    """An activity record as the API returns it (its shape is undocumented; every field is kept)."""

    id: IdValue | None = Field(None, description="The activity's id, when the API returns one.")


class PlannedRequest(BaseModel):
    """An API request as it would be sent."""

    method: str = Field(description="HTTP method.")
    path: str = Field(description="Path under the API's base URL.")
    body: dict[str, Any] | None = Field(None, description="JSON body, if any.")


class DryRunnable(BaseModel):
    """What every write result can say about a dry run."""

    dry_run: bool | None = Field(None, description="True when nothing was sent; `request` is what would have been.")
    request: PlannedRequest | None = Field(None, description="With dry_run: the exact request the call would send.")
    verdict: str | None = Field(
        None,
        description="With dry_run: what a real call would meet (sent as is, a confirmation, or a refusal and why).",
    )


class WrittenSequence(Sequence, DryRunnable):
    """The sequence as stored after the write; with dry_run, only dry_run and request."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WrittenActivity(Activity, DryRunnable):
    """The activity as stored; with dry_run, only dry_run and request."""


class DeleteResult(DryRunnable):
    """What delete_sequence did."""

    deleted: bool = Field(description="True: the API accepted the delete. False only for a dry run.")
    id: str = Field(description="Id of the sequence.")
    name: str | None = Field(None, description="Name the sequence had, as shown to the person who confirmed.")
    snapshot: Sequence | None = Field(
        None, description="The sequence as it was just before the delete (also kept in the audit log)."
    )
    response: Any = Field(None, description="The API's own answer to the delete, unchanged.")


class RestoreResult(DryRunnable):
    """What restore_sequence did."""

    restored_from: str = Field(description="Id the sequence had before it was deleted.")
    in_place: bool = Field(
        description="True: the API still held the record, which was restored under its own id; "
        "False: it was re-created under a new id."
    )
    sequence: Sequence | None = Field(None, description="The restored sequence, with its id.")
