"""restore_sequence: bring back a sequence deleted through this server, from the audit log's copy.

Where the API still holds the record and it is still deleted, the copy is written back in place
through the same path as update_sequence (protection, policy, the person's yes if it would clear
data); a record that is live again is never overwritten. A record the API no longer has is
re-created, under a new id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mcp.server.mcpserver import Context

from mcp_sequences import shaping
from mcp_sequences.audit import AuditEntry
from mcp_sequences.client import Call, create_call, replace_call
from mcp_sequences.guard import Kind, Refused, describe
from mcp_sequences.models import RestoreResult
from mcp_sequences.records import Record, View
from mcp_sequences.toolkit import app_state, tool
from mcp_sequences.tools.guarded import Answer, Attempt, Before, ChangeArgs, change, planned, verdict

# The API assigns these; the rest of the copy is sent back as it was.
ASSIGNED_BY_API = ("id", "_id", "createdAt", "updatedAt")


class RestoreSequenceArgs(ChangeArgs):
    KIND: ClassVar[Kind] = "replace"
    MAY_BE_GONE: ClassVar[bool] = True

    def change_body(self, before: Record, ctx: Context) -> dict[str, Any] | None:
        """Only an in-place restore changes an existing record; the person may have to confirm it."""
        deleted, restored = app_state(ctx).audit.deletion_of(self.id)
        if not before or not View.of(before).deleted or deleted is None or restored is not None:
            return None
        return restorable(deleted.before or {})


@tool("Restore a deleted sequence")
async def restore_sequence(args: RestoreSequenceArgs, ctx: Context, before: Before, answer: Answer) -> RestoreResult:
    """Bring back a sequence this server deleted (list_sequences restorable=true), once; it may get a new id."""
    async with app_state(ctx).restore_lock:  # check-then-write must not interleave within this process
        snapshot = restorable(_deletion(ctx, args.id).before or {})
        in_place = bool(before)
        if in_place and not View.of(before).deleted:
            raise _refuse(ctx, args.id, f"{describe(before)} is no longer deleted; restoring would overwrite it")
        call = replace_call(args.id, snapshot) if in_place else create_call(snapshot)
        if args.dry_run:
            judged = verdict(args.KIND, before, snapshot, ctx) if in_place else "a real call would be sent as is"
            return planned(call, RestoreResult, judged, restored_from=args.id, in_place=in_place)
        raw = await _send(ctx, args, call, before, answer)
    restored = shaping.shown(shaping.record(raw, args.id if in_place else None))
    return RestoreResult(restored_from=args.id, in_place=in_place, sequence=restored)


async def _send(ctx: Context, args: RestoreSequenceArgs, call: Call, before: Record, answer: Any) -> Any:
    if before:
        return await change(ctx, "restore_sequence", args, call, before, answer)
    return await Attempt(ctx, "restore_sequence", call, args.id).send(new_id=True)


def restorable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key not in ASSIGNED_BY_API} | {"deleted": "false"}


def _deletion(ctx: Context, sequence_id: str) -> AuditEntry:
    """The delete to undo; a restore that cannot be done is refused, and audited as such."""
    deleted, restored = app_state(ctx).audit.deletion_of(sequence_id)
    if deleted is None:
        reason = (
            f"the audit log has no delete of sequence {sequence_id!r}: only sequences deleted through this "
            "server (with this --audit-log) can be restored; list_sequences restorable=true lists them"
        )
    elif restored is not None:
        reason = f"sequence {sequence_id!r} was already restored at {restored.time} ({restored.detail or 'in place'})"
    else:
        return deleted
    raise _refuse(ctx, sequence_id, reason)


def _refuse(ctx: Context, sequence_id: str, reason: str) -> Refused:
    return Attempt(ctx, "restore_sequence", create_call({}), sequence_id).refuse(Refused(reason), "restored")
