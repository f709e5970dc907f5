"""Static bearer tokens given to named callers (MCP_SEQUENCES_HTTP_TOKENS).

A team that deploys the server over HTTP hands each agent or person its own token; the name the
token belongs to is the caller recorded in the audit log. Tokens are compared in constant time
and never logged. A static token carries every scope: what a caller may do is narrowed by its
delete policy (MCP_SEQUENCES_CALLER_POLICIES), not by the token.
"""

from __future__ import annotations

import hmac

from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import SecretStr

from mcp_sequences.http.callers import ALL_SCOPES


class StaticTokenVerifier(TokenVerifier):
    def __init__(self, tokens: dict[str, SecretStr]) -> None:
        self._tokens = {name: secret.get_secret_value().encode() for name, secret in tokens.items()}

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        # Compare against every token, so the time taken says nothing about which one nearly matched.
        matches = [name for name, known in self._tokens.items() if hmac.compare_digest(offered, known)]
        return AccessToken(token=token, client_id=matches[0], scopes=list(ALL_SCOPES)) if matches else None
