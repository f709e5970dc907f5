"""SequenceStore: JSON-document persistence with store-owned ids and timestamps."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from mcp_sequences.sandbox.seed import SEED_SEQUENCES
from mcp_sequences.sandbox.store import SequenceStore, utc_now

HEX_ID = re.compile(r"^[0-9a-f]{24}$")
UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def store() -> Iterator[SequenceStore]:
    store = SequenceStore()
    yield store
    store.close()


def test_utc_now_is_iso_utc_with_z() -> None:
    assert UTC_STAMP.match(utc_now())


def test_create_assigns_id_and_timestamps_ignoring_client_values(store: SequenceStore) -> None:
    record = store.create_sequence({"name": "A", "id": "mine", "createdAt": "x", "updatedAt": "y", "extra": [1]})
    assert HEX_ID.match(record["id"])
    assert UTC_STAMP.match(record["createdAt"])
    assert record["updatedAt"] == record["createdAt"]
    assert record["extra"] == [1]
    assert store.get_sequence(record["id"]) == record


def test_list_returns_insertion_order(store: SequenceStore) -> None:
    names = ["first", "second", "third"]
    for name in names:
        store.create_sequence({"name": name})
    assert [r["name"] for r in store.list_sequences()] == names


def test_replace_keeps_only_given_fields_and_identity(store: SequenceStore) -> None:
    created = store.create_sequence({"name": "A", "code": "C1", "tags": ["x"]})
    replaced = store.replace_sequence(created["id"], {"name": "B", "id": "other"})
    assert replaced is not None
    assert set(replaced) == {"id", "name", "createdAt", "updatedAt"}
    assert (replaced["id"], replaced["createdAt"]) == (created["id"], created["createdAt"])
    assert store.get_sequence(created["id"]) == replaced


def test_update_merges_only_given_keys(store: SequenceStore) -> None:
    created = store.create_sequence({"name": "A", "code": "C1", "status": "draft"})
    updated = store.update_sequence(created["id"], {"status": "active", "code": None})
    assert updated is not None
    assert (updated["name"], updated["status"], updated["code"]) == ("A", "active", None)
    assert store.get_sequence(created["id"]) == updated


def test_missing_ids_report_absence(store: SequenceStore) -> None:
    assert store.get_sequence("nope") is None
    assert store.replace_sequence("nope", {"name": "A"}) is None
    assert store.update_sequence("nope", {}) is None
    assert store.delete_sequence("nope") is False


def test_delete_removes_record(store: SequenceStore) -> None:
    created = store.create_sequence({"name": "A"})
    assert store.delete_sequence(created["id"]) is True
    assert store.get_sequence(created["id"]) is None


def test_seed_only_fills_an_empty_database(store: SequenceStore) -> None:
    assert store.seed(SEED_SEQUENCES) is True
    assert store.seed(SEED_SEQUENCES) is False
    assert store.list_sequences() == SEED_SEQUENCES


def test_activity_gets_id_and_created_at(store: SequenceStore) -> None:
    activity = store.create_activity({"sequenceId": "s1", "type": "call", "id": "mine"})
    assert HEX_ID.match(activity["id"])
    assert UTC_STAMP.match(activity["createdAt"])
    assert (activity["sequenceId"], activity["type"]) == ("s1", "call")


def test_file_database_persists_and_creates_parent_dirs(tmp_path: Path) -> None:
    db_path = tmp_path / "a" / "b" / "sandbox.db"
    first = SequenceStore(db_path)
    created = first.create_sequence({"name": "Kept"})
    first.create_activity({"type": "note"})
    first.close()

    second = SequenceStore(str(db_path))
    assert second.get_sequence(created["id"]) == created
    second.close()
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM activities").fetchone() == (1,)


def test_two_stores_seeding_one_new_file_at_once_seed_it_once(tmp_path: Path) -> None:
    """Two --sandbox replicas started together on a new file (found by the replica tests)."""
    path = tmp_path / "shared.db"
    stores = [SequenceStore(path) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def seed(store: SequenceStore) -> None:
        barrier.wait()
        results.append(store.seed(SEED_SEQUENCES))

    threads = [threading.Thread(target=seed, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False, True]
    assert len(stores[0].list_sequences()) == len(SEED_SEQUENCES)
    for store in stores:
        store.close()
