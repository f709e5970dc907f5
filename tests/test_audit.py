"""The audit log: one whole JSON line per write, whatever became of it, never a key.

The first half tests AuditLog on its own (the file format restore_sequence depends on); the
second drives the tools through a real MCP client and reads the file the server wrote.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.audit import AuditEntry, AuditLog, Outcome
from mcp_sequences.sandbox import Fault, SandboxTransport, create_sandbox_app
from mcp_sequences.server import build_server
from tests.conftest import FIRST_ID, FIRST_NAME, Person, audit_lines, call, connect, fail, sandbox_settings

SEQ = "6650b0000000000000000009"
OTHER = "6650b0000000000000000008"


def entry(tool: str, outcome: Outcome = "ok", *, sequence_id: str | None = SEQ, **fields: Any) -> AuditEntry:
    """An entry as the tools write it: a delete (deletes=True) carries the record it removed."""
    if fields.get("deletes"):
        fields.setdefault("before", {"id": sequence_id, "name": "Old"})
    return AuditEntry(tool=tool, sequence_id=sequence_id, method="X", path="/p", outcome=outcome, **fields)


# --- AuditLog on its own ---------------------------------------------------------------------


def test_entries_round_trip(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "nested" / "audit.jsonl")
    assert log.entries() == []  # no file yet: nothing written, nothing to read
    written = [
        entry("delete_sequence", deletes=True, detail=None),
        entry("create_sequence", body={"name": "ü 🚀", "steps": [{"order": 1}]}, sequence_id=None),
    ]
    for item in written:
        log.record(item)
    assert log.entries() == written
    assert len(log.path.read_text(encoding="utf-8").splitlines()) == 2


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


@pytest.mark.parametrize(("history", "expected"), DELETION_CASES)
def test_deletion_of_finds_the_last_successful_delete_and_its_restore(
    tmp_path: Path, history: list[tuple[str, Outcome]], expected: tuple[int | None, int | None]
) -> None:
    made = {
        "delete": lambda outcome: entry("delete_sequence", outcome, deletes=True),
        "restore": lambda outcome: entry("restore_sequence", outcome, detail="restored as new1"),
        "patch": lambda outcome: entry("patch_sequence", outcome, before={"id": SEQ}),
        "other-id-delete": lambda outcome: entry("delete_sequence", outcome, sequence_id=OTHER, deletes=True),
    }
    log = AuditLog(tmp_path / "audit.jsonl")
    entries = [made[kind](outcome) for kind, outcome in history]
    for item in entries:
        log.record(item)
    assert log.deletion_of(SEQ) == tuple(None if i is None else entries[i] for i in expected)


def test_a_delete_without_a_copy_cannot_be_restored(tmp_path: Path) -> None:
    """deletes=true with no `before` (nothing to send back) is not offered for restore."""
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(entry("delete_sequence", deletes=True, before=None))
    assert log.deletion_of(SEQ) == (None, None)


def test_concurrent_appends_stay_whole_lines(tmp_path: Path) -> None:
    """HTTP sessions write from several threads; a torn line would break every later restore."""
    log = AuditLog(tmp_path / "audit.jsonl")
    threads, per_thread = 8, 50
    big = {"steps": [{"body": "x" * 2000}] * 4}  # well past any single-write atomicity

    def write(n: int) -> None:
        for i in range(per_thread):
            log.record(entry("patch_sequence", sequence_id=f"{n}-{i}", body=big))

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    entries = log.entries()  # each line parses, or this raises
    assert len(entries) == threads * per_thread and all(e.body == big for e in entries)
    assert {e.sequence_id for e in entries} == {f"{n}-{i}" for n in range(threads) for i in range(per_thread)}


def test_a_torn_line_does_not_cost_the_entries_after_it(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.path.write_text('{"time": "2026-01-01T00:00:00", "tool": "delete_seq', encoding="utf-8")
    deleted = entry("delete_sequence", deletes=True)
    log.record(deleted)
    assert log.deletion_of(SEQ) == (deleted, None)


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
async def test_a_delete_whose_copy_cannot_be_kept_is_not_sent(sandbox: Starlette, mode: str, tmp_path: Path) -> None:
    """delete.py: "the record as it was goes to the audit log first, so restore_sequence can bring it back"."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = sandbox_settings(delete_policy="allow", audit_log=str(blocker / "audit.jsonl"))
    server = build_server(settings, transport=SandboxTransport(sandbox))
    async with Client(server, mode=mode) as client:
        await fail(client, "delete_sequence", {"id": FIRST_ID})
    assert sandbox.state.store.get_sequence(FIRST_ID) is not None
