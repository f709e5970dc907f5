"""The listener against hostile clients (slow headers, too many connections, foreign Host and Origin,
log leaks), and how it sends."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from mcp import Client

from mcp_sequences.http.listener import listening_socket
from tests.http.conftest import MCP_HEADERS, Deployment, deployed
from tests.processes import HttpServer, serving

SLOW_CLIENTS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployed(tmp_path_factory.mktemp("listener"), header_timeout=1.0) as deployment:
        yield deployment


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    return sock


def test_clients_that_send_headers_too_slowly_are_disconnected(server: Deployment) -> None:
    with ExitStack() as stack:
        slow = [stack.enter_context(connect(server.settings.port)) for _ in range(SLOW_CLIENTS)]
        for sock in slow:
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and never the rest
        closed = [sock.recv(1024) == b"" for sock in slow]  # recv waits until the server closes (timeout 15 s)
    assert closed == [True] * SLOW_CLIENTS
    assert httpx.post(server.url, headers=MCP_HEADERS, json={}).status_code != 503  # others are still served


def test_connections_beyond_the_limit_get_503(tmp_path: Path) -> None:
    with deployed(tmp_path, max_connections=4) as server, ExitStack() as stack:
        for _ in range(4):
            stack.enter_context(connect(server.settings.port))
        assert httpx.post(server.url, headers=MCP_HEADERS, json={}).status_code == 503


def test_a_trailing_slash_is_not_redirected_to_the_host_it_names(server: Deployment) -> None:
    """A 307 built from an unchecked Host header would send the client to the attacker's host."""
    response = httpx.post(server.url + "/", headers=MCP_HEADERS | {"Host": "evil.example"}, json={})
    assert response.status_code != 307 and "location" not in response.headers


def test_a_foreign_host_is_refused(server: Deployment) -> None:
    assert httpx.post(server.url, headers=MCP_HEADERS | {"Host": "evil.example"}, json={}).status_code == 421


def test_a_foreign_origin_is_refused(server: Deployment) -> None:
    """A web page on another site cannot drive the server through the person's browser."""
    response = httpx.post(server.url, headers=MCP_HEADERS | {"Origin": "http://evil.example"}, json={})
    assert response.status_code == 403


@pytest.fixture
def debug_server(tmp_path: Path) -> Iterator[HttpServer]:
    yield from serving(tmp_path, "--log-level", "DEBUG")


@pytest.mark.anyio
async def test_debug_logs_hold_no_session_ids_and_no_response_bodies(debug_server: HttpServer) -> None:
    async with Client(debug_server.url, mode="legacy") as client:
        page = await client.call_tool("list_sequences", {"limit": 1})
    debug_server.stop()
    debug_server.reap()
    log = debug_server.stderr.read_text()
    assert "Created new transport with session ID: [session id]" in log  # the line is kept, the id is not
    assert not re.search(r"\b[0-9a-f]{32}\b", log)
    assert page.structured_content["items"][0]["name"] not in log  # no response chunk was logged


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    with deployed(tmp_path, keep_alive_timeout=1) as server, connect(server.settings.port) as sock:
        sock.sendall(b"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.settings.port)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        rest = sock.recv(4096)
        while rest:  # the body, then the close
            rest = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 404")


def test_a_request_body_over_4_mib_is_refused(server: Deployment) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "' + b"x" * (4 * 2**20) + b'"}}'
    assert httpx.post(server.url, headers=MCP_HEADERS, content=body).status_code == 413


@pytest.mark.anyio
async def test_connections_it_accepts_send_without_waiting_for_acks() -> None:
    """An SSE response goes out in several writes; with Nagle on, each call waited ~40 ms for an ACK."""
    listener = listening_socket("127.0.0.1", 0)
    nodelay: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def accepted(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nodelay.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    async with await asyncio.start_server(accepted, sock=listener):  # as uvicorn serves it
        _, writer = await asyncio.open_connection(*listener.getsockname())
        assert await asyncio.wait_for(nodelay, 10) == 1
        writer.close()
