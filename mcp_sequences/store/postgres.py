"""The store for replicas on several machines: PostgreSQL through a psycopg 3 async pool.

Each script is one transaction; scripts that must not interleave (budgets) first take a
transaction-scoped advisory lock on their key, which PostgreSQL releases at commit or on a lost
connection. The pool checks a connection before lending it, so after a database restart the
next call reconnects instead of failing.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mcp_sequences.store.base import Script, Store, StoreUnavailable, migrations, statements

T = TypeVar("T")
CONNECT_TIMEOUT = 3  # seconds; a write waits no longer than this for a store that is down
MAX_CONNECTIONS = 10
MIGRATION_LOCK = "schema migrations"


class PostgresStore(Store):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.description = f"the PostgreSQL store {_where(url)}"
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=MAX_CONNECTIONS,
            open=False,
            check=AsyncConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
        )

    async def open(self) -> PostgresStore:
        try:
            await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
        except PoolTimeout as exc:
            await self._pool.close()
            raise StoreUnavailable(f"{self.description} cannot be reached") from exc
        await self.run(_migrate(), lock=MIGRATION_LOCK)
        return self

    async def run(self, script: Script[T], lock: str | None = None) -> T:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                if lock is not None:
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                return await _drive(script, conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreUnavailable(f"{self.description} cannot be used ({type(exc).__name__})") from exc

    async def ping(self) -> None:
        await self.run(_ping())

    async def aclose(self) -> None:
        await self._pool.close()


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
