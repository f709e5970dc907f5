"""The HTTP deployment in this process: the real Starlette app and uvicorn settings, on 127.0.0.1.

The server's upstream is a sandbox whose requests (headers included) are recorded, so tests can
see what reached the API; a local identity provider issues real signed tokens for OAuth tests.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_sequences.http.listener import http_app, listening_socket, uvicorn_config
from mcp_sequences.sandbox import SandboxTransport, create_sandbox_app
from mcp_sequences.server import build_server
from mcp_sequences.settings import Settings
from tests.conftest import sandbox_settings

START_TIMEOUT = 10.0
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def reserved() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, held until the server serves on it: no other worker
    can take the port between picking it and serving (which a picked-then-released port allowed)."""
    return listening_socket("127.0.0.1", 0)


def port_of(listener: socket.socket) -> int:
    return listener.getsockname()[1]


@contextmanager
def running(server: uvicorn.Server, listener: socket.socket) -> Iterator[int]:
    """Run a uvicorn server on `listener` in a thread until the block ends; yields its port."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class RecordingTransport(httpx.AsyncBaseTransport):
    """The sandbox, remembering every request's headers (to prove what never reached the API)."""

    def __init__(self) -> None:
        self.sandbox = create_sandbox_app(":memory:")
        self.inner = SandboxTransport(self.sandbox)
        self.headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        return await self.inner.handle_async_request(request)


@dataclass
class Deployment:
    """An HTTP deployment on 127.0.0.1: its settings, its URL and the API it talks to."""

    settings: Settings
    upstream: RecordingTransport = field(default_factory=RecordingTransport)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}/mcp"

    def audit(self) -> list[dict[str, Any]]:
        path = Path(self.settings.audit_log)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def open_session(self, token: str | None = None) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.url, headers=MCP_HEADERS | auth, json=INIT)


@contextmanager
def deployed(folder: Path, listener: socket.socket | None = None, **overrides: Any) -> Iterator[Deployment]:
    """Serve the app as `serve` would, on `listener` (or a fresh one), its audit log in `folder`."""
    listener = listener or reserved()
    # Its own files, named here: a module-scoped deployment starts before clean_env points the
    # environment at the test's folder, and the user's own state store holds a real delete budget.
    files = {"audit_log": str(folder / "audit.jsonl"), "state_url": str(folder / "state.db")}
    defaults = {"transport": "http", "port": port_of(listener), **files}
    settings = sandbox_settings(**(defaults | overrides))
    deployment = Deployment(settings)
    app = http_app(build_server(settings, transport=deployment.upstream), settings)
    with running(uvicorn.Server(uvicorn_config(app, settings)), listener):
        yield deployment


def b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IdentityProvider:
    """A test authorization server on 127.0.0.1: RFC 8414 metadata, a JWKS with key k1, and tokens."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # never published
        self.listener = reserved()
        self.port = port_of(self.listener)
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.jwks_requests = 0

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}
            ]
        }

    def app(self) -> Starlette:
        async def metadata(_: Any) -> JSONResponse:
            return JSONResponse({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

        async def jwks(_: Any) -> JSONResponse:
            self.jwks_requests += 1
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/.well-known/oauth-authorization-server", metadata), Route("/jwks", jwks)])

    def token(
        self,
        audience: str,
        *,
        scope: str = "sequences:read sequences:write sequences:delete",
        key: Any = None,
        kid: str = "k1",
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        payload = {"iss": self.issuer, "sub": "alice@example.com", "aud": audience, "exp": int(time.time()) + 600}
        payload |= {"scope": scope, "client_id": "vscode"} | claims
        return jwt.encode(payload, key if key is not None else self.key, algorithm=algorithm, headers={"kid": kid})

    @contextmanager
    def serving(self) -> Iterator[IdentityProvider]:
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off")
        with running(uvicorn.Server(config), self.listener):
            yield self
