"""The embedded store: one SQLite file shared by every local process of the user.

WAL mode lets readers run beside the one writer; `BEGIN IMMEDIATE` takes the write lock at the
start of each script, so two processes never admit the same request slot; the busy timeout makes
a process wait its turn instead of failing. Calls run in a worker thread, one at a time per
process (a sqlite3 connection is not for concurrent use), so the event loop never blocks on a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TypeVar

import anyio

from mcp_sequences.files import private_file
from mcp_sequences.store.base import Script, Store, StoreUnavailable, migrations, statements

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"


class SQLiteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.description = f"the SQLite store {path}"
        if path != MEMORY:
            private_file(path)  # it holds audit records: contacts' names and emails
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._wal()
        self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL keeps it consistent; a power cut may lose the last
        self._lock = threading.Lock()
        self._migrate()

    def _wal(self) -> None:
        """Switch to WAL, waiting out another process doing the same: that switch needs the file to
        itself and fails at once with "database is locked" instead of honouring busy_timeout (seen
        when several servers start on one new store)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def memory(cls) -> SQLiteStore:
        """A store private to this process (a stand-in when the shared one is unreachable)."""
        return cls(MEMORY)

    async def run(self, script: Script[T], lock: str | None = None) -> T:
        return await anyio.to_thread.run_sync(self._run_now, script)

    def _run_now(self, script: Script[T]) -> T:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = _drive(script, self._conn)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"{self.description} cannot be used ({exc})") from exc
            return result

    async def ping(self) -> None:
        await self.run(_ping())

    async def aclose(self) -> None:
        with self._lock:
            self._conn.close()

    def _migrate(self) -> None:
        """Apply the migrations this file lacks, once, whichever process starts first."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
            done = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
            for version, script in migrations(self.dialect):
                if version not in done:
                    for statement in statements(script):
                        self._conn.execute(statement)
                    self._conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
            self._conn.execute("COMMIT")


def _ping() -> Script[None]:
    yield "SELECT 1", ()


def _drive(script: Script[T], conn: sqlite3.Connection) -> T:
    try:
        sql, params = next(script)
        while True:
            sql, params = script.send(conn.execute(sql, params).fetchall())
    except StopIteration as done:
        return done.value
