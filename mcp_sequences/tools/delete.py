"""delete_sequence: deletes only what a person meant to, and keeps what it deleted.

The person confirms by typing the sequence's name (guarded.py); the record as it was goes to
the audit log first, so restore_sequence can bring it back.
"""

from __future__ import annotations

from typing import ClassVar

from mcp.server.mcpserver import Context

from mcp_sequences.client import delete_call
from mcp_sequences.guard import Kind, shown_name
from mcp_sequences.models import DeleteResult
from mcp_sequences.toolkit import tool
from mcp_sequences.tools.guarded import Answer, Before, ChangeArgs, change, planned, verdict


class DeleteSequenceArgs(ChangeArgs):
    KIND: ClassVar[Kind] = "delete"


@tool("Delete a sequence", destructive=True, idempotent=True, deletes=True)
async def delete_sequence(args: DeleteSequenceArgs, ctx: Context, before: Before, answer: Answer) -> DeleteResult:
    """Delete a sequence after the person types its name to confirm. Pausing (patch status) is gentler."""
    call = delete_call(args.id)
    if args.dry_run:
        return planned(call, DeleteResult, verdict(args.KIND, before, {}, ctx), deleted=False, id=args.id)
    await change(ctx, "delete_sequence", args, call, before, answer)
    name = shown_name(before)
    return DeleteResult(deleted=True, id=args.id, **({"name": name} if name else {}))
