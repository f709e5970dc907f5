"""The door of the /mcp route: who is calling (RFC 6750 answers when nobody is), and how many sessions it holds.

Only /mcp is behind it: routes added beside it (health checks, metadata) stay public.

- No credentials (no `Authorization: Bearer`): 401 with `WWW-Authenticate: Bearer` and no error
  code (RFC 6750 §3.1), plus `resource_metadata` in OAuth mode, which is how MCP clients find
  the authorization server.
- A token that does not verify: 401 `error="invalid_token"`.
- An OAuth token without `sequences:read`, which every use of the server needs: 403 `insufficient_scope`.
- A new session beyond --max-sessions-per-caller: 429; the SDK refuses beyond --max-sessions with 503.
"""

from __future__ import annotations

import json
from collections import defaultdict

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_HEADER = b"mcp-session-id"


class Gate:
    """Wraps the MCP endpoint: authentication answers, the read scope, and sessions per caller."""

    def __init__(
        self,
        app: ASGIApp,
        manager: StreamableHTTPSessionManager,
        *,
        sessions_per_caller: int,
        idle_minutes: float,
        resource_metadata: str | None,
        required_scope: str | None = None,
    ) -> None:
        self.app = app
        self.manager = manager
        self.sessions_per_caller = sessions_per_caller
        self.idle_minutes = idle_minutes
        self.resource_metadata = resource_metadata
        self.required_scope = required_scope
        self._opening: defaultdict[object, anyio.Lock] = defaultdict(anyio.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            error = "invalid_token" if _bearer(scope) else None
            await self._challenge(send, 401, error, "a valid bearer token is required" if error else None)
            return
        if self.required_scope and self.required_scope not in user.scopes:
            await self._challenge(send, 403, "insufficient_scope", f"this server needs the scope {self.required_scope}")
            return
        if self.manager.stateless or not _opens_session(scope):
            await self.app(scope, receive, send)
            return
        owner = authorization_context(user)
        async with self._opening[json.dumps(owner, sort_keys=True)]:  # count and open as one step
            if self._sessions_of(owner) >= self.sessions_per_caller:
                await _too_many(send, self.sessions_per_caller, self.idle_minutes)
                return
            await self.app(scope, receive, send)

    def _sessions_of(self, owner: object) -> int:
        # The SDK's own record of who opened each open session (it uses it to bind sessions to callers).
        return sum(1 for opener in self.manager._session_owners.values() if opener == owner)

    async def _challenge(self, send: Send, status: int, error: str | None, description: str | None) -> None:
        params = [f'error="{error}"', f'error_description="{description}"'] if error else []
        if error == "insufficient_scope":
            params.append(f'scope="{self.required_scope}"')
        if self.resource_metadata:
            params.append(f'resource_metadata="{self.resource_metadata}"')
        challenge = "Bearer " + ", ".join(params) if params else "Bearer"
        body = {"error": error or "unauthorized", "error_description": description or "authentication required"}
        await _respond(send, status, body, [(b"www-authenticate", challenge.encode())])


def _bearer(scope: Scope) -> bool:
    """Whether the request carried bearer credentials at all (a wrong scheme counts as none, RFC 6750 §3.1)."""
    value = dict(scope.get("headers", [])).get(b"authorization", b"")
    return value[:7].lower() == b"bearer "


def _opens_session(scope: Scope) -> bool:
    return scope.get("method") == "POST" and SESSION_HEADER not in dict(scope.get("headers", []))


async def _too_many(send: Send, limit: int, idle_minutes: float) -> None:
    message = (
        f"this caller already holds {limit} sessions (--max-sessions-per-caller): end one (HTTP DELETE) "
        f"or let one go idle for {idle_minutes:g} minutes"
    )
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    await _respond(send, 429, body, [])


async def _respond(send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    start_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": data})
