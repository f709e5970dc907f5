"""The HTTP server: the SDK's streamable HTTP app behind the gate, served by uvicorn with limits.

Limits against greedy or slow clients: --max-sessions in all and --max-sessions-per-caller, idle
sessions closed after --session-idle-minutes, a request's headers due within --header-timeout,
idle connections closed after --keep-alive-timeout, and at most --max-connections at once (503
beyond). Session ids are kept out of the logs and response bodies out of DEBUG logs.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import sys
from functools import partial

import anyio
import h11
import uvicorn
from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, cors_middleware
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import BaseRoute, Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from mcp_sequences.http.callers import ALL_SCOPES, READ_SCOPE
from mcp_sequences.http.endpoint import MCP_PATH, endpoint_url
from mcp_sequences.http.gate import Gate
from mcp_sequences.http.oauth import JwtVerifier, KeySet
from mcp_sequences.http.tokens import StaticTokenVerifier
from mcp_sequences.settings import Settings

METADATA_PATH = "/.well-known/oauth-protected-resource"
SESSION_ID = re.compile(r"\b[0-9a-f]{32}\b")


def http_app(server: MCPServer, settings: Settings) -> Starlette:
    """The Starlette app serving /mcp (and, in OAuth mode, its protected-resource metadata)."""
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=settings.stateless,
        stateless_http=settings.stateless,
        session_idle_timeout=settings.session_idle_minutes * 60,
        max_sessions=settings.max_sessions,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=settings.allowed_hosts,
            allowed_origins=settings.allowed_origins,
        ),
    )
    # No 307 from /mcp/ to /mcp: its Location would be built from a Host header nobody checked yet.
    app.router.redirect_slashes = False
    verifier = token_verifier(settings)
    if verifier is not None:
        guard_endpoint(app, server, settings)
        app.add_middleware(AuthContextMiddleware)
        app.add_middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier))
    return app


def token_verifier(settings: Settings) -> TokenVerifier | None:
    if settings.oauth_issuer:
        return JwtVerifier(KeySet(settings.oauth_issuer, settings.oauth_jwks_url), audience=endpoint_url(settings))
    return StaticTokenVerifier(settings.http_tokens) if settings.http_tokens else None


def guard_endpoint(app: Starlette, server: MCPServer, settings: Settings) -> None:
    """Put /mcp behind the gate; other routes (health checks, metadata) stay public."""
    oauth = bool(settings.oauth_issuer)
    metadata_url = str(build_resource_metadata_url(AnyHttpUrl(endpoint_url(settings)))) if oauth else None

    def gated(route: BaseRoute) -> BaseRoute:
        if not (isinstance(route, Route) and route.path == MCP_PATH):
            return route
        gate = Gate(
            route.app,
            server.session_manager,
            sessions_per_caller=settings.max_sessions_per_caller,
            idle_minutes=settings.session_idle_minutes,
            resource_metadata=metadata_url,
            required_scope=READ_SCOPE if oauth else None,
        )
        return Route(MCP_PATH, endpoint=gate, methods=route.methods)

    app.router.routes = [gated(route) for route in app.router.routes]
    if oauth:
        app.router.routes += metadata_routes(settings)


def metadata_routes(settings: Settings) -> list[Route]:
    """RFC 9728 protected-resource metadata, at the path for /mcp and at the bare well-known path."""
    assert settings.oauth_issuer
    metadata = ProtectedResourceMetadata(
        resource=AnyHttpUrl(endpoint_url(settings)),
        authorization_servers=[AnyHttpUrl(settings.oauth_issuer)],
        scopes_supported=list(ALL_SCOPES),
    )
    endpoint = cors_middleware(ProtectedResourceMetadataHandler(metadata).handle, ["GET", "OPTIONS"])
    return [
        Route(path, endpoint=endpoint, methods=["GET", "OPTIONS"]) for path in (METADATA_PATH + MCP_PATH, METADATA_PATH)
    ]


class SlowClientProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose request headers are not all in within a deadline.

    uvicorn itself waits forever for a request that arrives a line at a time.
    """

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection has the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app: Starlette, settings: Settings) -> uvicorn.Config:
    protocol = type("SlowClientProtocol", (SlowClientProtocol,), {"header_timeout": settings.header_timeout})
    return uvicorn.Config(
        app,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.max_connections,
        # SIGTERM: stop accepting, let requests in flight finish for this long, then shut down.
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_config=None,  # keep the logging the command set up: stderr only
        log_level=settings.log_level.lower(),
    )


class HideSessionIds(logging.Filter):
    """A session id in a log line would let whoever reads the logs use the session."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = SESSION_ID.sub("[session id]", record.getMessage()), ()
        return True


def quiet_logs() -> None:
    """Keep customer data and session ids out of the logs, at any level."""
    logging.getLogger("sse_starlette").setLevel(logging.INFO)  # at DEBUG it logs every response chunk
    for name in ("mcp.server.streamable_http_manager", "mcp.server.streamable_http"):
        logging.getLogger(name).addFilter(HideSessionIds())


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind before announcing, so a port in use is one line naming it, not an announcement and a traceback."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        bound = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise _cannot_listen(exc, host, port) from None
    # Say it is TCP, as a socket asyncio makes itself does: asyncio sets TCP_NODELAY on accepted
    # connections only then. Without it Nagle holds a response's later writes (SSE events follow
    # the headers) until the client's delayed ACK: 40 ms on every call.
    return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


def _cannot_listen(exc: OSError, host: str, port: int) -> SystemExit:
    if exc.errno == errno.EADDRINUSE:
        return SystemExit(
            f"mcp-sequences: port {port} on {host} is already in use; stop what uses it, or choose another "
            "port with --port"
        )
    reason = exc.strerror or str(exc)
    return SystemExit(f"mcp-sequences: cannot listen on {host} port {port} ({reason}); check --host")


def serve_http(server: MCPServer, settings: Settings, listener: socket.socket) -> None:
    """Serve on the socket already bound until the process is stopped."""
    quiet_logs()
    # The real port, also when --port 0 let the system choose: the URL announced, and the audience
    # OAuth tokens must name, are built from it.
    settings = settings.model_copy(update={"port": listener.getsockname()[1]})
    config = uvicorn_config(http_app(server, settings), settings)
    anyio.run(partial(AnnouncedServer(config, endpoint_url(settings)).serve, sockets=[listener]))


class AnnouncedServer(uvicorn.Server):
    """uvicorn that says where it serves once it does: a line read as "ready" (by people and by the
    tests) must not come while a Ctrl-C would still meet a half-built event loop."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # Not a log line: someone who starts an HTTP server wants to see where it is, at any log level.
            sys.stderr.write(f"mcp-sequences: streamable HTTP at {self.url}\n")
