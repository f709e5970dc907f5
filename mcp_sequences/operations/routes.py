"""The HTTP endpoints of operations: /healthz, /readyz and (with --metrics) /metrics.

They need no token and show no data: a status, the names of failing checks, and counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_sequences.operations.readiness import Readiness

if TYPE_CHECKING:  # imported only with --metrics, by the server
    from mcp_sequences.operations.prometheus import PrometheusMetrics


def add_routes(server: MCPServer, readiness: Readiness, metrics: PrometheusMetrics | None) -> None:
    """Mount the endpoints on the server's HTTP app; `metrics` None leaves /metrics out."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        failing = await readiness.failing()
        if failing:
            return JSONResponse({"status": "not ready", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ready"})

    server.custom_route("/healthz", ["GET"])(healthz)
    server.custom_route("/readyz", ["GET"])(readyz)
    if metrics is not None:

        async def scrape(_: Request) -> Response:
            body, content_type = metrics.exposition()
            return Response(body, media_type=content_type)

        server.custom_route("/metrics", ["GET"])(scrape)
