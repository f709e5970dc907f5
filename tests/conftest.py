"""Shared fixtures: a fresh sandbox per test as the upstream, and MCP clients of both protocol eras."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from mcp import Client
from mcp.client.session import ClientSession
from mcp.types import ElicitResult
from starlette.applications import Starlette

from mcp_sequences.sandbox import SANDBOX_API_KEY, SandboxTransport, create_sandbox_app
from mcp_sequences.sandbox.seed import SEED_SEQUENCES
from mcp_sequences.server import build_server
from mcp_sequences.settings import ENV_PREFIX, Settings
from mcp_sequences.store import Store, open_store
from mcp_sequences.upstream import SANDBOX_BASE_URL

if TYPE_CHECKING:
    from tests.postgres import Cluster

# The two protocol eras: "legacy" initializes at 2025-11-25, "auto" negotiates 2026-07-28.
MODES = ("legacy", "auto")
BACKENDS = ("sqlite", "postgres")
FIRST_ID = "6650b0000000000000000001"
SEEDED_IDS = tuple(f"{FIRST_ID[:-1]}{n}" for n in range(1, 8))
FIRST_NAME = "Q1 Enterprise Outbound - VP Sales"
NAME_PROMPT = "type the sequence's name: "


class Clock:
    """A clock that stands still until a test moves it (for hourly and per-minute windows)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# What the person knows without reading the server's question: the seed's names, by id.
SEED_NAMES = {record["id"]: record["name"] for record in SEED_SEQUENCES}
SHOWN_ID = re.compile(r"\bid ([A-Za-z0-9_-]+)")


class Person:
    """The human at the client: records what they were shown and answers as told.

    `Person.typing_the_name()` types the name of the sequence the question is about, as they know it
    (the seed's names, and any passed as `id=name`), never the name the server displayed: a server
    that showed a wrong name would otherwise be confirmed by its own mistake. `Person("accept",
    {"name": "x"})` types something else; decline and cancel are `Person("decline")` and `Person("cancel")`.
    """

    def __init__(
        self, action: str = "accept", content: dict[str, Any] | None = None, names: dict[str, str] | None = None
    ) -> None:
        self.action, self.content, self.shown = action, content, []
        self.names = SEED_NAMES | (names or {})

    @classmethod
    def typing_the_name(cls, **names: str) -> Person:
        return cls("accept", None, names)

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.shown.append(params.message)
        content = self.content
        if self.action == "accept" and content is None:
            shown = SHOWN_ID.search(params.message)
            assert shown and shown[1] in self.names, f"the person does not know this sequence: {params.message}"
            content = {"name": self.names[shown[1]]}
        return ElicitResult(action=self.action, content=content)


@pytest.fixture(autouse=True, scope="session")
def compile_output_schemas_once() -> Iterator[None]:
    """The SDK client compiles and meta-validates each tool's output schema once per session, ~60 ms
    a tool; the suite opens hundreds of sessions on the same schemas. Results are still validated
    on every call, against a validator compiled once per distinct schema."""
    compile_schema = ClientSession._output_schema_validator
    compiled: dict[str, Any] = {}

    def once(session: ClientSession, name: str, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in compiled:
            compiled[key] = compile_schema(session, name, schema)
        return compiled[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClientSession, "_output_schema_validator", once)
        yield


@pytest.fixture(autouse=True, scope="session")
def no_user_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Before any fixture of wider scope than a test starts a server: the user's data folder holds
    their real audit log and delete budget, which tests must neither read nor spend."""
    folder = tmp_path_factory.mktemp("session-data")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AUDIT_LOG", "STATE_URL", "SANDBOX_DB"):
            patch.setenv(f"MCP_SEQUENCES_{name}", str(folder / name.lower()))
        patch.setenv("XDG_DATA_HOME", str(folder))  # the default data folder, for child processes too
        yield


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own settings must not leak into tests, nor tests write to the user's data folder."""
    for name in list(os.environ):
        if name.startswith((ENV_PREFIX, "ICLOUDREADY_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MCP_SEQUENCES_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("MCP_SEQUENCES_STATE_URL", str(tmp_path / "state.db"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster per test worker; skipped without the binaries, except in CI."""
    from tests.postgres import HOW_TO_RUN, binaries, remove, start_cluster  # it needs tests.processes, which needs us

    if binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(HOW_TO_RUN)
        pytest.skip(HOW_TO_RUN)
    cluster = start_cluster()
    yield cluster
    remove(cluster)


@pytest.fixture
def postgres_url(postgres: Cluster) -> str:
    """A fresh database of the cluster, for one test."""
    return postgres.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store behaviour runs against both backends: an embedded SQLite file and PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "shared-state.db")


@pytest.fixture
async def store(state_url: str) -> AsyncIterator[Store]:
    opened = await open_store(state_url)
    yield opened
    await opened.aclose()


@pytest.fixture
def sandbox() -> Starlette:
    app = create_sandbox_app(":memory:")
    yield app
    app.state.store.close()


@pytest.fixture
def api_url(sandbox: Starlette) -> Iterator[str]:
    """The sandbox served over a real socket on 127.0.0.1: an API reached by base URL and key."""
    server = uvicorn.Server(uvicorn.Config(sandbox, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def sandbox_settings(**overrides: object) -> Settings:
    return Settings(**({"base_url": SANDBOX_BASE_URL, "api_key": SANDBOX_API_KEY} | overrides))


def connect(sandbox: Starlette, mode: str, **client_options: object) -> Client:
    server = build_server(sandbox_settings(), transport=SandboxTransport(sandbox))
    return Client(server, mode=mode, **client_options)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def client(sandbox: Starlette, mode: str) -> AsyncIterator[Client]:
    async with connect(sandbox, mode) as c:
        yield c


def journal(sandbox: Starlette) -> list[tuple[str, str]]:
    """What reached the upstream, as (method, path) pairs."""
    return [(r.method, r.path) for r in sandbox.state.journal]


async def call(client: Client, tool: str, args: dict) -> dict:
    """Call a tool that must succeed; its text is the compact JSON of its structured content."""
    result = await client.call_tool(tool, args)
    assert result.is_error is False, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    assert "\n" not in result.content[0].text
    return result.structured_content


async def fail(client: Client, tool: str, args: dict) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error is True
    return result.content[0].text


def audit_lines() -> list[dict[str, Any]]:
    """The audit log this test's server wrote (clean_env points it into the test's tmp_path)."""
    path = Path(os.environ["MCP_SEQUENCES_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
