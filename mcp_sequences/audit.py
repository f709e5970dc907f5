"""The audit log: one record per write, with the record as it was, so deletes can be undone.

The records live in the state store (append-only, indexed by sequence id, tool, caller and
time), shared by every process and replica: restore finds a delete with one indexed query, and
a delete is restored once wherever the restore is asked (a unique claim in the store). Each
record is also appended to a JSON-lines mirror (`--audit-log`) for log shippers and grep, rotated
as it grows; nothing reads the mirror back. Bodies are the caller's own data, capped per line
(a large value is kept as its hash and size); no header or key is ever written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from pydantic import BaseModel, Field

from mcp_sequences.files import private_dir, private_file
from mcp_sequences.store import AuditRow, Store, StoreUnavailable

Outcome = Literal["ok", "refused", "failed", "unknown"]
logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 16_000  # a body longer than this keeps its small fields, and hashes of the large ones
MAX_FIELD_CHARS = 1_000
MAX_MIRROR_BEFORE_CHARS = 64_000  # the mirror's copy of a larger record is its hash (the store keeps it whole)
MIRROR_MAX_BYTES = 16 * 1024 * 1024  # the mirror is rotated at this size ...
MIRROR_BACKUPS = 4  # ... keeping audit.jsonl.1 (newest) to .4
RENAME_WINDOW = 24 * 3600.0
MAX_LISTED_DELETIONS = 1000
RENAMING_TOOLS = ("patch_sequence", "update_sequence")
UNREACHABLE = "audit store unreachable: nothing was sent"


class AuditError(Exception):
    """The audit log cannot be written; writes are refused rather than made without a record."""


class AuditEntry(BaseModel):
    """One write, whatever became of it."""

    id: int | None = Field(None, exclude=True, description="Row id in the store (order of writing), once stored.")
    time: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    tool: str
    sequence_id: str | None = None
    caller: str | None = Field(None, description="Client id of the authenticated HTTP caller, when there is one.")
    method: str
    path: str
    body: Any = None
    outcome: Outcome
    detail: str | None = Field(None, description="Why it was refused or failed; the new id of a restore.")
    before: dict[str, Any] | None = Field(None, description="The record as it was before an update, patch or delete.")
    deletes: bool = Field(
        False, description="True for a delete, done or attempted, including deleted=true through PUT or PATCH."
    )


class AuditLog:
    """Audit records in the shared store, mirrored to a rotated JSON-lines file."""

    def __init__(self, store: Store, mirror: str | Path | None = None) -> None:
        self.store = store
        self.mirror = Path(mirror) if mirror is not None else None
        self._lock = threading.Lock()
        # Other processes of the user (each desktop client starts its own server) share the mirror.
        self._shared = FileLock(f"{mirror}.lock", mode=0o600) if mirror is not None else None

    async def check_writable(self) -> None:
        """Checked before a write is sent, so that no write goes out without its record."""
        try:
            await self.store.ping()
        except StoreUnavailable as exc:
            raise AuditError(f"{UNREACHABLE} ({exc})") from exc

    async def record(self, entry: AuditEntry) -> None:
        entry = entry.model_copy(update={"body": compact_body(entry.body)})
        fields = entry.model_dump(include={"sequence_id", "tool", "caller", "outcome", "deletes"})
        try:
            await self.store.append_audit(time.time(), fields | {"has_before": entry.before is not None}, _json(entry))
        except StoreUnavailable as exc:
            raise AuditError(
                f"{entry.tool} was {'sent' if entry.outcome != 'refused' else 'refused'} ({entry.outcome}), "
                f"but its audit record could not be written: {exc}"
            ) from exc
        self._mirror(entry)

    async def deletion_of(self, sequence_id: str) -> tuple[AuditEntry | None, AuditEntry | None]:
        """The last successful delete of this id, and the restore that already undid it, if any."""
        deleted, restored = await self._read(self.store.last_deletion(sequence_id))
        return _entry(deleted), _entry(restored)

    async def deletions(self, limit: int = MAX_LISTED_DELETIONS) -> list[tuple[AuditEntry, AuditEntry | None]]:
        """The last delete of each sequence (up to `limit`), newest first, each with its restore if any."""
        rows = await self._read(self.store.deletions(limit))
        return [(_parsed(deleted), _entry(restored)) for deleted, restored in rows]

    async def claim_restore(self, deleted: AuditEntry) -> bool:
        """Only one restore of a delete may go out, whichever replica is asked: False if one has."""
        assert deleted.id is not None, "a delete read back from the store"
        return await self._write(self.store.claim_restore(deleted.id, time.time()))

    async def release_restore(self, deleted: AuditEntry) -> None:
        assert deleted.id is not None, "a delete read back from the store"
        await self._write(self.store.release_restore(deleted.id))

    async def name_before_renames(self, sequence_id: str) -> str | None:
        """The name the sequence had before renames made through this server in the last 24 hours."""
        rows = await self._read(self.store.changes_since(sequence_id, time.time() - RENAME_WINDOW, RENAMING_TOOLS))
        for entry in map(_parsed, rows):
            old = (entry.before or {}).get("name")
            if isinstance(entry.body, dict) and "name" in entry.body and entry.body["name"] != old:
                return old if isinstance(old, str) else None
        return None

    async def _read(self, pending: Any) -> Any:
        try:
            return await pending
        except StoreUnavailable as exc:
            raise AuditError(f"the audit records cannot be read: {exc}") from exc

    async def _write(self, pending: Any) -> Any:
        try:
            return await pending
        except StoreUnavailable as exc:
            raise AuditError(f"{UNREACHABLE} ({exc})") from exc

    def _mirror(self, entry: AuditEntry) -> None:
        """Append to the mirror; a mirror that cannot be written is logged, not fatal (the store has it)."""
        if self.mirror is None or self._shared is None:  # set together
            return
        line = _json(entry.model_copy(update={"before": compact_before(entry.before)})) + "\n"
        try:
            with self._lock:
                private_dir(self.mirror.parent)  # before the lock file appears in it
                with self._shared:
                    _rotate(self.mirror)
                    with private_file(self.mirror).open("ab") as file:
                        file.write(line.encode("utf-8"))
        except OSError as exc:
            logger.error("the audit mirror %s cannot be written (%s); the store has the record", self.mirror, exc)


def compact_body(body: Any) -> Any:
    """A body fit for one audit line: as sent when small; else its small fields and hashes of the rest."""
    if len(_dumps(body)) <= MAX_BODY_CHARS:
        return body
    if isinstance(body, dict):
        return {key: value if len(_dumps(value)) <= MAX_FIELD_CHARS else digest(value) for key, value in body.items()}
    return digest(body)


def compact_before(before: dict[str, Any] | None) -> dict[str, Any] | None:
    if before is None or len(_dumps(before)) <= MAX_MIRROR_BEFORE_CHARS:
        return before
    return digest(before) | {"kept": "whole in the state store, which restore_sequence reads"}


def digest(value: Any) -> dict[str, Any]:
    """What stands in for a value too large for the log: enough to recognise it, not to read it."""
    text = _dumps(value).encode("utf-8")
    return {"omitted": True, "sha256": hashlib.sha256(text).hexdigest(), "bytes": len(text)}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _json(entry: AuditEntry) -> str:
    try:
        return entry.model_dump_json()
    except ValueError as exc:  # an entry pydantic cannot serialise
        raise AuditError(f"the audit record of {entry.tool} cannot be written ({exc})") from exc


def _entry(row: AuditRow | None) -> AuditEntry | None:
    return _parsed(row) if row is not None else None


def _parsed(row: AuditRow) -> AuditEntry:
    return AuditEntry.model_validate_json(row.entry).model_copy(update={"id": row.id})


def _rotate(path: Path) -> None:
    """Shift audit.jsonl -> .1 -> .2 ... once it has grown past MIRROR_MAX_BYTES; the oldest goes."""
    try:
        if path.stat().st_size < MIRROR_MAX_BYTES:
            return
    except FileNotFoundError:
        return
    for number in range(MIRROR_BACKUPS - 1, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{number + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))
