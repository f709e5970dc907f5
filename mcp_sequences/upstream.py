"""Where the API is: the network, or the sandbox in this process (--sandbox: no key, no network)."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import httpx
from pydantic import SecretStr

from mcp_sequences.client import SequencesClient, make_http_client
from mcp_sequences.errors import ThrottledError
from mcp_sequences.files import private_file
from mcp_sequences.operations.metrics import Metrics
from mcp_sequences.sandbox import SANDBOX_API_KEY, SandboxTransport, create_sandbox_app
from mcp_sequences.settings import Settings
from mcp_sequences.store import Store

logger = logging.getLogger(__name__)

SANDBOX_BASE_URL = "http://sandbox"


async def open_api(
    settings: Settings,
    stack: AsyncExitStack,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    metrics: Metrics | None = None,
) -> SequencesClient:
    """The API client, closed with `stack`, paced in `store`. `transport` replaces the network (tests
    pass a sandbox or a mock)."""
    upstream = settings
    if settings.sandbox and transport is None:
        upstream, transport = _open_sandbox(settings, stack)
    http = await stack.enter_async_context(make_http_client(upstream, transport, store=store, metrics=metrics))
    return SequencesClient.from_settings(http, settings)


def _open_sandbox(settings: Settings, stack: AsyncExitStack) -> tuple[Settings, httpx.AsyncBaseTransport]:
    """The in-process sandbox: its settings (its own key and URL) and a transport into it."""
    if settings.sandbox_db != ":memory:":
        private_file(settings.sandbox_db)  # SQLite gives its journal files the database's mode
    app = create_sandbox_app(settings.sandbox_db, reset=settings.sandbox_reset)
    stack.callback(app.state.store.close)
    logger.info("sandbox mode: serving from %s%s", settings.sandbox_db, " (reset)" if settings.sandbox_reset else "")
    upstream = settings.model_copy(update={"base_url": SANDBOX_BASE_URL, "api_key": SecretStr(SANDBOX_API_KEY)})
    return upstream, SandboxTransport(app)


async def reachable(api: SequencesClient) -> None:
    """Readiness of the API: one list call of one item, or an error. A refusal by this server's own rate
    limit still means the API is there: every replica shares the budget, so taking this one out helps nobody."""
    try:
        await api.list({"limit": 1})
    except ThrottledError:
        return
