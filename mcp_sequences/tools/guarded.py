"""The one path every write takes: dry run, guardrails, the person's yes, audit, then the API.

Writes that change an existing sequence (update, patch, delete) first read it: the guardrails
judge the change against it, the person is shown it, and the audit log keeps it. The question to
the person is asked by a resolver (`Resolve`/`Elicit`), which works in both protocol eras; the
decision is taken again in the tool body from the answer, so an answer can only ever refuse
what the rules would otherwise allow, never allow what they refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, ClassVar, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context
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
from mcp_sequences.audit import AuditEntry, Outcome
from mcp_sequences.client import Call
from mcp_sequences.errors import SequencesError
from mcp_sequences.guard import Assessment, Kind, Refused, assess, confirmation_message, describe, typed_correctly
from mcp_sequences.models import DryRunnable, PlannedRequest, Sequence
from mcp_sequences.toolkit import ToolArgs, app_state
from mcp_sequences.tools.reads import SequenceRef

Result = TypeVar("Result", bound=DryRunnable)


class WriteArgs(ToolArgs):
    """Arguments every write tool shares."""

    dry_run: bool = Field(False, description="True: return the exact request this call would send, and send nothing.")


class ChangeArgs(SequenceRef, WriteArgs):
    """A write to an existing sequence; KIND tells the guardrails what it does."""

    KIND: ClassVar[Kind] = "patch"


def body(args: ToolArgs) -> dict[str, Any]:
    """The JSON body: exactly the fields the caller gave, never defaults it did not choose."""
    return args.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"id", "dry_run"})


def planned(call: Call, result: type[Result], **fields: Any) -> Result:
    """A dry run's answer: the request, unsent."""
    return result(dry_run=True, request=PlannedRequest(method=call.method, path=call.path, body=call.body), **fields)


class TypeTheName(BaseModel):
    """The form the person fills in to confirm."""

    name: str = Field(description="Type the sequence's name to confirm; anything else cancels.")


class NoQuestion(BaseModel):
    """Nobody is asked: a dry run, nothing that needs a yes, or a refusal the tool will report."""


class CannotAsk(BaseModel):
    """The person cannot be asked on this connection; `why` says so and what would fix it."""

    why: str


NO_ELICITATION = (
    "this client does not support MCP elicitation (the confirmation prompts servers show to the person), "
    "so the person cannot be asked to confirm"
)
NO_BACK_CHANNEL = (
    "this connection cannot carry a confirmation prompt: the server runs stateless HTTP (--stateless) and "
    "the client speaks a protocol older than 2026-07-28. Run the server without --stateless, or use a "
    "client that speaks 2026-07-28"
)


async def fetch_before(args: ChangeArgs, ctx: Context) -> Sequence | None:
    """The record as it is now (None for a dry run, which judges and asks nothing)."""
    if args.dry_run:
        return None
    return shaping.sequence(await app_state(ctx).api.get(args.id))


async def ask_person(
    args: ChangeArgs, before: Annotated[Sequence | None, Resolve(fetch_before)], ctx: Context
) -> Elicit[TypeTheName] | NoQuestion | CannotAsk:
    """Ask only when the rules allow the write and want a yes for it."""
    if before is None:
        return NoQuestion()
    try:
        assessment = judge(args.KIND, before, body(args), ctx)
    except Refused:
        return NoQuestion()
    if not assessment.needs_yes:
        return NoQuestion()
    why = why_not_ask(ctx)
    if why:
        return CannotAsk(why=why)
    return Elicit(confirmation_message(args.KIND, before, assessment), TypeTheName)


Before = Annotated[Sequence | None, Resolve(fetch_before)]
Answer = Annotated[ElicitationResult[TypeTheName], Resolve(ask_person)]


def judge(kind: Kind, before: Sequence, change: dict[str, Any], ctx: Context) -> Assessment:
    state = app_state(ctx)
    assessment = assess(kind, before, change, state.settings)
    if assessment.deletes:
        state.budget.check()
    return assessment


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


def require_yes(answer: ElicitationResult[Any], before: Sequence) -> None:
    """Only the sequence's name, typed by the person, is a yes."""
    if isinstance(answer, DeclinedElicitation):
        raise Refused(f"the person declined to change {describe(before)}; do not ask again unless they request it")
    if isinstance(answer, CancelledElicitation):
        raise Refused(f"the person dismissed the confirmation for {describe(before)}")
    assert isinstance(answer, AcceptedElicitation)
    data = answer.data
    if isinstance(data, CannotAsk):
        raise Refused(f"{data.why}. An administrator can also set --delete-policy allow for unattended use")
    if not isinstance(data, TypeTheName):
        raise Refused(f"the person was not asked to confirm the change to {describe(before)}; call again")
    if not typed_correctly(data.name, before):
        raise Refused(f"the name typed does not match {describe(before)}")


async def change(ctx: Context, tool: str, args: ChangeArgs, call: Call, before: Sequence, answer: Any) -> Any:
    """Judge, confirm, spend the delete budget, then send: a refusal at any step is audited."""
    state = app_state(ctx)
    try:
        assessment = judge(args.KIND, before, call.body or {}, ctx)
        if assessment.needs_yes:
            require_yes(answer, before)
        if assessment.deletes:
            state.budget.spend()
    except Refused as refusal:
        audit(ctx, tool, call, args.id, "refused", detail=str(refusal), before=before)
        verb = "deleted" if args.KIND == "delete" else "changed"
        raise Refused(f"Nothing was {verb}: {refusal}.") from refusal
    return await send(ctx, tool, call, args.id, before=before, deletes=assessment.deletes)


async def send(
    ctx: Context,
    tool: str,
    call: Call,
    sequence_id: str | None,
    *,
    before: Sequence | None = None,
    deletes: bool = False,
    outcome_note: Callable[[Any], str] | None = None,
) -> Any:
    """Send a write and audit what became of it (`outcome_note` describes a success, e.g. a new id)."""
    entry = partial(audit, ctx, tool, call, sequence_id, before=before, deletes=deletes)
    try:
        raw = await app_state(ctx).api.send(call)
    except SequencesError as exc:
        entry("failed", detail=str(exc))
        raise
    entry("ok", detail=outcome_note(raw) if outcome_note else None)
    return raw


def audit(
    ctx: Context,
    tool: str,
    call: Call,
    sequence_id: str | None,
    outcome: Outcome,
    *,
    before: Sequence | None,
    deletes: bool = False,
    detail: str | None = None,
) -> None:
    token = get_access_token()
    app_state(ctx).audit.record(
        AuditEntry(
            tool=tool,
            sequence_id=sequence_id,
            caller=token.client_id if token else None,
            method=call.method,
            path=call.path,
            body=call.body,
            outcome=outcome,
            detail=detail,
            before=before.model_dump(mode="json", exclude_unset=True) if before else None,
            deletes=deletes,
        )
    )
