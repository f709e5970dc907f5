"""Load for the HTTP benchmarks: MCP spoken raw over httpx, light enough that the server is measured.

A `Session` is the handshake era's (initialize, then calls carrying Mcp-Session-Id), as most clients
in the field still speak it; a `Modern` client speaks 2026-07-28, every request whole (no session),
so a load balancer may send each to another replica. Shared by throughput.py and soak.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

VERSION = "2025-11-25"
MODERN = "2026-07-28"
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": VERSION}
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "load", "version": "0"},
}


@dataclass
class Session:
    """One MCP session over its own keep-alive connection."""

    url: str
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=60))
    headers: dict[str, str] = field(default_factory=lambda: dict(HEADERS))
    ids: int = 0

    async def open(self) -> None:
        info = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "load", "version": "0"}}
        response = await self._post("initialize", info)
        response.raise_for_status()
        if "mcp-session-id" in response.headers:
            self.headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
        await self.http.post(
            self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers
        )

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tools/call; its result, or raises on a transport or JSON-RPC error."""
        response = await self._post("tools/call", {"name": name, "arguments": arguments})
        response.raise_for_status()
        reply = parse(response)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    async def close(self) -> None:
        if "Mcp-Session-Id" in self.headers:
            with contextlib.suppress(httpx.HTTPError):  # the session may be gone already
                await self.http.delete(self.url, headers=self.headers)
        await self.http.aclose()

    async def _post(self, method: str, params: dict[str, Any]) -> httpx.Response:
        self.ids += 1
        message = {"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params}
        return await self.http.post(self.url, json=message, headers=self.headers)


@dataclass
class Modern(Session):
    """A 2026-07-28 client: nothing to open, each call carries its envelope; `urls` are used in turn."""

    urls: tuple[str, ...] = ()
    headers: dict[str, str] = field(
        default_factory=lambda: {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN}
    )

    async def open(self) -> None:
        pass

    async def _post(self, method: str, params: dict[str, Any]) -> httpx.Response:
        self.ids += 1
        url = self.urls[self.ids % len(self.urls)] if self.urls else self.url
        message = {"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params | {"_meta": ENVELOPE}}
        routing = {"Mcp-Method": method} | ({"Mcp-Name": params["name"]} if "name" in params else {})
        return await self.http.post(url, json=message, headers=self.headers | routing)


def parse(response: httpx.Response) -> dict[str, Any]:
    """A JSON-RPC reply sent as plain JSON or as a server-sent event stream."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def now() -> float:
    return time.perf_counter()
