"""The one path every write takes: guardrails, the person's yes, the audit log, then the API.

Writes that change an existing sequence (update, patch, delete) first read it: the guardrails
judge the change against it, the person is shown it, and the audit log keeps it. The question to
the person is asked by a resolver (`Resolve`/`Elicit`), which works in both protocol eras; the
decision is taken again in the tool body from the answer, so an answer can only ever refuse
what the rules would otherwise allow, never allow what they refuse.

A dry run takes the same path up to the question: it reads, judges and reports what a real call
would meet (`verdict`), and neither asks nor sends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

import anyio
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
from mcp_sequences.audit import AuditEntry, AuditError, Outcome
from mcp_sequences.client import Call
from mcp_sequences.confirmations import spend_confirmation
from mcp_sequences.errors import NotFoundError, OutcomeUnknownError, SequencesError
from mcp_sequences.guard import (
    Assessment,
    Kind,
    Refused,
    assess,
    confirmation_message,
    describe,
    is_delete,
    typed_correctly,
)
from mcp_sequences.http.callers import caller_name, current_delete_policy
from mcp_sequences.models import ArgumentError, DryRun, DryRunnable, PlannedRequest
from mcp_sequences.records import Record, record_id
from mcp_sequences.toolkit import ToolArgs, app_state
from mcp_sequences.tools.reads import SequenceRef

Result = TypeVar("Result", bound=DryRunnable)
logger = logging.getLogger(__name__)
CANCELLED_IN_FLIGHT = "cancelled by the client while in flight: it may or may not have been done"
SENT_AS_IS = "a real call would be sent as is"


class WriteArgs(ToolArgs):
    """Arguments every write tool shares."""

    # Described once, in the server's instructions: every write takes it.
    dry_run: bool = False


class ChangeArgs(SequenceRef, WriteArgs):
    """A write to an existing sequence; KIND tells the guardrails what it does."""

    KIND: ClassVar[Kind] = "patch"
    MAY_BE_GONE: ClassVar[bool] = False  # a 404 reads as no record ({}) rather than an error

    def check(self, before: Record, ctx: Context) -> None:
        """Refuse (ArgumentError) what only the current record shows is wrong; before anyone is asked."""

    async def change_body(self, before: Record, ctx: Context) -> dict[str, Any] | None:
        """The body the guardrails judge; None when this call changes no existing record."""
        return body(self)


def body(args: ToolArgs) -> dict[str, Any]:
    """The JSON body: exactly the fields the caller gave, never defaults it did not choose."""
    return args.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"id", "dry_run"})


def planned(call: Call, result: type[Result], verdict: str = SENT_AS_IS, **fields: Any) -> Result:
    """A dry run's answer: the request, unsent, and what a real call would meet."""
    request = PlannedRequest(method=call.method, path=call.path, **({"body": call.body} if call.body else {}))
    return result(dry_run=DryRun(request=request, verdict=verdict), **fields)


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


async def fetch_before(args: ChangeArgs, ctx: Context) -> Record:
    """The record as it is now: judged, shown to the person, and kept in the audit log."""
    state = app_state(ctx)
    try:
        before = shaping.record(await state.api.get(args.id), args.id)
    except NotFoundError:
        if not args.MAY_BE_GONE:
            raise
        return {}
    state.keys.learn([before])
    return before


async def ask_person(
    args: ChangeArgs, before: Annotated[Record, Resolve(fetch_before)], ctx: Context
) -> Elicit[TypeTheName] | NoQuestion | CannotAsk:
    """Ask only when the arguments and the rules allow the write and want a yes for it."""
    if args.dry_run:
        return NoQuestion()
    try:
        args.check(before, ctx)
        proposed = await args.change_body(before, ctx)
        assessment = await judge(args.KIND, before, proposed, ctx) if proposed is not None else None
    except (Refused, ArgumentError):
        return NoQuestion()
    if assessment is None:
        return NoQuestion()
    if not assessment.needs_yes:
        return NoQuestion()
    why = why_not_ask(ctx)
    if why:
        return CannotAsk(why=why)
    if not ctx.input_responses:  # not the 2026-07-28 retry that brings the answer to this same question
        app_state(ctx).metrics.confirmation("asked")
    earlier = await earlier_name(assessment, args.id, ctx)
    return Elicit(confirmation_message(args.KIND, before, assessment, earlier), TypeTheName)


async def earlier_name(assessment: Assessment, sequence_id: str, ctx: Context) -> str | None:
    """For a delete: the name before renames made through this server in the last day, if any."""
    return await app_state(ctx).audit.name_before_renames(sequence_id) if assessment.deletes else None


Before = Annotated[Record, Resolve(fetch_before)]
Answer = Annotated[ElicitationResult[TypeTheName], Resolve(ask_person)]


async def judge(kind: Kind, before: Record, change: dict[str, Any], ctx: Context) -> Assessment:
    state = app_state(ctx)
    assessment = assess(kind, before, change, state.settings, current_delete_policy(state.settings))
    if assessment.deletes:
        await state.budget.check()
    return assessment


async def verdict(kind: Kind, before: Record, change: dict[str, Any], ctx: Context) -> str:
    """What a real call would meet, in words, for a dry run."""
    try:
        assessment = await judge(kind, before, change, ctx)
    except Refused as refusal:
        return f"a real call would be refused: {refusal}"
    if not assessment.needs_yes:
        return SENT_AS_IS
    what = "it deletes the sequence" if assessment.deletes else f"it clears {', '.join(assessment.clears)}"
    return f"a real call would ask the person to type the sequence's name ({what})"


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


def require_yes(
    answer: ElicitationResult[Any], before: Record, assessment: Assessment, earlier: str | None = None
) -> None:
    """Only the sequence's name, typed by the person, is a yes."""
    verb = "delete" if assessment.deletes else "change"
    if isinstance(answer, DeclinedElicitation):
        raise Refused(f"the person declined to {verb} {describe(before)}; do not ask again unless they request it")
    if isinstance(answer, CancelledElicitation):
        raise Refused(f"the person dismissed the confirmation for {describe(before)}")
    assert isinstance(answer, AcceptedElicitation)
    data = answer.data
    if isinstance(data, CannotAsk):
        raise Refused(f"{data.why}. {_without_asking(assessment)}")
    if not isinstance(data, TypeTheName):
        raise Refused(f"the person was not asked to confirm the change to {describe(before)}; call again")
    if not typed_correctly(data.name, before, earlier):
        raise Refused(f"the name typed does not match {describe(before)}")


def _without_asking(assessment: Assessment) -> str:
    """What would work instead; unattended deletes are an administrator's call, never advice for an edit."""
    if assessment.deletes:
        return "An administrator can set --delete-policy allow for unattended deletes"
    return (
        f"This would clear {', '.join(assessment.clears)}, which the sequence has data in. To keep them, use "
        "patch_sequence with only the fields to change, or pass their current values (get_sequence shows them)"
    )


def confirm(
    ctx: Context, answer: ElicitationResult[Any], before: Record, assessment: Assessment, earlier: str | None
) -> None:
    """`require_yes`, counted: the answer of a person who was asked is confirmed or refused."""
    asked = not isinstance(getattr(answer, "data", None), CannotAsk | NoQuestion)
    try:
        require_yes(answer, before, assessment, earlier)
    except Refused:
        if asked:
            app_state(ctx).metrics.confirmation("refused")
        raise
    app_state(ctx).metrics.confirmation("confirmed")


@dataclass
class Attempt:
    """One write on its way to the API, and the audit line that records what became of it."""

    ctx: Context
    tool: str
    call: Call
    sequence_id: str | None
    before: Record | None = None
    deletes: bool = False

    async def refuse(self, refusal: Refused, verb: str = "changed") -> Refused:
        """Record a refusal; the error to raise says nothing was done, and why (even when unrecorded)."""
        try:
            await self.record("refused", detail=str(refusal))
        except AuditError as exc:
            logger.error("a refusal of %s went unrecorded: %s", self.tool, exc)
        return Refused(f"Nothing was {verb}: {refusal}.")

    async def send(self, *, new_id: bool = False) -> Any:
        """Send, then record the outcome. With `new_id`, the line names the id the API gave."""
        audit = app_state(self.ctx).audit
        try:
            await audit.check_writable()
        except AuditError as exc:  # no record, no write: a delete must stay restorable
            raise Refused(f"Nothing was sent: {exc}") from exc
        try:
            raw = await app_state(self.ctx).api.send(self.call)
        except OutcomeUnknownError as exc:
            await self.record("unknown", detail=str(exc))
            raise
        except SequencesError as exc:
            await self.record("failed", detail=str(exc))
            raise
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):  # the record must be written even as the call is cancelled
                await self.record("unknown", detail=CANCELLED_IN_FLIGHT)
            raise
        created = record_id(shaping.record(raw)) if new_id else None
        await self.record("ok", detail=f"new id {created}" if created is not None else None, created=created)
        app_state(self.ctx).metrics.written(self.tool, self.deletes)
        return raw

    async def record(self, outcome: Outcome, *, detail: str | None = None, created: Any = None) -> None:
        """One audit record; a create, which had no id before, is filed under the id it was given."""
        sequence_id = self.sequence_id if created is None else self.sequence_id or str(created)
        await app_state(self.ctx).audit.record(
            AuditEntry(
                tool=self.tool,
                sequence_id=sequence_id,
                caller=caller_name(get_access_token()),
                method=self.call.method,
                path=self.call.path,
                body=self.call.body,
                outcome=outcome,
                detail=detail,
                before=self.before,
                deletes=self.deletes,
            )
        )


async def change(ctx: Context, tool: str, args: ChangeArgs, call: Call, before: Record, answer: Any) -> Any:
    """Judge, confirm, reserve a delete from the budget, then send; every refusal is audited."""
    budget = app_state(ctx).budget
    attempt = Attempt(ctx, tool, call, args.id, before, deletes=is_delete(args.KIND, call.body or {}))
    try:
        await spend_confirmation(ctx)
        assessment = await judge(args.KIND, before, call.body or {}, ctx)
        if assessment.needs_yes:
            confirm(ctx, answer, before, assessment, await earlier_name(assessment, args.id, ctx))
        reservation = await budget.reserve() if assessment.deletes else None
    except Refused as refusal:
        raise await attempt.refuse(refusal, "deleted" if args.KIND == "delete" else "changed") from refusal
    try:
        return await attempt.send()
    except (SequencesError, Refused):
        if reservation is not None:  # a delete the API refused does not count against the hour
            await budget.release(reservation)
        raise
