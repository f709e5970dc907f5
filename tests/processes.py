"""Servers in subprocesses, as clients launch them: each known by its sandbox database and audit log.

Shared by the tests that need a real process (stdio, HTTP, replicas, the confirmation matrix).
Every server binds 127.0.0.1 and is stopped (killed if it must be) when its test is done.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import SEEDED_IDS

SERVE = [sys.executable, "-m", "mcp_sequences", "--sandbox"]
START_TIMEOUT = 20.0


def child_env() -> dict[str, str]:
    """Only what a child needs: the developer's MCP_SEQUENCES_* settings must not reach it."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "SYSTEMROOT", "XDG_DATA_HOME") if name in os.environ}


def free_port() -> int:
    """A port nothing listens on now: only for what must bind itself (nginx, PostgreSQL) or stay unanswered.

    Our own servers bind port 0 and announce it instead: a picked-then-released port can be taken
    by another worker before the child binds it; here a lost race shows as a failed start.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What the server writes on stderr once it is serving (never before): the only proof that a port
# belongs to *this* child, when other workers' servers listen on the same machine.
ANNOUNCED = re.compile(rb"streamable HTTP at http://127\.0\.0\.1:(\d+)/mcp")


@dataclass
class Remote:
    """A server in a subprocess, known by its files: the sandbox database and the audit log it appends to."""

    folder: Path
    db: Path | None = None
    unused: list[str] = field(default_factory=lambda: list(SEEDED_IDS))
    state: str | None = None  # a shared state store; by default one of its own, in its folder
    upstream: str | None = None  # an API (stand-in) to call instead of the in-process sandbox

    def __post_init__(self) -> None:
        self.db = self.db or self.folder / "sandbox.db"

    @property
    def audit_log(self) -> Path:
        return self.folder / "audit.jsonl"

    @property
    def state_url(self) -> str:
        return self.state or str(self.folder / "state.db")

    def command(self, *flags: str) -> list[str]:
        files = ["--audit-log", str(self.audit_log), "--state-url", self.state_url]
        api = ["--sandbox-db", str(self.db)] if self.upstream is None else ["--base-url", self.upstream]
        return [*(SERVE if self.upstream is None else SERVE[:-1]), *api, *files, *flags]

    def take(self) -> str:
        """A sequence of this database that no other cell has touched."""
        assert self.unused, f"no unused sequence left in {self.db}"
        return self.unused.pop(0)

    def audit(self) -> list[dict[str, Any]]:
        lines = self.audit_log.read_text().splitlines() if self.audit_log.exists() else []
        return [json.loads(line) for line in lines]


@dataclass
class HttpServer(Remote):
    """A streamable HTTP server process on 127.0.0.1, with extra `flags` and `env` variables.

    It binds port 0 (the system picks a free one) and says which on stderr, so no port is ever
    picked, released and raced for by another worker's child.
    """

    flags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None  # known once the child has announced it
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, "wait_until_listening() first"
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def stderr(self) -> Path:
        return self.folder / "stderr.txt"

    def start(self) -> None:
        command = self.command("--transport", "http", "--port", "0", *self.flags)
        with self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=stderr, env=child_env() | self.env
            )

    def wait_until_listening(self) -> None:
        """Until the child announces the port it has bound (it announces only after binding)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.stderr.read_text()
            announced = ANNOUNCED.search(self.stderr.read_bytes())
            if announced:
                self.port = int(announced.group(1))
                return
            time.sleep(0.05)
        raise TimeoutError(f"no server announced after {START_TIMEOUT} s: {self.stderr.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def reap(self) -> None:
        """Wait for a stopped process; kill it if it will not go."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def launched(*servers: HttpServer) -> Iterator[None]:
    """Start the processes without waiting for them (start-up is mostly imports), and stop them all after."""
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            server.reap()


def deletes_audited(lines: list[dict[str, Any]], sequence_id: str) -> list[tuple[str, bool]]:
    return [
        (entry["outcome"], entry["deletes"])
        for entry in lines
        if entry["tool"] == "delete_sequence" and entry["sequence_id"] == sequence_id
    ]


def serving(folder: Path, *flags: str, **env: str) -> Iterator[HttpServer]:
    """An HTTP server process for the tests that use it; stopped after them."""
    server = HttpServer(folder, flags=flags, env=env)
    with launched(server):
        server.wait_until_listening()
        yield server


@dataclass
class ApiServer(HttpServer):
    """An HTTP server process for a real API at `base_url` (a stand-in on 127.0.0.1), not the sandbox."""

    base_url: str = ""

    def command(self, *flags: str) -> list[str]:
        return [*SERVE[:-1], "--audit-log", str(self.audit_log), *flags]

    def start(self) -> None:
        self.env = {"ICLOUDREADY_BASE_URL": self.base_url, "ICLOUDREADY_API_KEY": "stand-in-key"} | self.env
        super().start()
