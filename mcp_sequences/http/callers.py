"""What one HTTP caller may do: the scopes each tool needs, and the caller's own delete policy.

A caller is a static token's name or an OAuth token's subject. A tool is offered to a caller
(tools/list) and callable by it (tools/call) only when its token has the tool's scope and, for
delete_sequence, when the caller's delete policy is not `deny`. Without a token (stdio, or HTTP
on loopback without authentication) nothing is narrowed here: the server's settings apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent

from mcp_sequences.guard import DeletePolicy
from mcp_sequences.settings import Settings
from mcp_sequences.toolkit import ToolSpec

READ_SCOPE = "sequences:read"
WRITE_SCOPE = "sequences:write"
DELETE_SCOPE = "sequences:delete"
ALL_SCOPES = (READ_SCOPE, WRITE_SCOPE, DELETE_SCOPE)


def caller_name(token: AccessToken | None) -> str | None:
    """Who is calling, as the audit log and MCP_SEQUENCES_CALLER_POLICIES name them."""
    if token is None:
        return None
    return token.subject or token.client_id


def needed_scope(spec: ToolSpec) -> str:
    return READ_SCOPE if spec.read_only else DELETE_SCOPE if spec.deletes else WRITE_SCOPE


def delete_policy(settings: Settings, token: AccessToken | None) -> DeletePolicy:
    """The delete policy for this caller: --delete-policy deny holds for all, then scope, then the caller's own."""
    default = DeletePolicy(settings.delete_policy)
    name = caller_name(token)
    if token is None or settings.delete_policy == "deny":
        return default
    if DELETE_SCOPE not in token.scopes:
        return DeletePolicy("deny", f"for this caller: its token lacks the OAuth scope {DELETE_SCOPE}")
    if name in settings.caller_policies:
        mode = settings.caller_policies[name]
        return DeletePolicy(mode, f"for caller {name!r} (MCP_SEQUENCES_CALLER_POLICIES)")
    return default


def current_delete_policy(settings: Settings) -> DeletePolicy:
    """The delete policy for whoever made the request being served."""
    return delete_policy(settings, get_access_token())


def why_not(spec: ToolSpec, settings: Settings, token: AccessToken | None) -> str | None:
    """Why this caller may not call this tool, or None when it may."""
    if token is None:
        return None
    scope = needed_scope(spec)
    if scope not in token.scopes:
        return f"{spec.name} needs the OAuth scope {scope}, which this caller's token lacks"
    policy = delete_policy(settings, token)
    if spec.deletes and policy.mode == "deny":
        return f"deleting is turned off {policy.source}"
    return None


class CallerFilter:
    """MCP middleware: each caller sees and calls only the tools it may (the gate already required the read scope)."""

    def __init__(self, settings: Settings, specs: Sequence[ToolSpec]) -> None:
        self.settings = settings
        self.specs = {spec.name: spec for spec in specs}

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = get_access_token()
        if token is None:
            return await call_next(ctx)
        if ctx.method == "tools/call":
            spec = self.specs.get(str((ctx.params or {}).get("name")))
            refusal = spec and why_not(spec, self.settings, token)
            if refusal:
                return CallToolResult(
                    content=[TextContent(type="text", text=f"Nothing was done: {refusal}.")], is_error=True
                )
        result = await call_next(ctx)
        return self._listed(result, token) if ctx.method == "tools/list" else result

    def _listed(self, result: HandlerResult, token: AccessToken) -> HandlerResult:
        """The tools/list result (serialised by then) without the tools this caller may not call."""
        if isinstance(result, dict) and isinstance(result.get("tools"), list):
            result["tools"] = [tool for tool in result["tools"] if self._offered(tool.get("name"), token)]
        return result

    def _offered(self, name: Any, token: AccessToken) -> bool:
        spec = self.specs.get(name)
        return spec is None or why_not(spec, self.settings, token) is None
