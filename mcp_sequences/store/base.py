"""The store's one interface: what every process of a deployment must agree on, written once.

Each operation is a short *script*: a generator that yields `(sql, params)` and receives the
rows, so the logic (and its SQL, with `?` placeholders) is the same for both backends. A backend
only runs a script inside one transaction, serialised per key: SQLite by `BEGIN IMMEDIATE` (one
writer at a time across processes), PostgreSQL by a transaction-scoped advisory lock on the key.

Budgets count in buckets (1 s for the minute, 1 min for the hour) and admit requests only while
the buckets touching the last window, the oldest one whole, hold fewer than the limit. That
over-counts by at most one bucket, so no real sliding window ever exceeds the limit. A take may
ask for several requests at once (a `Grant`, good until its 1 s bucket ends: requests sent by then
fall in the bucket they were counted in) and give back what an earlier grant left unused, so a
busy process pays one short transaction a second, not one a request.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]
Script = Generator[tuple[str, Sequence[Any]], list[Row], T]

MINUTE, HOUR = 60, 3600
BUCKETS = 60  # per window; the window is counted over BUCKETS + 1 buckets
STATE_KEY = "confirmation states"


class StoreUnavailable(Exception):
    """The store cannot be reached or written; the message says which store, never its password."""


@dataclass(frozen=True)
class Grant:
    """`count` requests that may go before `until` (the end of the bucket they were counted in);
    none, when the budget is spent: then `wait` seconds until one is free, held back by `limit`."""

    count: int
    until: float
    wait: float = 0.0
    limit: str = ""


@dataclass(frozen=True)
class Unused:
    """Requests a grant made at `at` left unsent, to be given back to the buckets they were counted in."""

    at: float
    count: int


@dataclass(frozen=True)
class AuditRow:
    """One audit record as stored: its row id (order of writing) and the entry as JSON text."""

    id: int
    entry: str


def migrations(dialect: str) -> list[tuple[int, str]]:
    """The versioned schema, oldest first: (version, SQL script) from migrations/<dialect>_NNNN.sql."""
    folder = resources.files(__package__) / "migrations"
    found = sorted(
        (int(item.name.removesuffix(".sql").rsplit("_", 1)[1]), item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.startswith(f"{dialect}_") and item.name.endswith(".sql")
    )
    return found


def statements(script: str) -> list[str]:
    """A migration's statements (no statement here contains a semicolon of its own)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


class Store(ABC):
    """Shared state of every process using this store: budgets, audit records, single-use states."""

    dialect: str
    description: str  # where the store is, for messages (no password)

    @abstractmethod
    async def run(self, script: Script[T], lock: str | None = None) -> T:
        """Run `script` in one transaction, serialised with every other script locking `lock`."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now (readiness probes, writes)."""

    @abstractmethod
    async def aclose(self) -> None: ...

    # --- the API's rate budget ----------------------------------------------------------------

    async def take_rate(
        self, key: str, now: float, per_minute: int, per_hour: int, want: int = 1, unused: Unused | None = None
    ) -> Grant:
        """Count up to `want` requests (as many as both windows allow), giving back `unused` first."""
        return await self.run(_take_rate(key, now, per_minute, per_hour, want, unused), lock=key)

    # --- the delete budget ----------------------------------------------------------------------

    async def take_delete(self, key: str, now: float, limit: int) -> tuple[int | None, float]:
        """Spend one delete of the last hour: (its id, 0), or (None, seconds until one is free)."""
        return await self.run(_take_delete(key, now, limit), lock=key)

    async def delete_wait(self, key: str, now: float, limit: int) -> float:
        """Seconds until a delete is free (0: one is free now); spends nothing."""
        return await self.run(_delete_wait(key, now, limit))

    async def give_back_delete(self, spend_id: int) -> None:
        await self.run(_execute("DELETE FROM delete_spends WHERE id = ?", (spend_id,)))

    # --- the audit log --------------------------------------------------------------------------

    async def append_audit(self, at: float, fields: dict[str, Any], entry: str) -> int:
        """Append one record (`fields`: sequence_id, tool, caller, outcome, deletes, has_before)."""
        return await self.run(_append_audit(at, fields, entry))

    async def last_deletion(self, sequence_id: str) -> tuple[AuditRow | None, AuditRow | None]:
        """The last successful, restorable delete of this id, and the restore after it, if any."""
        return await self.run(_last_deletion(sequence_id))

    async def deletions(self, limit: int) -> list[tuple[AuditRow, AuditRow | None]]:
        """The last restorable delete of each sequence (up to `limit`), newest first, with its restore if any."""
        return await self.run(_deletions(limit))

    async def changes_since(self, sequence_id: str, since: float, tools: tuple[str, ...]) -> list[AuditRow]:
        """Successful writes by these tools to this id since `since`, oldest first."""
        return await self.run(_changes_since(sequence_id, since, tools))

    async def claim_restore(self, delete_id: int, now: float) -> bool:
        """Claim the right to undo this delete; False when another call has claimed it (anywhere)."""
        sql = "INSERT INTO restore_claims (delete_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING delete_id"
        return bool(await self.run(_execute(sql, (delete_id, now))))

    async def release_restore(self, delete_id: int) -> None:
        await self.run(_execute("DELETE FROM restore_claims WHERE delete_id = ?", (delete_id,)))

    # --- single-use confirmation states ---------------------------------------------------------

    async def use_state(self, state_id: str, expires: float, now: float) -> bool:
        """Mark a sealed confirmation state used; False when it was used before (anywhere)."""
        return await self.run(_use_state(state_id, expires, now))


def _execute(sql: str, params: Sequence[Any]) -> Script[list[Row]]:
    return (yield sql, params)


def _bucket(now: float, span: int) -> int:
    return math.floor(now / (span // BUCKETS))


_WINDOW_SUM = "SELECT coalesce(sum(hits), 0) FROM rate_counts WHERE key = ? AND span = ? AND bucket >= ?"
_COUNT = (
    "INSERT INTO rate_counts (key, span, bucket, hits) VALUES (?, ?, ?, ?), (?, ?, ?, ?) "
    "ON CONFLICT (key, span, bucket) DO UPDATE SET hits = rate_counts.hits + excluded.hits RETURNING span, hits"
)
_GIVE_BACK = (
    "UPDATE rate_counts SET hits = hits - ? WHERE key = ? AND ((span = ? AND bucket = ?) OR (span = ? AND bucket = ?))"
)
_OLDEST = (
    "SELECT span, min(bucket), sum(hits) FROM rate_counts WHERE key = ? AND span = ? AND bucket >= ? GROUP BY span"
)


def _take_rate(key: str, now: float, per_minute: int, per_hour: int, want: int, unused: Unused | None) -> Script[Grant]:
    if unused is not None and unused.count > 0:
        at = (_bucket(unused.at, MINUTE), _bucket(unused.at, HOUR))
        yield _GIVE_BACK, (unused.count, key, MINUTE, at[0], HOUR, at[1])
    minute, hour = _bucket(now, MINUTE), _bucket(now, HOUR)
    first = {MINUTE: minute - BUCKETS, HOUR: hour - BUCKETS}
    used = yield f"SELECT ({_WINDOW_SUM}), ({_WINDOW_SUM})", (key, MINUTE, first[MINUTE], key, HOUR, first[HOUR])
    count = min(want, per_minute - used[0][0], per_hour - used[0][1])
    if count > 0:
        counted = yield _COUNT, (key, MINUTE, minute, count, key, HOUR, hour, count)
        if (HOUR, count) in {(span, hits) for span, hits in counted}:  # the first grant of a minute tidies up
            yield "DELETE FROM rate_counts WHERE key = ? AND bucket < ? AND span = ?", (key, first[MINUTE], MINUTE)
            yield "DELETE FROM rate_counts WHERE key = ? AND bucket < ? AND span = ?", (key, first[HOUR], HOUR)
        return Grant(count, until=(minute + 1) * (MINUTE // BUCKETS))
    waits = [(0.0, "")]
    for span, limit, per in ((MINUTE, per_minute, "a minute"), (HOUR, per_hour, "an hour")):
        for _, oldest, hits in (yield _OLDEST, (key, span, first[span])):
            if hits >= limit:  # free once the oldest bucket leaves the counted window
                free_at = (oldest + BUCKETS + 1) * (span // BUCKETS)
                waits.append((free_at - now, f"{limit} requests {per}"))
    wait, limit = max(waits)
    return Grant(0, until=now, wait=wait, limit=limit)


def _take_delete(key: str, now: float, limit: int) -> Script[tuple[int | None, float]]:
    yield "DELETE FROM delete_spends WHERE key = ? AND at <= ?", (key, now - HOUR)
    rows = yield (
        "INSERT INTO delete_spends (key, at) SELECT CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION) "
        "WHERE (SELECT count(*) FROM delete_spends WHERE key = ?) < ? RETURNING id",
        (key, now, key, limit),
    )
    if rows:
        return rows[0][0], 0.0
    return None, (yield from _delete_wait(key, now, limit))


def _delete_wait(key: str, now: float, limit: int) -> Script[float]:
    rows = yield "SELECT count(*), min(at) FROM delete_spends WHERE key = ? AND at > ?", (key, now - HOUR)
    count, oldest = rows[0]
    if count < limit:
        return 0.0
    return max(0.0, oldest + HOUR - now) if oldest is not None else float(HOUR)


def _append_audit(at: float, fields: dict[str, Any], entry: str) -> Script[int]:
    rows = yield (
        "INSERT INTO audit (at, sequence_id, tool, caller, outcome, deletes, has_before, entry) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            at, fields["sequence_id"], fields["tool"], fields["caller"], fields["outcome"],
            int(fields["deletes"]), int(fields["has_before"]), entry,
        ),
    )  # fmt: skip
    return rows[0][0]


_DELETIONS = "SELECT id, entry, sequence_id FROM audit WHERE deletes = 1 AND has_before = 1 AND outcome = 'ok'"
_LATER_DELETION = (
    "SELECT 1 FROM audit AS later WHERE later.sequence_id = audit.sequence_id AND later.id > audit.id "
    "AND later.deletes = 1 AND later.has_before = 1 AND later.outcome = 'ok'"
)
_RESTORE_AFTER = (
    "SELECT id, entry FROM audit WHERE sequence_id = ? AND tool = 'restore_sequence' AND outcome = 'ok' "
    "AND id > ? ORDER BY id LIMIT 1"
)


def _restore_of(sequence_id: str, delete_id: int) -> Script[AuditRow | None]:
    rows = yield _RESTORE_AFTER, (sequence_id, delete_id)
    return AuditRow(*rows[0]) if rows else None


def _last_deletion(sequence_id: str) -> Script[tuple[AuditRow | None, AuditRow | None]]:
    rows = yield f"{_DELETIONS} AND sequence_id = ? ORDER BY id DESC LIMIT 1", (sequence_id,)
    if not rows:
        return None, None
    deleted = AuditRow(*rows[0][:2])
    return deleted, (yield from _restore_of(sequence_id, deleted.id))


def _deletions(limit: int) -> Script[list[tuple[AuditRow, AuditRow | None]]]:
    rows = yield f"{_DELETIONS} AND NOT EXISTS ({_LATER_DELETION}) ORDER BY id DESC LIMIT ?", (limit,)
    found = []
    for delete_id, entry, sequence_id in rows:
        found.append((AuditRow(delete_id, entry), (yield from _restore_of(sequence_id, delete_id))))
    return found


def _changes_since(sequence_id: str, since: float, tools: tuple[str, ...]) -> Script[list[AuditRow]]:
    rows = yield (
        f"SELECT id, entry FROM audit WHERE sequence_id = ? AND outcome = 'ok' AND at >= ? "
        f"AND tool IN ({', '.join('?' for _ in tools)}) ORDER BY id",
        (sequence_id, since, *tools),
    )
    return [AuditRow(*row) for row in rows]


def _use_state(state_id: str, expires: float, now: float) -> Script[bool]:
    yield "DELETE FROM used_states WHERE expires < ?", (now,)
    sql = "INSERT INTO used_states (state_id, expires) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING state_id"
    return bool((yield sql, (state_id, expires)))
