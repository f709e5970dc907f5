"""A throwaway PostgreSQL cluster for the tests: Debian's initdb/pg_ctl, a free port, a temporary folder.

One cluster per test worker (session fixture in conftest.py); each test that needs a clean slate
gets its own database in it. As root, the cluster runs as the `postgres` user (initdb refuses root).
Without the binaries the tests skip with how to get them, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port

HOW_TO_RUN = (
    "PostgreSQL tests need Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin): "
    "sudo apt-get install -y postgresql, then run the tests again"
)
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1"


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    """A running cluster; `url(db)` reaches one of its databases as the `postgres` superuser."""

    bin: Path
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"{SERVER_OPTIONS} -p {self.port} -k {self.folder}"
        log = str(self.folder / "server.log")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_cluster() -> Cluster:
    """initdb and start; the folder is made readable by the `postgres` user when running as root."""
    bin_dir = binaries()
    assert bin_dir is not None, HOW_TO_RUN
    folder = Path(tempfile.mkdtemp(prefix="mcp-sequences-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(bin_dir, folder, free_port())
    cluster.init()
    cluster.start()
    return cluster


def remove(cluster: Cluster) -> None:
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.folder, ignore_errors=True)
