"""The real command, as clients launch it: stdio and streamable HTTP in subprocesses (127.0.0.1 only).

Deleting over stdio and HTTP (stateful and stateless, both eras) is in test_confirmation_matrix.py;
these are the transport-level facts: a clean stdout, both eras over HTTP, DNS-rebinding refusal.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.abc
import httpx
import pytest
from anyio.streams.text import TextReceiveStream
from mcp import Client, StdioServerParameters
from mcp.types import ResourceTemplateReference

from tests.conftest import FIRST_ID
from tests.processes import START_TIMEOUT, HttpServer, Remote, child_env, launched, serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def command(tmp_path: Path) -> list[str]:
    """The stdio server as a desktop client launches it, its files in this test's folder."""
    return Remote(tmp_path).command()


def rpc(id_: int | None, method: str, params: dict | None = None) -> str:
    message = {"jsonrpc": "2.0", "method": method} | ({"id": id_} if id_ is not None else {})
    return json.dumps(message | ({"params": params} if params is not None else {})) + "\n"


async def test_stdio_stdout_carries_only_protocol_messages(command: list[str]) -> None:
    """Raw JSON-RPC over pipes: every line on stdout, up to exit, must be a protocol message."""
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    script = (
        rpc(1, "initialize", init)
        + rpc(None, "notifications/initialized")
        + rpc(2, "tools/list")
        + rpc(3, "tools/call", {"name": "get_sequence", "arguments": {"id": "../etc/passwd"}})
    )
    with anyio.fail_after(START_TIMEOUT):
        async with await anyio.open_process(command, env=child_env()) as process:
            await process.stdin.send(script.encode())
            stdout = await read_until_answered(process, 3)
            await process.stdin.aclose()  # EOF: the server shuts down; anything after must be protocol too
            stdout += "".join([chunk async for chunk in TextReceiveStream(process.stdout)])
    messages = [json.loads(line) for line in stdout.splitlines()]
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    by_id = {m["id"]: m for m in messages}
    assert by_id[1]["result"]["serverInfo"]["name"] == "mcp-sequences"
    assert len(by_id[2]["result"]["tools"]) == 8
    assert by_id[3]["result"]["isError"] is True


async def read_until_answered(process: anyio.abc.Process, last_id: int) -> str:
    """Read stdout until the response to `last_id` has arrived (closing stdin earlier may cancel it)."""
    stdout = ""
    async for chunk in TextReceiveStream(process.stdout):
        stdout += chunk
        complete = stdout[: stdout.rfind("\n") + 1].splitlines()
        if any(json.loads(line).get("id") == last_id for line in complete):
            return stdout
    raise AssertionError(f"stdout closed before the answer to request {last_id}: {stdout!r}")


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for server in serving(tmp_path_factory.mktemp("stateful")):
        yield server.url


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_streamable_http_serves_both_eras(http_url: str, mode: str) -> None:
    async with Client(http_url, mode=mode) as client:
        page = await client.call_tool("list_sequences", {"limit": 2})
        offered = await client.complete(
            ResourceTemplateReference(uri="sequences://{id}"), {"name": "id", "value": "Q1"}
        )
    assert page.is_error is False and len(page.structured_content["items"]) == 2
    assert offered.completion.values == [FIRST_ID]  # completion/complete over the wire, both eras


def test_http_refuses_foreign_host_headers(http_url: str) -> None:
    """DNS-rebinding protection: a page on another site cannot drive the local server."""
    response = httpx.post(http_url, headers={"Host": "evil.example"}, json={})
    assert response.status_code == 421


def until_stdin_ends(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    """A stdio server whose client hangs up at once: what it says at start-up, and how it ends."""
    return subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, env=child_env(), timeout=START_TIMEOUT
    )


def test_without_credentials_the_server_warns_at_start_up(tmp_path: Path) -> None:
    """Not the sandbox, no key, no sign-in: say so on stderr before the first call fails (stdin EOF ends it)."""
    quiet = subprocess.run(
        Remote(tmp_path).command(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_env(),
        timeout=START_TIMEOUT,
    )
    bare = [sys.executable, "-m", "mcp_sequences", "--audit-log", str(tmp_path / "audit.jsonl")]
    warned = subprocess.run(bare, stdin=subprocess.DEVNULL, capture_output=True, env=child_env(), timeout=START_TIMEOUT)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"", b"")
    assert warned.returncode == 0 and warned.stdout == b""
    for needed in (b"no credentials", b"ICLOUDREADY_API_KEY", b"ICLOUDREADY_EMAIL", b"--sandbox"):
        assert needed in warned.stderr


def test_ctrl_c_stops_the_http_server_quietly(tmp_path: Path) -> None:
    """Ctrl-C as soon as the server says where it is (it says so only once it is serving)."""
    server = HttpServer(tmp_path)
    with launched(server):
        server.wait_until_listening()
        server.process.send_signal(signal.SIGINT)
        code = server.process.wait(timeout=START_TIMEOUT)
    stderr = server.stderr.read_text()
    assert code == 130 and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.splitlines() == [f"mcp-sequences: streamable HTTP at {server.url}"]


def test_a_port_in_use_is_one_line_naming_it_and_nothing_is_announced(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        command = [*Remote(tmp_path).command(), "--transport", "http", "--port", str(port)]
        child = subprocess.run(command, capture_output=True, text=True, env=child_env(), timeout=START_TIMEOUT)
    assert child.returncode == 1
    assert child.stderr.splitlines() == [
        f"mcp-sequences: port {port} on 127.0.0.1 is already in use; stop what uses it, or choose another port "
        "with --port"
    ]


async def test_tools_given_twice_on_the_command_line_are_exactly_what_is_offered(tmp_path: Path) -> None:
    """The issue's own command: `--tools` twice exited 2 ("Input should be a valid list")."""
    command = Remote(tmp_path).command("--tools", "list_sequences", "--tools", "get_sequence")
    params = StdioServerParameters(command=command[0], args=command[1:], env=child_env())
    with anyio.fail_after(START_TIMEOUT):
        async with Client(params) as client:
            offered = {tool.name for tool in (await client.list_tools()).tools}
    assert offered == {"list_sequences", "get_sequence"}
