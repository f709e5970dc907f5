"""Write tools that create or change sequences and activity. Deleting lives in delete.py."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from pydantic import Field, model_validator

from mcp_sequences import shaping
from mcp_sequences.models import Activity, Sequence, SequenceFields
from mcp_sequences.toolkit import ToolArgs, app_state, tool
from mcp_sequences.tools.reads import SequenceRef

NAME_DOC = "Name of the sequence, shown in the CRM (required)."


def body(args: ToolArgs) -> dict[str, Any]:
    """The JSON body: exactly the fields the caller gave, never defaults it did not choose."""
    return args.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"id"})


class CreateSequenceArgs(ToolArgs, SequenceFields):
    name: str = Field(min_length=1, max_length=200, description=NAME_DOC)


class UpdateSequenceArgs(SequenceRef, SequenceFields):
    name: str = Field(min_length=1, max_length=200, description=NAME_DOC)


class PatchSequenceArgs(SequenceRef, SequenceFields):
    @model_validator(mode="after")
    def _some_change(self) -> PatchSequenceArgs:
        if not body(self):
            raise ValueError("give at least one field to change besides id")
        return self


class CreateActivityArgs(ToolArgs):
    activity: dict[str, Any] = Field(
        min_length=1,
        description="The activity as a JSON object, sent unchanged. The API documents no fields; usually "
        "sequenceId (the sequence it concerns), type (e.g. email_sent, reply, call, note, task), "
        "contactId or email, and a note or description.",
    )


@tool("Create a sequence")
async def create_sequence(args: CreateSequenceArgs, ctx: Context) -> Sequence:
    """Create a new sequence (outreach cadence) with its steps, schedule, owner, sender and contacts.

    Only name is required; give steps in order with delayDays between them. Each call creates
    another sequence, so do not retry a call that succeeded. Returns the created sequence with its id.
    """
    return shaping.sequence(await app_state(ctx).api.create(body(args)))


@tool("Replace a sequence", destructive=True, idempotent=True)
async def update_sequence(args: UpdateSequenceArgs, ctx: Context) -> Sequence:
    """Replace a sequence entirely (HTTP PUT): the record becomes exactly the fields given here.

    Any field you leave out (steps, contacts, schedule...) is cleared. To change a few fields and keep
    the rest, use patch_sequence instead; use this only to rewrite a whole sequence, after reading it
    with get_sequence. Returns the sequence as stored.
    """
    return shaping.sequence(await app_state(ctx).api.replace(args.id, body(args)), fallback_id=args.id)


@tool("Change some fields of a sequence", idempotent=True)
async def patch_sequence(args: PatchSequenceArgs, ctx: Context) -> Sequence:
    """Change only the fields given (HTTP PATCH); every other field keeps its value.

    The usual way to edit: rename, pause (status), retag, or adjust steps. A list field such as
    steps or tags is replaced as a whole by the list you give. Returns the sequence as stored.
    """
    return shaping.sequence(await app_state(ctx).api.patch(args.id, body(args)), fallback_id=args.id)


@tool("Record sequence activity")
async def create_sequence_activity(args: CreateActivityArgs, ctx: Context) -> Activity:
    """Record an activity for a sequence (e.g. an email sent, a reply, a call, a note).

    Each call records another activity, so do not retry a call that succeeded. Returns the
    activity as the API stored it.
    """
    return shaping.activity(await app_state(ctx).api.create_activity(args.activity))
