"""deploy/nginx.conf, as the README's replica layout uses it: nginx in front of three replicas.

2026-07-28 requests go round robin, handshake-era sessions stay on one replica, and the
operations endpoints are not served to clients. Needs nginx (Debian's nginx-light); without it
the test skips saying so, except in CI, where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from mcp_sequences.sandbox import create_sandbox_app
from tests.conftest import FIRST_ID
from tests.operations.test_metrics import samples
from tests.processes import HttpServer, free_port, launched
from tests.test_server_shutdown import call_tool

pytestmark = pytest.mark.anyio

NGINX_CONF = Path(__file__).parent.parent / "deploy" / "nginx.conf"
SHIPPED_PORTS = (8001, 8002, 8003)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[HttpServer]]]:
    """nginx with deploy/nginx.conf (its ports changed) before three replicas of one sandbox; nginx's /mcp URL."""
    if shutil.which("nginx") is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing in CI: .ci/run installs nginx-light")
        pytest.skip("needs nginx: sudo apt-get install -y nginx-light, then run the tests again")
    db = tmp_path_factory.mktemp("shared") / "sandbox.db"
    create_sandbox_app(db).state.store.close()
    replicas = [HttpServer(tmp_path_factory.mktemp(f"r{n}"), db=db, flags=("--metrics",)) for n in range(3)]
    prefix, port = tmp_path_factory.mktemp("nginx"), free_port()
    (prefix / "tmp").mkdir()
    with launched(*replicas):
        for replica in replicas:
            replica.wait_until_listening()  # each binds port 0 and says which: known only now
        conf = NGINX_CONF.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        for shipped, replica in zip(SHIPPED_PORTS, replicas, strict=True):
            conf = conf.replace(f"127.0.0.1:{shipped} ", f"127.0.0.1:{replica.port} ")
        (prefix / "nginx.conf").write_text(conf)
        nginx = subprocess.Popen(["nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"])
        try:
            wait_for_nginx(port)
            yield f"http://127.0.0.1:{port}/mcp", replicas
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def wait_for_nginx(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)


def calls_served(replica: HttpServer) -> float:
    text = httpx.get(replica.url.removesuffix("/mcp") + "/metrics", timeout=10).text
    return sum(value for (name, _), value in samples(text).items() if name == "mcp_sequences_tool_calls_total")


async def test_modern_requests_go_round_robin(front: tuple[str, list[HttpServer]]) -> None:
    url, replicas = front
    before = [calls_served(r) for r in replicas]
    for _ in range(6):
        reply = await call_tool(url, "get_sequence", {"id": FIRST_ID})
        assert reply["result"]["isError"] is False
    assert [calls_served(r) - b for r, b in zip(replicas, before, strict=True)] == [2, 2, 2]


async def test_a_handshake_era_session_stays_on_one_replica(front: tuple[str, list[HttpServer]]) -> None:
    url, replicas = front
    before = [calls_served(r) for r in replicas]
    async with Client(url, mode="legacy") as client:  # a session on another replica would be unknown: 404
        for _ in range(4):
            assert not (await client.call_tool("get_sequence", {"id": FIRST_ID})).is_error
    assert sorted(calls_served(r) - b for r, b in zip(replicas, before, strict=True)) == [0, 0, 4]


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz"])
def test_operations_endpoints_are_not_served_to_clients(front: tuple[str, list[HttpServer]], path: str) -> None:
    url, replicas = front
    assert httpx.get(url.removesuffix("/mcp") + path, timeout=10).status_code == 404
    assert httpx.get(replicas[0].url.removesuffix("/mcp") + path, timeout=10).status_code == 200
