"""SIGTERM on the HTTP server: no new connections, calls in flight finish (within a bound), clean exit.

The server runs as a real process against a stand-in API on 127.0.0.1 whose answer takes a while,
so the test can send SIGTERM while a call is waiting for it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client

from tests.processes import ApiServer
from tests.test_replicas import ENVELOPE, VERSION

pytestmark = pytest.mark.anyio

SLOW_ANSWER = 2.0  # seconds the stand-in API takes for a sequence
# Once drained, uvicorn re-raises the signal it caught, so the exit status says how the process was stopped.
STOPPED_BY_SIGTERM = -signal.SIGTERM


class SlowAPI(ThreadingHTTPServer):
    """Answers GET /api/v2/sequences/{id} after SLOW_ANSWER seconds; `asked` is set when a request arrives."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SlowHandler)
        self.asked = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class SlowHandler(BaseHTTPRequestHandler):
    server: SlowAPI

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self.server.asked.set()
        time.sleep(SLOW_ANSWER)
        sequence_id = self.path.rsplit("/", 1)[-1]
        body = json.dumps({"_id": sequence_id, "name": "Slow to answer", "status": "active"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the cut-off test's server is gone by now
            self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def slow_api() -> Iterator[SlowAPI]:
    api = SlowAPI()
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    api.server_close()


def start_server(tmp_path: Path, api: SlowAPI, *flags: str) -> tuple[subprocess.Popen, int]:
    server = ApiServer(tmp_path, base_url=api.url, flags=flags)
    server.start()
    server.wait_until_listening()
    assert server.process is not None
    return server.process, server.port


def accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def call_tool(url: str, name: str, arguments: dict) -> dict:
    """One `tools/call` as a 2026-07-28 client sends it (one HTTP request, no session); the JSON-RPC reply."""
    params = {"name": name, "arguments": arguments, "_meta": ENVELOPE}
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": name,
    }
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(url, json=message, headers=headers)
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line.removeprefix("data:") for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


async def wait_for(condition: object, timeout: float) -> None:
    with anyio.fail_after(timeout):
        while not condition():  # type: ignore[operator]
            await anyio.sleep(0.02)


async def test_sigterm_lets_the_call_in_flight_finish_and_takes_no_new_connections(
    tmp_path: Path, slow_api: SlowAPI
) -> None:
    process, port = start_server(tmp_path, slow_api)
    try:
        async with anyio.create_task_group() as group:
            replies: list[dict] = []

            async def call() -> None:
                replies.append(await call_tool(f"http://127.0.0.1:{port}/mcp", "get_sequence", {"id": "seq-1"}))

            group.start_soon(call)
            await wait_for(slow_api.asked.is_set, 10)
            process.send_signal(signal.SIGTERM)
            await wait_for(lambda: not accepts(port), SLOW_ANSWER / 2)  # refused while the call still runs
            assert not replies
        result = replies[0]["result"]
        assert result["isError"] is False and result["structuredContent"]["name"] == "Slow to answer", result
        assert process.wait(timeout=10) == STOPPED_BY_SIGTERM
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    finally:
        process.kill()
        process.wait()


async def test_an_idle_session_does_not_hold_the_shutdown(tmp_path: Path, slow_api: SlowAPI) -> None:
    """A connected handshake-era client keeps a stream open; SIGTERM still ends the process promptly."""
    process, port = start_server(tmp_path, slow_api, "--shutdown-timeout", "60")
    try:
        with contextlib.suppress(Exception):  # the client sees its connection go: that is the point
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client:
                await client.list_tools()
                await stop_and_time(process)
        code, seconds = await stop_and_time(process)
        assert code == STOPPED_BY_SIGTERM and seconds < 10
    finally:
        process.kill()
        process.wait()


async def test_a_call_longer_than_the_shutdown_timeout_is_cut_off(tmp_path: Path, slow_api: SlowAPI) -> None:
    """The drain is bounded: with --shutdown-timeout 0.2 the process is gone well before the API answers."""
    process, port = start_server(tmp_path, slow_api, "--shutdown-timeout", "0.2")
    stopped: list[tuple[int, float]] = []
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(cut_off_call, port)
            await wait_for(slow_api.asked.is_set, 10)
            stopped.append(await stop_and_time(process))
        code, seconds = stopped[0]
        assert code == STOPPED_BY_SIGTERM and seconds < SLOW_ANSWER
    finally:
        process.kill()
        process.wait()


async def cut_off_call(port: int) -> None:
    with pytest.raises(httpx.RemoteProtocolError):  # the server went without answering
        await call_tool(f"http://127.0.0.1:{port}/mcp", "get_sequence", {"id": "seq-1"})


async def stop_and_time(process: subprocess.Popen) -> tuple[int, float]:
    """SIGTERM (once), then the exit status and the seconds the process took to go."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    code = await anyio.to_thread.run_sync(process.wait, 30)
    return code, time.monotonic() - sent
