"""delete_sequence and its guard: nothing is deleted unless the person at the client says yes.

The confirmation is asked of the person through MCP elicitation (`Resolve`/`Elicit`, which works
on both protocol eras). No tool argument can stand in for it: the arguments hold only the id.
A client that cannot ask (no elicitation capability, or stateless HTTP with an older client)
gets a refusal that says why, and nothing is sent.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import (
    AcceptedElicitation,
    CancelledElicitation,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
)
from pydantic import BaseModel, Field

from mcp_sequences import shaping
from mcp_sequences.models import DeleteResult, Sequence
from mcp_sequences.toolkit import app_state, tool
from mcp_sequences.tools.reads import SequenceRef


class DeleteConfirmation(BaseModel):
    """The form the person sees."""

    confirm: bool = Field(description="Yes, delete this sequence.")


class CannotAsk(BaseModel):
    """Stands in for an answer when the person cannot be asked; says why, so it can be fixed."""

    why: str


NO_ELICITATION = (
    "this client does not support MCP elicitation (the confirmation prompts servers show to the person), "
    "so the person cannot be asked"
)
NO_BACK_CHANNEL = (
    "this connection cannot carry a confirmation prompt: the server runs stateless HTTP (--stateless) and "
    "the client speaks a protocol older than 2026-07-28. Run the server without --stateless, or use a "
    "client that speaks 2026-07-28"
)


async def fetch_target(args: SequenceRef, ctx: Context) -> Sequence:
    """The sequence as it is now: shown to the person, and kept in the result."""
    return shaping.sequence(await app_state(ctx).api.get(args.id))


async def ask_person(
    target: Annotated[Sequence, Resolve(fetch_target)], ctx: Context
) -> Elicit[DeleteConfirmation] | CannotAsk:
    why = why_not_ask(ctx)
    return CannotAsk(why=why) if why else Elicit(confirmation_message(target), DeleteConfirmation)


def why_not_ask(ctx: Context) -> str | None:
    """Why the person cannot be asked on this connection, or None when they can.

    No capabilities at all means a stateless HTTP request from a client of the handshake era,
    which declared them once in an `initialize` this server instance never saw.
    """
    capabilities = ctx.client_capabilities
    if capabilities is None:
        return NO_BACK_CHANNEL
    elicitation = capabilities.elicitation
    # A bare `elicitation: {}` (from before elicitation modes) means form support.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return NO_ELICITATION
    return None


def confirmation_message(target: Sequence) -> str:
    facts = [f"id {target.id}", f"status {target.status or 'unknown'}"]
    facts += [
        f"{len(items)} {label}"
        for items, label in ((target.steps, "steps"), (target.contacts, "contacts"))
        if items is not None
    ]
    return f"Delete the sequence {target.name or '(unnamed)'!r} ({', '.join(facts)}) from the CRM?"


def refusal(answer: ElicitationResult[DeleteConfirmation], name: str) -> str | None:
    """Why nothing may be deleted, or None for an explicit yes."""
    if isinstance(answer, AcceptedElicitation):
        if isinstance(answer.data, CannotAsk):
            return f"{answer.data.why}. Otherwise, the person can delete {name} in the CRM itself"
        return None if answer.data.confirm else f"the person did not confirm deleting {name}"
    if isinstance(answer, DeclinedElicitation):
        return f"the person declined to delete {name}; do not ask again unless they request it"
    assert isinstance(answer, CancelledElicitation)
    return f"the person dismissed the confirmation for {name}"


@tool("Delete a sequence", destructive=True, idempotent=True)
async def delete_sequence(
    args: SequenceRef,
    ctx: Context,
    target: Annotated[Sequence, Resolve(fetch_target)],
    answer: Annotated[ElicitationResult[DeleteConfirmation], Resolve(ask_person)],
) -> DeleteResult:
    """Delete a sequence, after the person at the client confirms it in a prompt shown to them.

    The person sees the sequence's name, status and size and must say yes; nothing you pass can
    confirm for them. If they decline, or the client cannot show the prompt, nothing is deleted
    and the error says why. To stop a sequence without deleting it, patch its status to paused.
    Returns the deleted sequence's last state in `snapshot`.
    """
    name = f"sequence {target.name or args.id!r} (id {args.id})"
    reason = refusal(answer, name)
    if reason is not None:
        raise ToolError(f"Nothing was deleted: {reason}.")
    response = await app_state(ctx).api.delete(args.id)
    return DeleteResult(deleted=True, id=args.id, name=target.name, snapshot=target, response=response)
