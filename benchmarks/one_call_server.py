"""Baseline for the throughput benchmark: one tool that makes one API call with httpx, on the same SDK.

Everything mcp-sequences adds (argument models, guardrails, pacing, retries, shaping) is absent:
the tool GETs the sequence and returns the API's JSON. Served like mcp-sequences: streamable HTTP
at /mcp on 127.0.0.1, sessions on, one shared httpx.AsyncClient.

Run: python benchmarks/one_call_server.py --port N --base-url URL
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from mcp.server.mcpserver import Context, MCPServer


def build(base_url: str) -> MCPServer:
    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": "Bearer stand-in-key"}) as http:
            yield http

    server: MCPServer = MCPServer("one-call", log_level="WARNING", lifespan=lifespan)

    @server.tool()
    async def get_sequence(id: str, ctx: Context) -> dict[str, Any]:  # noqa: A002 (the tool's argument name)
        """Get one sequence by id."""
        http: httpx.AsyncClient = ctx.request_context.lifespan_context
        response = await http.get(f"/api/v2/sequences/{id}")
        response.raise_for_status()
        return response.json()

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()
    app = build(args.base_url).streamable_http_app(streamable_http_path="/mcp")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
