"""SQLite persistence for the sandbox.

Records are stored as JSON documents so that unknown fields pass through
untouched; the store alone owns ids and timestamps.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sequences (
    id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at TEXT, updated_at TEXT
);
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at TEXT
);
"""
_MANAGED_KEYS = ("id", "createdAt", "updatedAt")


def new_id() -> str:
    """24 lowercase hex chars, the shape of the real API's (Mongo-style) ids."""
    return secrets.token_hex(12)


def utc_now() -> str:
    """ISO-8601 UTC with a Z suffix and milliseconds, as the real API emits."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


def _client_fields(fields: Record) -> Record:
    """Drop keys clients may not set, so ids and timestamps stay trustworthy."""
    return {key: value for key, value in fields.items() if key not in _MANAGED_KEYS}


class SequenceStore:
    """Thread-safe CRUD over sequences and activities in one SQLite database."""

    def __init__(self, db_path: str | os.PathLike[str] = ":memory:") -> None:
        path = os.fspath(db_path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The ASGI app may be driven from several threads (e.g. anyio workers).
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def seed(self, records: Iterable[Record], *, reset: bool = False) -> bool:
        """Insert records verbatim, only into an empty database, or after emptying it (`reset`).

        Keeps a persistent file's user changes across restarts unless told to reset; returns
        whether anything was inserted.
        """
        with self._lock, self._conn:
            # Take the write lock before looking: two processes opening one new file must not both seed it.
            self._conn.execute("BEGIN IMMEDIATE")
            if reset:
                self._conn.execute("DELETE FROM sequences")
                self._conn.execute("DELETE FROM activities")
            elif self._conn.execute("SELECT 1 FROM sequences LIMIT 1").fetchone():
                return False
            for record in records:
                self._insert_sequence(record)
            return True

    def list_sequences(self) -> list[Record]:
        """All sequences in insertion order (callers sort, filter and page)."""
        with self._lock:
            rows = self._conn.execute("SELECT data FROM sequences ORDER BY rowid")
            return [json.loads(data) for (data,) in rows.fetchall()]

    def get_sequence(self, seq_id: str) -> Record | None:
        with self._lock:
            return self._get_sequence(seq_id)

    def create_sequence(self, fields: Record) -> Record:
        now = utc_now()
        record = {"id": new_id(), **_client_fields(fields), "createdAt": now, "updatedAt": now}
        with self._lock, self._conn:
            self._insert_sequence(record)
        return record

    def replace_sequence(self, seq_id: str, fields: Record) -> Record | None:
        """Full replace: only the given fields survive; None if absent."""
        return self._rewrite(seq_id, lambda _current: fields)

    def update_sequence(self, seq_id: str, changes: Record) -> Record | None:
        """Merge: only the given keys change; None if absent."""
        return self._rewrite(seq_id, lambda current: {**current, **changes})

    def delete_sequence(self, seq_id: str) -> bool:
        with self._lock, self._conn:
            cursor = self._conn.execute("DELETE FROM sequences WHERE id = ?", (seq_id,))
            return cursor.rowcount > 0

    def create_activity(self, fields: Record) -> Record:
        record = {"id": new_id(), **_client_fields(fields), "createdAt": utc_now()}
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO activities (id, data, created_at) VALUES (?, ?, ?)",
                (record["id"], json.dumps(record), record["createdAt"]),
            )
        return record

    def _rewrite(self, seq_id: str, build: Callable[[Record], Record]) -> Record | None:
        """Read-modify-write under one lock so concurrent edits cannot interleave."""
        with self._lock, self._conn:
            current = self._get_sequence(seq_id)
            if current is None:
                return None
            record = {
                "id": seq_id,
                **_client_fields(build(current)),
                "createdAt": current["createdAt"],
                "updatedAt": utc_now(),
            }
            self._conn.execute(
                "UPDATE sequences SET data = ?, updated_at = ? WHERE id = ?",
                (json.dumps(record), record["updatedAt"], seq_id),
            )
            return record

    def _get_sequence(self, seq_id: str) -> Record | None:
        row = self._conn.execute("SELECT data FROM sequences WHERE id = ?", (seq_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _insert_sequence(self, record: Record) -> None:
        self._conn.execute(
            "INSERT INTO sequences (id, data, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (record["id"], json.dumps(record), record["createdAt"], record["updatedAt"]),
        )
