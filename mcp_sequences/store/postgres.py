"""The store for replicas on several machines: PostgreSQL through a psycopg 3 async pool.

Each script is one transaction; scripts that must not interleave (budgets) first take a
transaction-scoped advisory lock on their key, which PostgreSQL releases at commit or on a lost
connection. The pool checks a connection before lending it; a pool whose database went away is
dropped, and a new one is made once the database answers again.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any, TypeVar

import anyio
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mcp_sequences.store.base import Script, Store, StoreUnavailable, migrations, statements

T = TypeVar("T")
CONNECT_TIMEOUT = 3  # seconds; a write waits no longer than this for a store that is down
MAX_CONNECTIONS = 10
# No store call may hold a tool call for long: a stuck lock or statement fails instead.
SESSION_OPTIONS = "-c lock_timeout=3000 -c statement_timeout=5000 -c idle_in_transaction_session_timeout=10000"
RETRY_EVERY = 1.0  # seconds between attempts to reach a database that is down
MIGRATION_LOCK = "schema migrations"


class PostgresStore(Store):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.description = f"the PostgreSQL store {_where(url)}"
        self._url = url
        self._pool: AsyncConnectionPool | None = None
        self._retry_at = 0.0
        self._connecting = anyio.Lock()

    async def open(self) -> PostgresStore:
        await self.run(_migrate(), lock=MIGRATION_LOCK)
        return self

    async def run(self, script: Script[T], lock: str | None = None) -> T:
        pool = await self._connected()
        try:
            async with pool.connection() as conn, conn.transaction():
                if lock is not None:
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                return await _drive(script, conn)
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            await self._lost(pool)
            raise self._unavailable(exc) from exc
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc

    async def ping(self) -> None:
        await self.run(_ping())

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def _connected(self) -> AsyncConnectionPool:
        """The pool, (re)made after a probe connects; while the database is down, a call fails at
        once and one call a second tries again, so reads are not held and recovery is quick."""
        async with self._connecting:
            if self._pool is not None:
                return self._pool
            if time.monotonic() < self._retry_at:
                raise StoreUnavailable(f"{self.description} is unreachable (trying again every {RETRY_EVERY:g} s)")
            self._retry_at = time.monotonic() + RETRY_EVERY
            try:
                probe = await psycopg.AsyncConnection.connect(self._url, connect_timeout=CONNECT_TIMEOUT)
                await probe.close()
                pool = AsyncConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=MAX_CONNECTIONS,
                    open=False,
                    check=AsyncConnectionPool.check_connection,
                    timeout=CONNECT_TIMEOUT,
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "options": SESSION_OPTIONS},
                )
                try:
                    await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
                except PoolTimeout:
                    await pool.close(timeout=0)
                    raise
            except (psycopg.Error, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc
            self._pool = pool
            return pool

    async def _lost(self, pool: AsyncConnectionPool) -> None:
        """Drop a pool whose database went away; the next call after RETRY_EVERY makes a new one."""
        async with self._connecting:
            if self._pool is pool:
                self._pool = None
        await pool.close(timeout=0)

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"{self.description} cannot be used ({type(exc).__name__})")


def _ping() -> Script[None]:
    yield "SELECT 1", ()


def _migrate() -> Script[None]:
    yield "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", ()
    done = {row[0] for row in (yield "SELECT version FROM schema_migrations", ())}
    for version, script in migrations(PostgresStore.dialect):
        if version not in done:
            for statement in statements(script):
                yield statement, ()
            yield "INSERT INTO schema_migrations (version) VALUES (?)", (version,)


async def _drive(script: Script[T], conn: psycopg.AsyncConnection[Any]) -> T:
    try:
        sql, params = next(script)
        while True:
            cursor = await conn.execute(_placeholders(sql), params)
            sql, params = script.send(await cursor.fetchall() if cursor.description else [])
    except StopIteration as done:
        return done.value


@cache
def _placeholders(sql: str) -> str:
    """The scripts' `?` placeholders in psycopg's spelling (no script has a literal `?` or `%`)."""
    return sql.replace("?", "%s")


def _where(url: str) -> str:
    """Host, port and database of a URL: enough to find it, without the password."""
    info = conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
