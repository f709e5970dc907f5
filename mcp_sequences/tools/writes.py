"""Write tools that create or change sequences and record activity (delete.py deletes).

Each goes through guarded.py: `dry_run` shows the request instead of sending it, every write is
audited, and an update or patch that deletes (deleted: "true") or clears fields needs the
person's yes like delete_sequence does. Before any of that, what only context can show is
checked: a misspelled key in a sub-object (keys.py), an end date before the start.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from mcp.server.mcpserver import Context
from pydantic import AfterValidator, Field, model_validator

from mcp_sequences import shaping
from mcp_sequences.client import Call, activity_call, create_call, patch_call, replace_call
from mcp_sequences.guard import Kind
from mcp_sequences.models import Name, SequenceFields, WrittenActivity, WrittenSequence, check_dates
from mcp_sequences.records import Record
from mcp_sequences.toolkit import app_state, tool
from mcp_sequences.tools.guarded import Answer, Attempt, Before, ChangeArgs, WriteArgs, body, change, planned, verdict

# Activity has no documented fields; a note is text, not an attachment store.
MAX_ACTIVITY_CHARS = 64_000


class SequenceChange(ChangeArgs, SequenceFields):
    """update and patch: the fields are described once, on create_sequence."""

    UNDESCRIBED: ClassVar[frozenset[str]] = frozenset(SequenceFields.model_fields)

    def check(self, before: Record, ctx: Context) -> None:
        check_fields(body(self), ctx, before if self.KIND == "patch" else None)


def check_fields(fields: dict[str, Any], ctx: Context, before: Record | None = None) -> None:
    """What only context shows is wrong: a key neither ours nor the API's, an end before the start
    (the start taken from `before` when the write leaves it out)."""
    app_state(ctx).keys.check(fields)
    check_dates(fields, before)


class CreateSequenceArgs(WriteArgs, SequenceFields):
    name: Name


class UpdateSequenceArgs(SequenceChange):
    KIND: ClassVar[Kind] = "replace"
    name: Name


class PatchSequenceArgs(SequenceChange):
    @model_validator(mode="after")
    def _some_change(self) -> PatchSequenceArgs:
        if not body(self):
            raise ValueError("give at least one field to change besides id")
        return self


def _activity(activity: dict[str, Any]) -> dict[str, Any]:
    if not activity:
        raise ValueError("must have at least one field, e.g. sequenceId and type")
    if len(json.dumps(activity, ensure_ascii=False)) > MAX_ACTIVITY_CHARS:
        raise ValueError(f"is larger than {MAX_ACTIVITY_CHARS:,} characters; record a summary instead")
    return activity


class CreateActivityArgs(WriteArgs):
    activity: Annotated[dict[str, Any], AfterValidator(_activity)] = Field(
        description="Sent as given, e.g. {sequenceId, type, contactId, note}."
    )


@tool("Create a sequence")
async def create_sequence(args: CreateSequenceArgs, ctx: Context) -> WrittenSequence:
    """Create a sequence (outreach cadence). Each call creates one: do not retry a success."""
    check_fields(body(args), ctx)
    call = create_call(body(args))
    if args.dry_run:
        return planned(call, WrittenSequence)
    raw = await Attempt(ctx, "create_sequence", call, None).send(new_id=True)
    return WrittenSequence(sequence=shaping.shown(shaping.record(raw)))


@tool("Replace a sequence", destructive=True, idempotent=True)
async def update_sequence(args: UpdateSequenceArgs, ctx: Context, before: Before, answer: Answer) -> WrittenSequence:
    """Replace a sequence (PUT; fields as in create_sequence): omitted fields are cleared."""
    return await _write("update_sequence", args, ctx, (before, answer), replace_call(args.id, body(args)))


@tool("Change some fields of a sequence", idempotent=True)
async def patch_sequence(args: PatchSequenceArgs, ctx: Context, before: Before, answer: Answer) -> WrittenSequence:
    """Change only the fields given (PATCH), as in create_sequence; lists are replaced whole."""
    return await _write("patch_sequence", args, ctx, (before, answer), patch_call(args.id, body(args)))


async def _write(
    tool: str, args: SequenceChange, ctx: Context, resolved: tuple[Record, Any], call: Call
) -> WrittenSequence:
    before, answer = resolved
    args.check(before, ctx)
    if args.dry_run:
        return planned(call, WrittenSequence, await verdict(args.KIND, before, body(args), ctx))
    raw = await change(ctx, tool, args, call, before, answer)
    return WrittenSequence(sequence=shaping.shown(shaping.record(raw, args.id)))


@tool("Record sequence activity")
async def create_sequence_activity(args: CreateActivityArgs, ctx: Context) -> WrittenActivity:
    """Record an activity (email sent, reply, call, note). Do not retry a success."""
    call = activity_call(args.activity)
    if args.dry_run:
        return planned(call, WrittenActivity)
    sequence_id = args.activity.get("sequenceId")
    attempt = Attempt(ctx, "create_sequence_activity", call, sequence_id if isinstance(sequence_id, str) else None)
    raw = await attempt.send()
    return WrittenActivity(activity=shaping.shown(shaping.record(raw)))
