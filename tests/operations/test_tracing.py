"""The README's tracing claim: with an OpenTelemetry SDK configured, every MCP request is a span."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, connect

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The global tracer provider can be set once per process: one for the module, emptied per test."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    yield spans
    provider.shutdown()  # later tests in this worker record nothing


async def test_a_tool_call_is_a_span_named_for_the_tool(exporter: InMemorySpanExporter, sandbox: Starlette) -> None:
    exporter.clear()
    async with connect(sandbox, "auto") as client:
        await client.call_tool("get_sequence", {"id": FIRST_ID})
    [span] = [span for span in exporter.get_finished_spans() if span.name == "tools/call get_sequence"]
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes["mcp.method.name"] == "tools/call"
    assert span.attributes["gen_ai.tool.name"] == "get_sequence"
    assert FIRST_ID not in str(dict(span.attributes))  # the arguments are not recorded
