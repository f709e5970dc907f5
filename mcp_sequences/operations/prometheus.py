"""Prometheus metrics (--metrics): what the server did, counted without customer data.

Every label takes values from a small fixed set (tool names, outcomes, HTTP methods and status
codes), never ids, names, callers or arguments. Each server has its own registry, so two servers
in one process (the tests) do not share counts, and nothing is process-global.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from mcp_sequences.operations.metrics import NO_ANSWER, Answer, Metrics

# Seconds; the API answers in tens of milliseconds when well, and a call's deadline caps the tail.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PrometheusMetrics(Metrics):
    """The counters and histograms of one server, served at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.tool_calls = self._counter("tool_calls", "Tool calls by tool and outcome.", "tool", "outcome")
        self.api_seconds = Histogram(
            "mcp_sequences_api_request_seconds",
            "Time of each API request attempt (retries count apart), rate-limit waits excluded.",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_responses = self._counter(
            "api_responses", f"API answers by method and status code ({NO_ANSWER}: no answer).", "method", "status"
        )
        self.rate_waits = self._counter("rate_limit_waits", "API requests held back to stay under the rate limit.")
        self.rate_wait_seconds = self._counter("rate_limit_wait_seconds", "Seconds API requests were held back.")
        self.rate_refusals = self._counter("rate_limit_refusals", "API requests refused: the wait would be too long.")
        self.confirmations = self._counter(
            "confirmations", "Confirmations asked of the person, and their answers (confirmed or refused).", "answer"
        )
        self.deletes = self._counter("deletes", "Sequences deleted (delete_sequence, or deleted set true).")
        self.restores = self._counter("restores", "Sequences restored.")

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(f"mcp_sequences_{name}", documentation, labels, registry=self.registry)

    def tool_call(self, tool: str, outcome: str) -> None:
        self.tool_calls.labels(tool, outcome).inc()

    def confirmation(self, answer: Answer) -> None:
        self.confirmations.labels(answer).inc()

    def written(self, tool: str, deletes: bool) -> None:
        if deletes:
            self.deletes.inc()
        if tool == "restore_sequence":
            self.restores.inc()

    def attempt(self, method: str, status: str, seconds: float, waited: float) -> None:
        if waited > 0:
            self.rate_waits.inc()
            self.rate_wait_seconds.inc(waited)
        self.api_seconds.labels(method).observe(seconds)
        self.api_responses.labels(method, status).inc()

    def rate_refused(self) -> None:
        self.rate_refusals.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
