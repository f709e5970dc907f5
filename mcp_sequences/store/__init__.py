"""Shared state: rate and delete budgets, audit records, restore claims, used confirmation states.

`--state-url` picks the backend: a file path or `sqlite:///path` for the embedded store (the
default, shared by the user's local processes), `postgresql://...` for replicas on several
machines. Both apply their migrations at start-up and behave the same (base.py).
"""

from __future__ import annotations

import hashlib
import sqlite3

from mcp_sequences.store.base import AuditRow, Grant, Store, StoreUnavailable, Unused
from mcp_sequences.store.sqlite import SQLiteStore

__all__ = ["AuditRow", "Grant", "Store", "StoreUnavailable", "SQLiteStore", "Unused", "open_store", "fingerprint"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


async def open_store(url: str) -> Store:
    """Connect and migrate; raises StoreUnavailable when the store cannot be reached."""
    if url.startswith(POSTGRES_SCHEMES):
        from mcp_sequences.store.postgres import PostgresStore  # psycopg is loaded only when used

        return await PostgresStore(url).open()
    path = url.removeprefix(SQLITE_SCHEME)
    try:
        return SQLiteStore(path)
    except (sqlite3.Error, OSError) as exc:
        raise StoreUnavailable(f"the SQLite store {path} cannot be opened ({exc})") from exc


def fingerprint(*parts: str) -> str:
    """A key naming a credential in the store without holding it: a hash nobody can reverse."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
