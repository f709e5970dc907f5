"""Single-use confirmations: a sealed round-two state answers one call, once, on any replica.

At 2026-07-28 a confirmation's answer comes back with a sealed `requestState`. The SDK checks its
seal, expiry and binding to the call, but would accept the same state again within its lifetime:
sent twice, one answer deleted a sequence twice (once more after a restore), and it survived a
wrong answer. So the sealed token, as it arrives, is noted (middleware placed before the SDK's
unsealing) and a write that runs on it first spends it in the shared store, where it stays spent
until it would have expired anyway. What was asked is bound to the record's version (guard.py),
so an answer to a question about another version of the record is asked again by the SDK.
"""

from __future__ import annotations

import hashlib
import time
from contextvars import ContextVar
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.request_state import RequestStateBoundary

from mcp_sequences.audit import UNREACHABLE
from mcp_sequences.guard import Refused
from mcp_sequences.store import StoreUnavailable
from mcp_sequences.toolkit import app_state

# A person has this long to answer a confirmation before its sealed state is refused.
STATE_TTL = 300.0
_sealed: ContextVar[str | None] = ContextVar("mcp_sequences_sealed_state", default=None)


class NoteSealedState:
    """Middleware: remembers a digest of the sealed state this call carries, for `spend_confirmation`."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        sealed = (ctx.params or {}).get("requestState") if ctx.method == "tools/call" else None
        token = _sealed.set(hashlib.sha256(sealed.encode()).hexdigest() if isinstance(sealed, str) else None)
        try:
            return await call_next(ctx)
        finally:
            _sealed.reset(token)


def install(server: MCPServer) -> None:
    """Put the middleware just outside the SDK's unsealing, where the state is still the sealed token."""
    chain = server.middleware
    boundary = next(i for i, middleware in enumerate(chain) if isinstance(middleware, RequestStateBoundary))
    chain.insert(boundary, NoteSealedState())


async def spend_confirmation(ctx: Context) -> None:
    """Spend the sealed state this call answers with, if any; refuse one already spent, anywhere."""
    state_id = _sealed.get()
    if state_id is None:
        return
    now = time.time()
    try:
        fresh = await app_state(ctx).store.use_state(state_id, expires=now + STATE_TTL, now=now)
    except StoreUnavailable as exc:
        raise Refused(f"{UNREACHABLE} ({exc})") from exc
    if not fresh:
        raise Refused(
            "this confirmation was already used; a confirmation answers one call, once. Call again to ask anew"
        )
