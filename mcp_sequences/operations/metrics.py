"""What the server counts, and the transport that counts API attempts.

`Metrics` is the interface and counts nothing: without --metrics a call pays nothing for metrics
and prometheus_client is never imported. With it, prometheus.py's subclass keeps the counts.
"""

from __future__ import annotations

import time
from typing import Literal

import httpx

from mcp_sequences.transport import PACED_WAIT, PacingExceeded

Answer = Literal["asked", "confirmed", "refused"]
NO_ANSWER = "none"  # the status label of an attempt that got no HTTP answer (connection error, timeout)


class Metrics:
    """What happened, told as it happens; this base forgets it (the server runs without --metrics)."""

    def tool_call(self, tool: str, outcome: str) -> None:
        """A tool call ended: ok, asking, or why it failed (a label from a small fixed set)."""

    def confirmation(self, answer: Answer) -> None:
        """A confirmation was asked of the person, or answered."""

    def written(self, tool: str, deletes: bool) -> None:
        """A write the API accepted."""

    def attempt(self, method: str, status: str, seconds: float, waited: float) -> None:
        """An API request attempt: its answer's status, its time, and how long pacing held it first."""

    def rate_refused(self) -> None:
        """An API request refused because keeping under the rate limit would take too long."""


class MeteredTransport(httpx.AsyncBaseTransport):
    """Counts each attempt that goes through the rate limiter: its wait, its time, its status."""

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
        except PacingExceeded:
            self.metrics.rate_refused()
            raise
        except httpx.TransportError:
            self._attempted(request, start, NO_ANSWER)
            raise
        self._attempted(request, start, str(response.status_code))
        return response

    def _attempted(self, request: httpx.Request, start: float, status: str) -> None:
        """One attempt sent: its wait for the rate limiter, then its time to the answer's headers."""
        waited = request.extensions.get(PACED_WAIT, 0.0)
        self.metrics.attempt(request.method, status, max(time.perf_counter() - start - waited, 0.0), waited)

    async def aclose(self) -> None:
        await self.inner.aclose()
