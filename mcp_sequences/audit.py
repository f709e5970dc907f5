"""The audit log: one JSON line per write, with the record as it was, so deletes can be undone.

Append-only JSON lines are easy to ship to a log pipeline, to grep, and to read back for
`restore_sequence`. Bodies are the caller's own data; no header or key is ever written.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal["ok", "refused", "failed"]


class AuditEntry(BaseModel):
    """One write, whatever became of it."""

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
    deletes: bool = Field(False, description="True for a delete, including deleted=true through PUT or PATCH.")


class AuditLog:
    """Appends entries to a JSON-lines file; safe to share between the sessions of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        line = entry.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)

    def entries(self) -> list[AuditEntry]:
        if not self.path.exists():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [AuditEntry.model_validate(json.loads(line)) for line in lines if line.strip()]

    def deletion_of(self, sequence_id: str) -> tuple[AuditEntry | None, AuditEntry | None]:
        """The last successful delete of this id, and the restore that already undid it, if any."""
        deleted: AuditEntry | None = None
        restored: AuditEntry | None = None
        for entry in self.entries():
            if entry.sequence_id != sequence_id or entry.outcome != "ok":
                continue
            if entry.deletes and entry.before is not None:
                deleted, restored = entry, None
            elif entry.tool == "restore_sequence" and deleted is not None:
                restored = entry
        return deleted, restored
