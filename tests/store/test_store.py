"""Every store behaviour, run against both backends (embedded SQLite and a real PostgreSQL).

Expected counts and waits are worked out by hand from the bucket rule in store/base.py: a window
is counted over its 60 buckets plus the one the oldest request fell in (1 s buckets for the
minute, 1 min buckets for the hour).
"""

from __future__ import annotations

import stat

import anyio
import pytest

from mcp_sequences.store import Store, StoreUnavailable, Unused, open_store

pytestmark = pytest.mark.anyio

KEY = "credential fingerprint"


async def take(store: Store, now: float, per_minute: int, per_hour: int, key: str = KEY) -> tuple[float, str]:
    """One request's take, as (seconds to wait, the limit that holds it back); (0, "") when it may go."""
    grant = await store.take_rate(key, now, per_minute, per_hour)
    return (0.0, "") if grant.count else (grant.wait, grant.limit)


async def test_the_rate_budget_holds_to_both_windows(store: Store) -> None:
    taken = [await take(store, 1000.0, 3, 5) for _ in range(4)]
    assert taken == [(0.0, "")] * 3 + [(61.0, "3 requests a minute")]
    assert await take(store, 1061.0, 3, 5) == (0.0, "")
    assert await take(store, 1061.0, 3, 5) == (0.0, "")
    # 1000 s falls in minute bucket 16 (960-1019 s), which leaves the hour's count at (16 + 61) * 60 s.
    assert await take(store, 1061.0, 3, 5) == (pytest.approx(77 * 60 - 1061.0), "5 requests an hour")


async def test_each_credential_has_its_own_rate_budget(store: Store) -> None:
    assert await take(store, 0.0, 1, 10, key="one") == (0.0, "")
    assert await take(store, 0.0, 1, 10, key="two") == (0.0, "")
    assert (await take(store, 0.0, 1, 10, key="one"))[0] > 0


async def test_a_grant_is_as_many_as_both_windows_allow_and_lasts_until_its_second_ends(store: Store) -> None:
    first = await store.take_rate(KEY, 100.25, 10, 7, want=4)
    assert (first.count, first.until) == (4, 101.0)
    assert (await store.take_rate(KEY, 100.5, 10, 7, want=4)).count == 3  # the hour has 3 left
    refused = await store.take_rate(KEY, 100.5, 10, 7, want=4)
    assert (refused.count, refused.limit) == (0, "7 requests an hour")


async def test_what_a_grant_left_unused_is_given_back(store: Store) -> None:
    await store.take_rate(KEY, 100.0, 5, 100, want=5)
    assert (await store.take_rate(KEY, 101.0, 5, 100)).count == 0  # all five are counted
    assert (await store.take_rate(KEY, 101.0, 5, 100, unused=Unused(100.0, 3))).count == 1
    assert (await store.take_rate(KEY, 101.0, 5, 100, want=5)).count == 2  # 2 sent at 100 s, 1 and 2 now
    assert (await store.take_rate(KEY, 101.0, 5, 100)).count == 0


async def test_concurrent_takes_never_admit_more_than_the_budget(state_url: str) -> None:
    """Five connections (as five processes would) race for 20 slots of one minute, asking for 1 to 3."""
    stores = [await open_store(state_url) for _ in range(5)]
    admitted = []

    async def race(store: Store, want: int) -> None:
        for _ in range(10):
            admitted.append((await store.take_rate(KEY, 5000.0, 20, 1000, want=want)).count)

    async with anyio.create_task_group() as group:
        for number, store in enumerate(stores):
            group.start_soon(race, store, 1 + number % 3)
    for store in stores:
        await store.aclose()
    assert sum(admitted) == 20 and len(admitted) == 50


async def test_old_buckets_are_tidied_away(store: Store) -> None:
    for minute in range(0, 200):
        await store.take_rate(KEY, minute * 60.0, 1000, 10_000)
    rows = await store.run(_rows("SELECT count(*) FROM rate_counts"))
    assert rows[0][0] <= 2 * 62  # the buckets of the last minute and hour, not 200 minutes' worth


async def test_the_delete_budget_refills_an_hour_after_each_delete(store: Store) -> None:
    first, _ = await store.take_delete(KEY, 1000.0, 2)
    second, _ = await store.take_delete(KEY, 1600.0, 2)
    assert first is not None and second is not None
    assert await store.take_delete(KEY, 1700.0, 2) == (None, 1000.0 + 3600 - 1700)
    assert await store.delete_wait(KEY, 1700.0, 2) == 1000.0 + 3600 - 1700
    assert (await store.take_delete(KEY, 4600.0, 2))[0] is not None  # the first is an hour old
    assert (await store.take_delete(KEY, 4600.0, 2))[0] is None


async def test_a_delete_given_back_is_free_again(store: Store) -> None:
    spent, _ = await store.take_delete(KEY, 0.0, 1)
    assert spent is not None
    await store.give_back_delete(spent)
    assert await store.delete_wait(KEY, 0.0, 1) == 0
    assert (await store.take_delete(KEY, 0.0, 1))[0] is not None


async def test_concurrent_deletes_spend_exactly_the_limit(state_url: str) -> None:
    stores = [await open_store(state_url) for _ in range(4)]
    spent = await _gather([store.take_delete(KEY, 0.0, 2) for store in stores for _ in range(3)])
    for store in stores:
        await store.aclose()
    assert sum(spend is not None for spend, _ in spent) == 2


async def test_a_restore_is_claimed_once(state_url: str) -> None:
    stores = [await open_store(state_url) for _ in range(3)]
    claims = await _gather([store.claim_restore(7, 0.0) for store in stores])
    assert sorted(claims) == [False, False, True]
    await stores[0].release_restore(7)
    assert await stores[1].claim_restore(7, 1.0) is True
    for store in stores:
        await store.aclose()


async def test_a_confirmation_state_is_used_once_until_it_expires(store: Store) -> None:
    assert await store.use_state("sealed-1", expires=100.0, now=0.0) is True
    assert await store.use_state("sealed-1", expires=100.0, now=50.0) is False
    assert await store.use_state("sealed-2", expires=100.0, now=50.0) is True
    # Expired ids are forgotten: the SDK refuses an expired state before it gets here.
    assert await store.use_state("sealed-1", expires=300.0, now=200.0) is True


async def test_audit_records_are_found_by_sequence_newest_delete_first(store: Store) -> None:
    def fields(tool: str, sequence_id: str, outcome: str = "ok", deletes: bool = False) -> dict:
        return {"sequence_id": sequence_id, "tool": tool, "caller": None, "outcome": outcome, "deletes": deletes,
                "has_before": deletes}  # fmt: skip

    first = await store.append_audit(1.0, fields("delete_sequence", "a", deletes=True), '"deleted a"')
    await store.append_audit(2.0, fields("delete_sequence", "b", "failed", deletes=True), '"failed b"')
    restore = await store.append_audit(3.0, fields("restore_sequence", "a"), '"restored a"')
    second = await store.append_audit(4.0, fields("delete_sequence", "c", deletes=True), '"deleted c"')
    await store.append_audit(5.0, fields("patch_sequence", "a"), '"patched a"')
    deleted, restored = await store.last_deletion("a")
    assert (deleted.id, deleted.entry, restored.id, restored.entry) == (first, '"deleted a"', restore, '"restored a"')
    assert await store.last_deletion("b") == (None, None)
    listed = await store.deletions(10)
    assert [(d.id, r.id if r else None) for d, r in listed] == [(second, None), (first, restore)]
    assert [row.entry for row in await store.changes_since("a", 4.0, ("patch_sequence",))] == ['"patched a"']


async def test_the_schema_is_migrated_once_whoever_opens_it_first(state_url: str) -> None:
    stores = [await open_store(state_url) for _ in range(3)]
    versions = await stores[0].run(_rows("SELECT version FROM schema_migrations"))
    assert versions == [(1,)]
    for store in stores:
        await store.aclose()


async def test_a_closed_store_says_it_cannot_be_used(state_url: str) -> None:
    store = await open_store(state_url)
    await store.aclose()
    with pytest.raises(StoreUnavailable, match="store"):
        await store.ping()


async def test_an_unreachable_postgres_is_refused_at_start_without_its_password() -> None:
    url = "postgresql://someone:hunter2-secret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreUnavailable) as raised:
        await open_store(url)
    assert "127.0.0.1:1/nowhere" in str(raised.value) and "hunter2" not in str(raised.value)


def _rows(sql: str):  # type: ignore[no-untyped-def]
    return (yield sql, ())


async def _gather(pending: list) -> list:  # type: ignore[type-arg]
    results: list = [None] * len(pending)  # type: ignore[type-arg]

    async def run(index: int) -> None:
        results[index] = await pending[index]

    async with anyio.create_task_group() as group:
        for index in range(len(pending)):
            group.start_soon(run, index)
    return results


async def test_a_grant_costs_two_statements_whatever_the_traffic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The budget of the store's per-grant cost: a SELECT and an INSERT, plus two DELETEs once a minute."""
    store = await open_store(str(tmp_path / "state.db"))
    executed: list[str] = []
    store._conn.set_trace_callback(executed.append)  # type: ignore[attr-defined]
    for second in range(120):
        for _ in range(20):
            await store.take_rate(KEY, 7200.0 + second, 10**6, 10**6, want=5)
    await store.aclose()
    work = [sql for sql in executed if not sql.startswith(("BEGIN", "COMMIT"))]
    assert len(work) == 120 * 20 * 2 + 2 * 2  # two minutes: each first grant of a minute tidies up


async def test_the_sqlite_file_is_private_to_its_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """It holds audit records (contacts' names and emails): 0600 in a 0700 folder it creates."""
    path = tmp_path / "new-folder" / "state.db"
    store = await open_store(f"sqlite:///{path}")
    await store.take_rate(KEY, 0.0, 1, 1)
    await store.aclose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    reopened = await open_store(str(path))  # a plain path is the same store
    assert (await reopened.take_rate(KEY, 0.0, 1, 1)).count == 0
    await reopened.aclose()
