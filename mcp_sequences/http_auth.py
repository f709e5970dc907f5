"""Who may call the HTTP endpoint: bearer tokens given to named callers (MCP_SEQUENCES_HTTP_TOKENS).

A team that deploys the server over HTTP hands each agent or person its own token; the name the
token belongs to is the caller recorded in the audit log. Tokens are compared in constant time
and never logged.
"""

from __future__ import annotations

import hmac

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from pydantic import SecretStr


class StaticTokenVerifier(TokenVerifier):
    def __init__(self, tokens: dict[str, SecretStr]) -> None:
        self._tokens = {name: secret.get_secret_value().encode() for name, secret in tokens.items()}

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        # Compare against every token, so the time taken says nothing about which one nearly matched.
        matches = [name for name, known in self._tokens.items() if hmac.compare_digest(offered, known)]
        return AccessToken(token=token, client_id=matches[0], scopes=[]) if matches else None


def auth_settings(public_url: str) -> AuthSettings:
    """Resource-server-only settings: the SDK requires an issuer; with no metadata route it is not published."""
    return AuthSettings(issuer_url=public_url, resource_server_url=None)
