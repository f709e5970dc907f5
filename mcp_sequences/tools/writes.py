"""Write tools that create or change sequences and record activity (delete.py deletes).

Each goes through guarded.py: `dry_run` shows the request instead of sending it, every write is
audited, and an update or patch that deletes (deleted: "true") or clears fields needs the
person's yes like delete_sequence does.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from mcp.server.mcpserver import Context
from pydantic import Field, field_validator, model_validator

from mcp_sequences import shaping
from mcp_sequences.client import activity_call, create_call, patch_call, replace_call
from mcp_sequences.guard import Kind
from mcp_sequences.models import SequenceFields, WrittenActivity, WrittenSequence
from mcp_sequences.toolkit import tool
from mcp_sequences.tools.guarded import Answer, Attempt, Before, ChangeArgs, WriteArgs, body, change, planned, verdict

NAME_DOC = "Name of the sequence, shown in the CRM (required)."
MAX_ACTIVITY_BYTES = 64 * 1024


class CreateSequenceArgs(WriteArgs, SequenceFields):
    name: str = Field(min_length=1, max_length=200, description=NAME_DOC)


class UpdateSequenceArgs(ChangeArgs, SequenceFields):
    KIND: ClassVar[Kind] = "replace"
    name: str = Field(min_length=1, max_length=200, description=NAME_DOC)


class PatchSequenceArgs(ChangeArgs, SequenceFields):
    @model_validator(mode="after")
    def _some_change(self) -> PatchSequenceArgs:
        if not body(self):
            raise ValueError("give at least one field to change besides id")
        return self


class CreateActivityArgs(WriteArgs):
    activity: dict[str, Any] = Field(
        min_length=1,
        description="The activity as a JSON object, sent unchanged. The API documents no fields; usually "
        "sequenceId (the sequence it concerns), type (e.g. email_sent, reply, call, note, task), "
        "contactId or email, and a note or description. At most 64 KB as JSON.",
    )

    @field_validator("activity")
    @classmethod
    def _not_too_large(cls, activity: dict[str, Any]) -> dict[str, Any]:
        """Each activity is kept in the audit log: a 3 MB note forty times filled a disk in seconds."""
        size = len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode())
        if size > MAX_ACTIVITY_BYTES:
            raise ValueError(f"the activity is {size} bytes as JSON; at most {MAX_ACTIVITY_BYTES} (64 KB) are accepted")
        return activity


@tool("Create a sequence")
async def create_sequence(args: CreateSequenceArgs, ctx: Context) -> WrittenSequence:
    """Create a new sequence (outreach cadence) with its steps, schedule, owner, sender and contacts.

    Only name is required; give steps in order with delayDays between them. Each call creates
    another sequence, so do not retry a call that succeeded. Returns the created sequence with its id.
    """
    call = create_call(body(args))
    if args.dry_run:
        return planned(call, WrittenSequence)
    raw = await Attempt(ctx, "create_sequence", call, None).send(new_id=True)
    return shaping.sequence(raw, model=WrittenSequence)


@tool("Replace a sequence", destructive=True, idempotent=True)
async def update_sequence(args: UpdateSequenceArgs, ctx: Context, before: Before, answer: Answer) -> WrittenSequence:
    """Replace a sequence entirely (HTTP PUT): the record becomes exactly the fields given here.

    Any field you leave out (steps, contacts, schedule...) is cleared; when that would clear data
    the sequence has now, the person is asked to confirm by typing its name. To change a few fields
    and keep the rest, use patch_sequence instead. Returns the sequence as stored.
    """
    call = replace_call(args.id, body(args))
    if args.dry_run:
        return planned(call, WrittenSequence, await verdict(args.KIND, before, body(args), ctx))
    raw = await change(ctx, "update_sequence", args, call, before, answer)
    return shaping.sequence(raw, fallback_id=args.id, model=WrittenSequence)


@tool("Change some fields of a sequence", idempotent=True)
async def patch_sequence(args: PatchSequenceArgs, ctx: Context, before: Before, answer: Answer) -> WrittenSequence:
    """Change only the fields given (HTTP PATCH); every other field keeps its value.

    The usual way to edit: rename, pause (status), retag, or adjust steps. A list field such as
    steps or tags is replaced as a whole by the list you give. Setting deleted to "true" is a
    delete and needs the person's confirmation. Returns the sequence as stored.
    """
    call = patch_call(args.id, body(args))
    if args.dry_run:
        return planned(call, WrittenSequence, await verdict(args.KIND, before, body(args), ctx))
    raw = await change(ctx, "patch_sequence", args, call, before, answer)
    return shaping.sequence(raw, fallback_id=args.id, model=WrittenSequence)


@tool("Record sequence activity")
async def create_sequence_activity(args: CreateActivityArgs, ctx: Context) -> WrittenActivity:
    """Record an activity for a sequence (e.g. an email sent, a reply, a call, a note).

    Each call records another activity, so do not retry a call that succeeded. Returns the
    activity as the API stored it.
    """
    call = activity_call(args.activity)
    if args.dry_run:
        return planned(call, WrittenActivity)
    sequence_id = args.activity.get("sequenceId")
    attempt = Attempt(ctx, "create_sequence_activity", call, sequence_id if isinstance(sequence_id, str) else None)
    raw = await attempt.send()
    return shaping.activity(raw, model=WrittenActivity)
