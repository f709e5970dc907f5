"""Where the HTTP endpoint is, and whether it may be served where it is asked to be."""

from __future__ import annotations

import ipaddress

from mcp_sequences.settings import LOOPBACK_HOSTS, Settings

MCP_PATH = "/mcp"


def is_loopback(host: str) -> bool:
    """True for interfaces only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authenticated(settings: Settings) -> bool:
    return bool(settings.http_tokens or settings.oauth_issuer)


def endpoint_url(settings: Settings) -> str:
    """The public URL of the MCP endpoint; an IPv6 host is bracketed (http://[::1]:8000/mcp)."""
    if settings.public_url:
        return settings.public_url
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}{MCP_PATH}"


def exposure_problem(settings: Settings) -> str | None:
    """Why this server must not start: beyond loopback with no authentication, unless asked for."""
    if is_loopback(settings.host) or authenticated(settings) or settings.allow_unauthenticated:
        return None
    return (
        f"refusing to listen on {settings.host} without authentication: anyone who can reach the port could "
        "call every tool (the Host header check is no protection, a client can send any Host). Set "
        "MCP_SEQUENCES_HTTP_TOKENS or --oauth-issuer, or pass --allow-unauthenticated if that is what you want"
    )


def exposure_warnings(settings: Settings) -> list[str]:
    """What a server listening beyond loopback is probably missing."""
    if is_loopback(settings.host):
        return []
    warnings = []
    if not authenticated(settings):
        warnings.append("no authentication (--allow-unauthenticated): anyone who can reach it can call every tool")
    if settings.allowed_hosts == list(LOOPBACK_HOSTS):
        warnings.append(
            "only loopback Host headers are accepted, so clients that reach it by another name get 421; "
            "add --allowed-hosts (this check stops DNS rebinding, it is not access control)"
        )
    return warnings
