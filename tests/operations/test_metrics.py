"""Prometheus metrics: what each counter counts, read back the way Prometheus reads it (/metrics)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families

from mcp_sequences.operations.metrics import MeteredTransport
from mcp_sequences.operations.prometheus import PrometheusMetrics
from mcp_sequences.transport import PacedTransport, PacingExceeded
from tests.conftest import FIRST_ID, FIRST_NAME, SEEDED_IDS, Person
from tests.processes import HttpServer, child_env, serving

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((f"mcp_sequences_{name}", tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    yield from serving(tmp_path_factory.mktemp("metrics"), "--metrics")


def scrape(server: HttpServer) -> dict:
    response = httpx.get(server.url.removesuffix("/mcp") + "/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_metrics_count_calls_api_answers_confirmations_deletes_and_restores(metered: HttpServer) -> None:
    before = scrape(metered)
    victim, kept = SEEDED_IDS[2], SEEDED_IDS[3]
    async with Client(metered.url, mode="legacy", elicitation_callback=Person.typing_the_name()) as client:
        assert not (await client.call_tool("get_sequence", {"id": FIRST_ID})).is_error
        assert (await client.call_tool("get_sequence", {"id": "no-such-sequence"})).is_error  # API 404
        assert (await client.call_tool("get_sequence", {"id": "../etc"})).is_error  # refused before sending
        assert not (await client.call_tool("delete_sequence", {"id": victim})).is_error
        assert not (await client.call_tool("restore_sequence", {"id": victim})).is_error
    async with Client(metered.url, mode="legacy", elicitation_callback=Person("decline")) as client:
        assert (await client.call_tool("delete_sequence", {"id": kept})).is_error
    after = scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("tool_calls_total", tool="get_sequence", outcome="ok") == 1
    assert grew("tool_calls_total", tool="get_sequence", outcome="api_error") == 1
    assert grew("tool_calls_total", tool="get_sequence", outcome="invalid") == 1
    assert grew("tool_calls_total", tool="delete_sequence", outcome="ok") == 1
    assert grew("tool_calls_total", tool="delete_sequence", outcome="refused") == 1
    assert grew("confirmations_total", answer="asked") == 2
    assert grew("confirmations_total", answer="confirmed") == 1
    assert grew("confirmations_total", answer="refused") == 1
    assert grew("deletes_total") == 1 and grew("restores_total") == 1
    # get x2, delete (read + DELETE), restore (audit copy, then a read to see it is gone, then POST), decline (read)
    assert grew("api_responses_total", method="GET", status="404") == 2  # the missing id, the deleted one
    assert grew("api_responses_total", method="DELETE", status="200") == 1
    assert grew("api_request_seconds_count", method="GET") == 5


async def test_no_customer_data_in_the_metrics(metered: HttpServer) -> None:
    async with Client(metered.url, mode="auto") as client:
        await client.call_tool("get_sequence", {"id": FIRST_ID})
        await client.call_tool("list_sequences", {"q": "Enterprise"})
    text = httpx.get(metered.url.removesuffix("/mcp") + "/metrics", timeout=10).text
    for secretish in (FIRST_ID, FIRST_NAME, "Enterprise", "sandbox", "Bearer"):
        assert secretish not in text


def test_metrics_are_not_served_without_the_flag(tmp_path: Path) -> None:
    for server in serving(tmp_path):
        assert httpx.get(server.url.removesuffix("/mcp") + "/metrics", timeout=10).status_code == 404


async def test_rate_limit_waits_and_refusals_are_counted() -> None:
    """One request a minute: the first goes, the next waits 0.05 s, the third would wait a minute and is refused."""
    metrics = PrometheusMetrics()

    class Scripted:
        """The limiter's answers for the three requests: go; wait 0.05 s, then go; wait a minute."""

        answers = [(0.0, ""), (0.05, "1 requests a minute"), (0.0, ""), (60.0, "1 requests a minute")]

        async def take(self) -> tuple[float, str]:
            return self.answers.pop(0)

    answer = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    transport = MeteredTransport(PacedTransport(answer, Scripted(), max_wait=1.0), metrics)  # type: ignore[arg-type]

    await transport.handle_async_request(httpx.Request("GET", "http://api/x"))
    await transport.handle_async_request(httpx.Request("GET", "http://api/x"))
    with pytest.raises(PacingExceeded):
        await transport.handle_async_request(httpx.Request("GET", "http://api/x"))

    scraped = samples(metrics.exposition()[0].decode())
    assert value(scraped, "rate_limit_waits_total") == 1
    assert value(scraped, "rate_limit_wait_seconds_total") == pytest.approx(0.05)
    assert value(scraped, "rate_limit_refusals_total") == 1
    assert value(scraped, "api_responses_total", method="GET", status="200") == 2


def test_without_the_flag_prometheus_is_not_even_imported() -> None:
    """Start-up and every call pay nothing for metrics nobody asked for."""
    probe = (
        "import sys; from mcp_sequences.server import build_server; from mcp_sequences.settings import Settings; "
        "build_server(Settings(sandbox=True, transport='http')); print('prometheus_client' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=child_env())
    assert ran.stdout.strip() == "False", ran.stderr
