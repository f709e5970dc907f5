"""Many processes, one state store: budgets, confirmations and restores hold across all of them.

Replicas are real HTTP server processes on one PostgreSQL database, in front of one stand-in API
(the sandbox served on 127.0.0.1, whose journal shows every request that reached it). Clients send
each request to a different replica, as a round-robin load balancer would. Desktop clients are
real stdio processes on one SQLite file.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from starlette.applications import Starlette

from mcp_sequences.sandbox import SANDBOX_API_KEY, SandboxTransport
from mcp_sequences.server import build_server
from tests.conftest import SEEDED_IDS, call, fail, journal, sandbox_settings
from tests.postgres import Cluster
from tests.processes import HttpServer, child_env, launched
from tests.test_replicas import answer, ask, call_tool

STATE_KEY = "one key for every replica of this deployment, 32+ characters"
LIST_ARGS = {"limit": 1}


@dataclass
class Deployment:
    """Three replicas in front of one stand-in API; `next()` is the load balancer's round robin."""

    replicas: tuple[HttpServer, ...]
    api: Starlette
    turn: int = 0

    def next(self) -> HttpServer:
        self.turn += 1
        return self.replicas[self.turn % len(self.replicas)]

    def reached_api(self, method: str, path_prefix: str) -> int:
        return sum(1 for m, path in journal(self.api) if m == method and path.startswith(path_prefix))


def deploy(cluster: Cluster, api: Starlette, api_url: str, folder: Path, *flags: str) -> Iterator[Deployment]:
    state = cluster.create_database(f"replicas_{folder.name}".replace("-", "_"))
    env = {"MCP_SEQUENCES_STATE_KEY": STATE_KEY, "ICLOUDREADY_API_KEY": SANDBOX_API_KEY}
    replicas = tuple(
        HttpServer(folder / name, state=state, upstream=api_url, flags=("--stateless", *flags), env=env)
        for name in ("a", "b", "c")
    )
    for replica in replicas:
        replica.folder.mkdir()
    with launched(*replicas):
        for replica in replicas:
            replica.wait_until_listening()
        yield Deployment(replicas, api)


@pytest.fixture
def paced(postgres: Cluster, sandbox: Starlette, api_url: str, tmp_path: Path) -> Iterator[Deployment]:
    yield from deploy(postgres, sandbox, api_url, tmp_path, "--rate-per-minute", "20", "--max-rate-wait", "0")


@pytest.fixture
def guarded(postgres: Cluster, sandbox: Starlette, api_url: str, tmp_path: Path) -> Iterator[Deployment]:
    yield from deploy(postgres, sandbox, api_url, tmp_path, "--max-deletes", "2")


def test_the_combined_rate_of_three_replicas_never_exceeds_the_budget(paced: Deployment) -> None:
    replies = [call_tool(paced.next(), "list_sequences", LIST_ARGS)["result"] for _ in range(36)]
    served = [reply for reply in replies if not reply["isError"]]
    refused = [reply for reply in replies if reply["isError"]]
    # All 36 calls fall in one minute: 20 reach the API, whichever replica got them; the rest wait no
    # longer than --max-rate-wait 0 allows, so they are refused with the wait.
    assert paced.reached_api("GET", "/api/v2/sequences") == 20 == len(served)
    assert all("20 requests a minute" in reply["content"][0]["text"] for reply in refused)


def delete_across(deployment: Deployment, sequence_id: str) -> dict[str, Any]:
    """Round one on one replica, round two (the person typing the name) on the next."""
    question = ask(deployment.next(), sequence_id)
    return answer(deployment.next(), sequence_id, question, question.name)["result"]


def test_max_deletes_2_allows_exactly_2_deletes_across_replicas(guarded: Deployment) -> None:
    first, second = (delete_across(guarded, sequence_id) for sequence_id in SEEDED_IDS[:2])
    assert first["structuredContent"]["deleted"] is True and second["structuredContent"]["deleted"] is True
    # The budget is spent: the third is refused before anyone is asked, on whichever replica.
    third = call_tool(guarded.next(), "delete_sequence", {"id": SEEDED_IDS[2]})["result"]
    assert third["isError"] is True and "2 deletes an hour (--max-deletes" in third["content"][0]["text"]
    assert guarded.reached_api("DELETE", "/api/v2/sequences/deleted/") == 2


def test_a_delete_on_one_replica_is_restored_once_when_two_others_race(guarded: Deployment) -> None:
    sequence_id = SEEDED_IDS[0]
    assert delete_across(guarded, sequence_id)["structuredContent"]["deleted"] is True
    racers, replies = guarded.replicas[1:], []
    barrier = threading.Barrier(len(racers))

    def restore(replica: HttpServer) -> None:
        barrier.wait()
        replies.append(call_tool(replica, "restore_sequence", {"id": sequence_id})["result"])

    threads = [threading.Thread(target=restore, args=(replica,)) for replica in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(reply["isError"] for reply in replies) == [False, True]
    [loser] = [reply for reply in replies if reply["isError"]]
    assert "restored" in loser["content"][0]["text"]
    assert guarded.reached_api("POST", "/api/v2/sequences") == 1  # re-created once
    again = call_tool(guarded.next(), "restore_sequence", {"id": sequence_id})["result"]
    assert again["isError"] is True and "was already restored" in again["content"][0]["text"]


@pytest.mark.anyio
async def test_stdio_processes_on_one_sqlite_store_share_one_budget(tmp_path: Path) -> None:
    """Claude Desktop, Cursor and Claude Code each start their own server with the same key."""
    state = str(tmp_path / "state.db")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_sequences", "--sandbox", "--sandbox-db", ":memory:", "--state-url", state,
              "--audit-log", str(tmp_path / "audit.jsonl"), "--rate-per-minute", "5", "--max-rate-wait", "0"],
        env=child_env(),
    )  # fmt: skip
    outcomes: list[bool] = []

    async def desktop_client() -> None:
        async with Client(params) as client:
            for _ in range(3):
                outcomes.append((await client.call_tool("list_sequences", LIST_ARGS)).is_error is False)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(desktop_client)
    assert outcomes.count(True) == 5 and len(outcomes) == 9


@pytest.mark.anyio
async def test_a_store_that_goes_down_refuses_writes_serves_reads_and_recovers(
    postgres: Cluster, postgres_url: str, sandbox: Starlette
) -> None:
    settings = sandbox_settings(state_url=postgres_url, delete_policy="allow")
    patch = {"id": SEEDED_IDS[1], "priority": "low"}
    async with Client(build_server(settings, transport=SandboxTransport(sandbox))) as client:
        await call(client, "list_sequences", LIST_ARGS)
        postgres.stop()
        try:
            await call(client, "list_sequences", LIST_ARGS)  # reads keep working, paced in this process
            await call(client, "get_sequence", {"id": SEEDED_IDS[0]})
            for tool, args in (("patch_sequence", patch), ("delete_sequence", {"id": SEEDED_IDS[0]})):
                text = await fail(client, tool, args)
                assert "audit store unreachable: nothing was sent" in text, text
                assert "Traceback" not in text and os.sep + "data" not in text
        finally:
            postgres.start()
        assert not [entry for entry in journal(sandbox) if entry[0] in ("PATCH", "DELETE")]
        for _ in range(50):  # recovered, in the same process: the store is tried again every second
            if not (result := await client.call_tool("patch_sequence", patch)).is_error:
                break
            await anyio.sleep(0.2)
        assert result.is_error is False, result.content[0].text
        assert [entry for entry in journal(sandbox) if entry[0] == "PATCH"] == [
            ("PATCH", f"/api/v2/sequences/{patch['id']}")
        ]
