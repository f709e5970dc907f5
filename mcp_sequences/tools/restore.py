"""restore_sequence: bring back a sequence deleted through this server, from the audit log's copy."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context

from mcp_sequences import shaping
from mcp_sequences.audit import AuditEntry
from mcp_sequences.client import create_call, replace_call
from mcp_sequences.errors import NotFoundError, OutcomeUnknownError, SequencesError
from mcp_sequences.guard import Refused
from mcp_sequences.models import RestoreResult, Sequence
from mcp_sequences.toolkit import app_state, tool
from mcp_sequences.tools.guarded import Attempt, ChangeArgs, planned

# The API assigns these; the rest of the copy is sent back as it was.
ASSIGNED_BY_API = ("id", "_id", "createdAt", "updatedAt")


class RestoreSequenceArgs(ChangeArgs):
    pass


@tool("Restore a deleted sequence")
async def restore_sequence(args: RestoreSequenceArgs, ctx: Context) -> RestoreResult:
    """Bring back a sequence deleted through this server, from the copy its audit log kept.

    Give the id the sequence had. Everything it had is written back (name, steps, schedule, owner,
    contacts, tags...), marked not deleted. If the API still holds the record (a delete by
    deleted: "true"), it is restored in place under its own id; otherwise it is re-created and the
    API gives it a new id, returned in `sequence`. A sequence is restored once: a second call
    says where the first restore went.
    """
    deleted = await _deletion(ctx, args.id)
    snapshot = restorable(deleted.before or {})
    in_place = await _still_there(ctx, args.id)
    call = replace_call(args.id, snapshot) if in_place else create_call(snapshot)
    if args.dry_run:
        return planned(call, RestoreResult, restored_from=args.id, in_place=in_place)
    audit = app_state(ctx).audit
    if not await audit.claim_restore(deleted):  # one restore per delete, across every replica
        raise await _refuse(ctx, args.id, f"sequence {args.id!r} is being restored by another call right now")
    try:
        raw = await Attempt(ctx, "restore_sequence", call, args.id).send(new_id=not in_place)
    except OutcomeUnknownError:
        raise  # it may have happened: the claim stays, so it is not done twice
    except (SequencesError, Refused):
        await audit.release_restore(deleted)  # it did not happen: the delete can still be undone
        raise
    restored = shaping.sequence(raw, fallback_id=args.id if in_place else None)
    return RestoreResult(restored_from=args.id, sequence=restored, in_place=in_place)


def restorable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key not in ASSIGNED_BY_API} | {"deleted": "false"}


async def _deletion(ctx: Context, sequence_id: str) -> AuditEntry:
    """The delete to undo; a restore that cannot be done is refused, and audited as such."""
    deleted, restored = await app_state(ctx).audit.deletion_of(sequence_id)
    if deleted is None:
        reason = (
            f"the audit log has no delete of sequence {sequence_id!r}: only sequences deleted through this "
            "server (with this --state-url) can be restored"
        )
    elif restored is not None:
        reason = f"sequence {sequence_id!r} was already restored at {restored.time} ({restored.detail or 'in place'})"
    else:
        return deleted
    raise await _refuse(ctx, sequence_id, reason)


async def _refuse(ctx: Context, sequence_id: str, reason: str) -> Refused:
    return await Attempt(ctx, "restore_sequence", create_call({}), sequence_id).refuse(Refused(reason), "restored")


async def _still_there(ctx: Context, sequence_id: str) -> bool:
    try:
        record: Sequence = shaping.sequence(await app_state(ctx).api.get(sequence_id))
    except NotFoundError:
        return False
    return record.id is not None
