"""The audit log: one record per write, whatever became of it, never a key.

The first half tests AuditLog on its own over both stores (what restore_sequence reads) and its
JSON-lines mirror; the second drives the tools through a real MCP client and reads the mirror
the server wrote.
"""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.audit import AuditEntry, AuditError, AuditLog, Outcome
from mcp_sequences.sandbox import Fault, SandboxTransport, create_sandbox_app
from mcp_sequences.server import build_server
from mcp_sequences.store import SQLiteStore, Store, StoreUnavailable
from tests.conftest import FIRST_ID, FIRST_NAME, Person, audit_lines, call, connect, fail, sandbox_settings
from tests.processes import child_env

SEQ = "6650b0000000000000000009"
OTHER = "6650b0000000000000000008"


def entry(tool: str, outcome: Outcome = "ok", *, sequence_id: str | None = SEQ, **fields: Any) -> AuditEntry:
    """An entry as the tools write it: a delete (deletes=True) carries the record it removed."""
    if fields.get("deletes"):
        fields.setdefault("before", {"id": sequence_id, "name": "Old"})
    return AuditEntry(tool=tool, sequence_id=sequence_id, method="X", path="/p", outcome=outcome, **fields)


# --- AuditLog on its own, over both stores ----------------------------------------------------


@pytest.fixture
def log(store: Store, tmp_path: Path) -> AuditLog:
    return AuditLog(store, tmp_path / "nested" / "audit.jsonl")


def plain(pair: tuple[AuditEntry | None, ...]) -> tuple[dict[str, Any] | None, ...]:
    """Entries as written, without the row id the store gave them."""
    return tuple(item.model_dump() if item is not None else None for item in pair)


def mirrored(log: AuditLog) -> list[dict[str, Any]]:
    assert log.mirror is not None
    return [json.loads(line) for line in log.mirror.read_text(encoding="utf-8").splitlines()]


@pytest.mark.anyio
async def test_records_are_mirrored_line_by_line_in_a_private_file(log: AuditLog) -> None:
    written = [
        entry("delete_sequence", deletes=True, detail=None),
        entry("create_sequence", body={"name": "ü 🚀", "steps": [{"order": 1}]}, sequence_id=None),
    ]
    for item in written:
        await log.record(item)
    assert mirrored(log) == [item.model_dump(mode="json") for item in written]
    assert stat.S_IMODE(log.mirror.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.mirror.parent.stat().st_mode) == 0o700


DELETION_CASES = [
    # (history as (kind, outcome), expected (delete, restore) as indexes into the history, or None).
    # Every "delete" here has deletes=True and a `before`: only its outcome decides.
    pytest.param([("delete", "ok")], (0, None), id="deleted"),
    pytest.param([("delete", "ok"), ("restore", "ok")], (0, 1), id="deleted-then-restored"),
    pytest.param([("delete", "ok"), ("restore", "ok"), ("delete", "ok")], (2, None), id="deleted-again"),
    pytest.param([("delete", "ok"), ("restore", "failed")], (0, None), id="failed-restore-ignored"),
    pytest.param([("delete", "refused")], (None, None), id="refused-delete-ignored"),
    pytest.param([("delete", "failed")], (None, None), id="failed-delete-ignored"),
    pytest.param([("delete", "ok"), ("delete", "refused")], (0, None), id="later-refusal-ignored"),
    pytest.param([("restore", "ok"), ("delete", "ok")], (1, None), id="restore-before-delete-ignored"),
    pytest.param([("patch", "ok")], (None, None), id="plain-patch"),
    pytest.param([("other-id-delete", "ok")], (None, None), id="other-id"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("history", "expected"), DELETION_CASES)
async def test_deletion_of_finds_the_last_successful_delete_and_its_restore(
    log: AuditLog, history: list[tuple[str, Outcome]], expected: tuple[int | None, int | None]
) -> None:
    made = {
        "delete": lambda outcome: entry("delete_sequence", outcome, deletes=True),
        "restore": lambda outcome: entry("restore_sequence", outcome, detail="restored as new1"),
        "patch": lambda outcome: entry("patch_sequence", outcome, before={"id": SEQ}),
        "other-id-delete": lambda outcome: entry("delete_sequence", outcome, sequence_id=OTHER, deletes=True),
    }
    entries = [made[kind](outcome) for kind, outcome in history]
    for item in entries:
        await log.record(item)
    assert plain(await log.deletion_of(SEQ)) == plain(tuple(None if i is None else entries[i] for i in expected))


@pytest.mark.anyio
async def test_a_delete_without_a_copy_cannot_be_restored(log: AuditLog) -> None:
    """deletes=true with no `before` (nothing to send back) is not offered for restore."""
    await log.record(entry("delete_sequence", deletes=True, before=None))
    assert await log.deletion_of(SEQ) == (None, None)


@pytest.mark.anyio
async def test_deletions_lists_what_can_be_restored_most_recent_first(log: AuditLog) -> None:
    first = entry("delete_sequence", deletes=True)
    second = entry("delete_sequence", deletes=True, sequence_id=OTHER)
    restore = entry("restore_sequence", detail="new id n1")
    for item in (first, second, restore, entry("delete_sequence", "failed", deletes=True)):
        await log.record(item)
    assert [plain(pair) for pair in await log.deletions(10)] == [plain((second, None)), plain((first, restore))]
    assert [plain(pair) for pair in await log.deletions(1)] == [plain((second, None))]


@pytest.mark.anyio
async def test_concurrent_records_stay_whole_lines(log: AuditLog) -> None:
    """HTTP sessions write at once; a torn mirror line would break every log shipper after it."""
    tasks, per_task = 8, 20
    big = {"steps": [{"body": "x" * 2000}] * 4}  # well past any single-write atomicity

    async def write(n: int) -> None:
        for i in range(per_task):
            await log.record(entry("patch_sequence", sequence_id=f"{n}-{i}", body=big))

    async with anyio.create_task_group() as group:
        for n in range(tasks):
            group.start_soon(write, n)
    lines = mirrored(log)  # each line parses, or this raises
    assert len(lines) == tasks * per_task and all(line["body"] == big for line in lines)
    assert {line["sequence_id"] for line in lines} == {f"{n}-{i}" for n in range(tasks) for i in range(per_task)}


@pytest.mark.anyio
async def test_a_large_body_is_kept_as_its_hash_and_size_but_the_before_copy_whole(log: AuditLog) -> None:
    note = "n" * 100_000
    before = {"id": SEQ, "name": "Old", "steps": [{"body": "s" * 100_000}]}
    await log.record(entry("patch_sequence", body={"name": "New", "note": note}, before=before, deletes=True))
    line = mirrored(log)[0]
    expected_note = {"omitted": True, "sha256": hashlib.sha256(json.dumps(note).encode()).hexdigest(), "bytes": 100_002}
    assert line["body"] == {"name": "New", "note": expected_note}
    assert len(json.dumps(line)) < 2_000 and line["before"]["omitted"] is True
    deleted, _ = await log.deletion_of(SEQ)
    assert deleted is not None and deleted.before == before  # what restore needs, in the store


@pytest.mark.anyio
async def test_the_mirror_is_rotated_as_it_grows(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcp_sequences.audit.MIRROR_MAX_BYTES", 1_000)
    monkeypatch.setattr("mcp_sequences.audit.MIRROR_BACKUPS", 2)
    for n in range(40):
        await log.record(entry("patch_sequence", sequence_id=str(n), body={"note": "x" * 200}))
    assert log.mirror is not None
    kept = [path for path in log.mirror.parent.iterdir() if path.suffix != ".lock"]
    assert sorted(path.name for path in kept) == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert all(path.stat().st_size < 1_000 + 400 for path in kept)
    assert mirrored(log)[-1]["sequence_id"] == "39"


@pytest.mark.anyio
async def test_renames_in_the_last_day_give_the_name_before_them(log: AuditLog) -> None:
    await log.record(entry("patch_sequence", body={"status": "paused"}, before={"id": SEQ, "name": "Q1 Outbound"}))
    await log.record(entry("patch_sequence", body={"name": "zz old"}, before={"id": SEQ, "name": "Q1 Outbound"}))
    await log.record(entry("update_sequence", body={"name": "safe to delete"}, before={"id": SEQ, "name": "zz old"}))
    await log.record(entry("patch_sequence", "refused", body={"name": "x"}, before={"id": SEQ, "name": "y"}))
    assert await log.name_before_renames(SEQ) == "Q1 Outbound"
    assert await log.name_before_renames(OTHER) is None


@pytest.mark.anyio
async def test_a_store_that_cannot_be_reached_refuses_the_record(log: AuditLog) -> None:
    await log.store.aclose()
    with pytest.raises(AuditError, match="audit store unreachable: nothing was sent"):
        await log.check_writable()
    with pytest.raises(AuditError, match="could not be written"):
        await log.record(entry("create_sequence"))


# --- through the client ----------------------------------------------------------------------

ITEM = f"/api/v2/sequences/{FIRST_ID}"
WRITES = [
    pytest.param("create_sequence", {"name": "New"}, None, "POST", "/api/v2/sequences", id="create"),
    pytest.param("patch_sequence", {"id": FIRST_ID, "priority": "low"}, FIRST_ID, "PATCH", ITEM, id="patch"),
    pytest.param("update_sequence", {"id": FIRST_ID, "name": "Replaced"}, FIRST_ID, "PUT", ITEM, id="update"),
    pytest.param(
        "delete_sequence", {"id": FIRST_ID}, FIRST_ID, "DELETE", f"/api/v2/sequences/deleted/{FIRST_ID}", id="delete"
    ),
    pytest.param(
        "create_sequence_activity",
        {"activity": {"sequenceId": FIRST_ID, "type": "note"}},
        FIRST_ID,
        "POST",
        "/api/v2/sequences/activity",
        id="activity",
    ),
]
CHANGES = {"update_sequence", "patch_sequence", "delete_sequence"}


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "args", "sequence_id", "method", "path"), WRITES)
async def test_each_write_appends_one_line(
    sandbox: Starlette, mode: str, tool: str, args: dict[str, Any], sequence_id: str | None, method: str, path: str
) -> None:
    """update and delete are confirmed by the person; the read before adds nothing."""
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        await call(client, "get_sequence", {"id": FIRST_ID})
        result = await call(client, tool, args)
    [line] = audit_lines()
    sent = [r for r in sandbox.state.journal if r.method != "GET"][-1]
    if sequence_id is None:  # a create is recorded under the id the API gave it
        sequence_id = (result.get("sequence") or result.get("activity"))["id"]
        assert line["detail"] == f"new id {sequence_id}"
    else:
        assert line["detail"] is None
    assert (line["tool"], line["sequence_id"], line["method"], line["path"]) == (tool, sequence_id, method, path)
    assert (line["outcome"], line["caller"]) == ("ok", None)
    assert line["body"] == sent.body and (sent.method, sent.path) == (method, path)
    assert line["deletes"] is (tool == "delete_sequence")
    if tool in CHANGES:
        assert line["before"]["id"] == FIRST_ID and line["before"]["name"] == FIRST_NAME
    else:
        assert line["before"] is None


@pytest.mark.anyio
async def test_a_refused_write_is_audited_with_the_reason(sandbox: Starlette, mode: str) -> None:
    async with connect(sandbox, mode, elicitation_callback=Person("accept", {"name": "yes"})) as client:
        await fail(client, "patch_sequence", {"id": FIRST_ID, "deleted": "true"})
    [line] = audit_lines()
    assert (line["tool"], line["outcome"], line["body"]) == ("patch_sequence", "refused", {"deleted": "true"})
    assert "the name typed does not match" in line["detail"] and line["before"]["name"] == FIRST_NAME


@pytest.mark.anyio
async def test_an_upstream_failure_is_audited_as_failed(sandbox: Starlette, mode: str) -> None:
    """The read before the write succeeds; the API then rejects the write with a 422."""
    sandbox.state.faults.inject(Fault("status", status=422, method="PATCH"))
    async with connect(sandbox, mode) as client:
        message = await fail(client, "patch_sequence", {"id": FIRST_ID, "name": "Renamed"})
    [line] = audit_lines()
    assert "HTTP 422" in message
    assert (line["outcome"], line["body"], line["before"]["name"]) == ("failed", {"name": "Renamed"}, FIRST_NAME)
    assert "HTTP 422" in line["detail"]


@pytest.mark.anyio
async def test_the_api_key_is_never_written(mode: str) -> None:
    """Every kind of line (ok, refused, failed, a delete's copy, a restore) is free of the key."""
    key = "sk-live-123456"
    upstream = create_sandbox_app(":memory:", api_key=key)
    server = build_server(sandbox_settings(api_key=key), transport=SandboxTransport(upstream))
    try:
        async with Client(server, mode=mode, elicitation_callback=Person.typing_the_name()) as client:
            await call(client, "create_sequence", {"name": "Keyed"})
            await call(client, "patch_sequence", {"id": FIRST_ID, "priority": "low"})
            upstream.state.faults.inject(Fault("status", status=422, method="PATCH"))
            await fail(client, "patch_sequence", {"id": FIRST_ID, "name": "Refused upstream"})
            await call(client, "delete_sequence", {"id": FIRST_ID})
            await call(client, "restore_sequence", {"id": FIRST_ID})
            await fail(client, "restore_sequence", {"id": FIRST_ID})
    finally:
        upstream.state.store.close()
    outcomes = [line["outcome"] for line in audit_lines()]
    assert outcomes == ["ok", "ok", "failed", "ok", "ok", "refused"]
    text = Path(sandbox_settings().audit_log).read_text(encoding="utf-8")
    assert key not in text and "Bearer" not in text and "Authorization" not in text


@pytest.mark.anyio
async def test_a_delete_whose_copy_cannot_be_kept_is_not_sent(
    sandbox: Starlette, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delete.py: "the record as it was goes to the audit log first, so restore_sequence can bring it back"."""

    async def down(self: Store) -> None:
        raise StoreUnavailable("the SQLite store is down (simulated)")

    settings = sandbox_settings(delete_policy="allow")
    server = build_server(settings, transport=SandboxTransport(sandbox))
    async with Client(server, mode=mode) as client:
        monkeypatch.setattr(SQLiteStore, "ping", down)
        text = await fail(client, "delete_sequence", {"id": FIRST_ID})
    assert "audit store unreachable: nothing was sent" in text
    assert sandbox.state.store.get_sequence(FIRST_ID) is not None


def test_processes_sharing_a_mirror_lose_no_line_when_it_rotates(tmp_path: Path) -> None:
    """Several stdio servers of one user append to one mirror; a rotation by one must not lose another's line."""
    writer = (
        "import sys; from pathlib import Path; import mcp_sequences.audit as audit\n"
        "from mcp_sequences.store import SQLiteStore\n"
        "audit.MIRROR_MAX_BYTES, audit.MIRROR_BACKUPS = 2_000, 400\n"
        "log = audit.AuditLog(SQLiteStore.memory(), Path(sys.argv[1]))\n"
        "for n in range(300):\n"
        "    log._mirror(audit.AuditEntry(tool='patch_sequence', sequence_id=f'{sys.argv[2]}-{n}', outcome='ok',\n"
        "        method='PATCH', path='/x', body={'note': 'x' * 100}))\n"
    )
    mirror = tmp_path / "audit.jsonl"
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(mirror), str(number)], env=child_env())
        for number in range(4)
    ]
    assert [process.wait(timeout=60) for process in writers] == [0] * 4
    lines = [
        line
        for path in tmp_path.glob("audit.jsonl*")
        if not path.name.endswith(".lock")
        for line in path.read_text().splitlines()
    ]
    assert sorted(json.loads(line)["sequence_id"] for line in lines) == sorted(
        f"{w}-{n}" for w in range(4) for n in range(300)
    )
