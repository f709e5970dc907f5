"""restore_sequence: bring back a deleted sequence from the audit log's copy of it."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from mcp_sequences import shaping
from mcp_sequences.audit import AuditEntry
from mcp_sequences.client import create_call
from mcp_sequences.models import RestoreResult
from mcp_sequences.toolkit import app_state, tool
from mcp_sequences.tools.guarded import ChangeArgs, planned, send

# The API assigns these on create; the rest of the snapshot is sent back as it was.
ASSIGNED_BY_API = ("id", "_id", "createdAt", "updatedAt")


class RestoreSequenceArgs(ChangeArgs):
    pass


@tool("Restore a deleted sequence")
async def restore_sequence(args: RestoreSequenceArgs, ctx: Context) -> RestoreResult:
    """Re-create a sequence deleted through this server, from the copy its audit log kept.

    Give the id the sequence had. Everything it had is sent back (name, steps, schedule, owner,
    contacts, tags...), marked not deleted; the API gives it a new id, returned in `sequence`.
    A sequence is restored once: a second call says where the first restore went.
    """
    deletion = _deletion(ctx, args.id)
    call = create_call(restorable(deletion.before or {}))
    if args.dry_run:
        return planned(call, RestoreResult, restored_from=args.id)
    raw = await send(ctx, "restore_sequence", call, args.id, outcome_note=lambda r: f"restored as {_new_id(r)}")
    return RestoreResult(restored_from=args.id, sequence=shaping.sequence(raw))


def _new_id(raw: Any) -> Any:
    return shaping.sequence(raw).id


def restorable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key not in ASSIGNED_BY_API} | {"deleted": "false"}


def _deletion(ctx: Context, sequence_id: str) -> AuditEntry:
    deleted, restored = app_state(ctx).audit.deletion_of(sequence_id)
    if deleted is None:
        raise ToolError(
            f"The audit log has no delete of sequence {sequence_id!r}: only sequences deleted through this "
            "server (with this --audit-log) can be restored."
        )
    if restored is not None:
        raise ToolError(f"Sequence {sequence_id!r} was already restored at {restored.time}: {restored.detail}.")
    return deleted
