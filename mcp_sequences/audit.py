"""The audit log: one JSON line per write, with the record as it was, so deletes can be undone.

Append-only JSON lines are easy to ship to a log pipeline, to grep, and to read back for
`restore_sequence`. Bodies are the caller's own data; no header or key is ever written.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field

from mcp_sequences.files import private_file

Outcome = Literal["ok", "refused", "failed", "unknown"]
logger = logging.getLogger(__name__)


class AuditError(Exception):
    """The audit log cannot be written; writes are refused rather than made without a record."""


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
    deletes: bool = Field(
        False, description="True for a delete, done or attempted, including deleted=true through PUT or PATCH."
    )


class AuditLog:
    """Appends entries to a JSON-lines file; safe to share between the sessions of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def check_writable(self) -> None:
        """Checked before a write is sent, so that no write goes out without its record."""
        try:
            with self._lock:
                self._open().close()
        except OSError as exc:
            raise AuditError(f"the audit log {self.path} cannot be written ({exc.strerror})") from exc

    def record(self, entry: AuditEntry) -> None:
        try:
            with self._lock, self._open() as file:
                # A line cut short by a crash must not swallow the next one.
                file.seek(0, 2)
                if file.tell() and not self._ends_with_newline():
                    file.write("\n")
                file.write(entry.model_dump_json() + "\n")
        except (OSError, ValueError) as exc:  # ValueError: an entry pydantic cannot serialise
            raise AuditError(
                f"{entry.tool} was {'sent' if entry.outcome != 'refused' else 'refused'} ({entry.outcome}), "
                f"but its audit line could not be written to {self.path} ({getattr(exc, 'strerror', None) or exc})"
            ) from exc

    def entries(self) -> list[AuditEntry]:
        """Every readable entry; a damaged line is skipped (and logged), not fatal to the rest."""
        if not self.path.exists():
            return []
        with self._lock:
            # "\n" only: str.splitlines() also breaks at U+2028, U+0085..., which JSON leaves unescaped.
            lines = self.path.read_text(encoding="utf-8").split("\n")
        return [entry for number, line in enumerate(lines, 1) if (entry := _parse(line, number, self.path))]

    def _open(self) -> TextIO:
        return private_file(self.path).open("a", encoding="utf-8")

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as file:
            file.seek(-1, 2)
            return file.read(1) == b"\n"

    def deletion_of(self, sequence_id: str) -> tuple[AuditEntry | None, AuditEntry | None]:
        """The last successful delete of this id, and the restore that already undid it, if any."""
        return self._deletions().get(sequence_id, (None, None))

    def deletions(self) -> list[tuple[AuditEntry, AuditEntry | None]]:
        """The last delete of each sequence with the restore that undid it, if any; newest first."""
        return sorted(self._deletions().values(), key=lambda pair: pair[0].time, reverse=True)  # type: ignore[arg-type, return-value]

    def _deletions(self) -> dict[str, tuple[AuditEntry | None, AuditEntry | None]]:
        found: dict[str, tuple[AuditEntry | None, AuditEntry | None]] = {}
        for entry in self.entries():
            if entry.sequence_id is None or entry.outcome != "ok":
                continue
            if entry.deletes and entry.before is not None:
                found[entry.sequence_id] = (entry, None)
            elif entry.tool == "restore_sequence" and entry.sequence_id in found:
                found[entry.sequence_id] = (found[entry.sequence_id][0], entry)
        return found


def _parse(line: str, number: int, path: Path) -> AuditEntry | None:
    if not line.strip():
        return None
    try:
        return AuditEntry.model_validate(json.loads(line))
    except ValueError:
        logger.warning("skipping unreadable line %d of the audit log %s", number, path)
        return None
