"""restore_sequence brings back, once, what this server deleted, from the audit log's copy.

"Whatever is destroyed can be brought back" is half of the README's safety promise: these tests
delete through the MCP client (as a person would confirm it), restore, and compare with what the
sandbox held before.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.sandbox import SandboxTransport
from mcp_sequences.server import build_server
from tests.conftest import FIRST_ID, FIRST_NAME, Person, audit_lines, call, connect, fail, journal, sandbox_settings

pytestmark = pytest.mark.anyio

ASSIGNED_BY_API = ("id", "createdAt", "updatedAt", "deleted")
NEVER_DELETED = "6650b0000000000000000002"


def stored(sandbox: Starlette, sequence_id: str) -> dict[str, Any] | None:
    return sandbox.state.store.get_sequence(sequence_id)


def content(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what the API assigns: what a faithful restore must bring back."""
    return {key: value for key, value in record.items() if key not in ASSIGNED_BY_API}


def connect_with(sandbox: Starlette, mode: str, settings: Any, person: Person) -> Client:
    server = build_server(settings, transport=SandboxTransport(sandbox))
    return Client(server, mode=mode, elicitation_callback=person)


def posts(sandbox: Starlette) -> list[tuple[str, str]]:
    return [pair for pair in journal(sandbox) if pair[0] == "POST"]


async def delete_first(client: Client) -> None:
    await call(client, "delete_sequence", {"id": FIRST_ID})


async def patch_deleted_first(client: Client) -> None:
    await call(client, "patch_sequence", {"id": FIRST_ID, "deleted": "true"})


async def test_a_deleted_sequence_comes_back_under_a_new_id(sandbox: Starlette, mode: str) -> None:
    """DELETE removed the record, so it is re-created from the audit log's copy."""
    # A field the API returns beyond the documented ones must come back too.
    sandbox.state.store.update_sequence(FIRST_ID, {"region": "emea"})
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        original = await call(client, "get_sequence", {"id": FIRST_ID})
        await delete_first(client)
        result = await call(client, "restore_sequence", {"id": FIRST_ID})
        new_id = result["sequence"]["id"]
        restored = await call(client, "get_sequence", {"id": new_id})
    assert (result["restored_from"], result["in_place"]) == (FIRST_ID, False) and new_id != FIRST_ID
    assert content(restored) == content(original)
    assert restored["region"] == "emea" and restored["name"] == FIRST_NAME and len(restored["steps"]) == 5
    assert result["sequence"] == restored
    *_, line = audit_lines()
    assert (line["tool"], line["sequence_id"], line["outcome"]) == ("restore_sequence", FIRST_ID, "ok")
    assert line["detail"] == f"new id {new_id}" and line["body"]["deleted"] == "false"


async def test_a_back_door_delete_is_undone_in_place(sandbox: Starlette, mode: str) -> None:
    """deleted: "true" leaves the record in the API: it gets its old content back under its own id."""
    original = stored(sandbox, FIRST_ID)
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        await patch_deleted_first(client)
        result = await call(client, "restore_sequence", {"id": FIRST_ID})
    assert (result["in_place"], result["sequence"]["id"]) == (True, FIRST_ID)
    assert stored(sandbox, FIRST_ID)["deleted"] == "false" and stored(sandbox, FIRST_ID)["name"] == original["name"]
    assert posts(sandbox) == [] and journal(sandbox)[-1] == ("PUT", f"/api/v2/sequences/{FIRST_ID}")
    assert len(sandbox.state.store.list_sequences()) == 7


async def test_a_record_live_again_is_never_overwritten_by_a_restore(sandbox: Starlette, mode: str) -> None:
    """The attack of issue 9: delete by the flag, undelete, protect and change it, then restore.

    The restore would have written the old copy over the protected, live record with no question.
    """
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        await patch_deleted_first(client)
        await call(client, "patch_sequence", {"id": FIRST_ID, "deleted": "false"})
        steps = (await call(client, "get_sequence", {"id": FIRST_ID}))["steps"] + [{"type": "call"}]
        await call(client, "patch_sequence", {"id": FIRST_ID, "tags": ["keep"], "status": "active", "steps": steps})
        live = stored(sandbox, FIRST_ID)
        message = await fail(client, "restore_sequence", {"id": FIRST_ID})
    assert "Nothing was restored" in message and "no longer deleted" in message
    assert stored(sandbox, FIRST_ID) == live and journal(sandbox)[-1][0] == "GET"


async def test_an_in_place_restore_obeys_protection(sandbox: Starlette, mode: str) -> None:
    """Still deleted, but given a protecting tag since: restoring changes its deleted flag, which protection forbids."""
    settings = sandbox_settings(protect_tag=["keep"])
    async with connect_with(sandbox, mode, settings, Person.typing_the_name()) as client:
        await patch_deleted_first(client)
        sandbox.state.store.update_sequence(FIRST_ID, {"tags": ["Keep"]})
        message = await fail(client, "restore_sequence", {"id": FIRST_ID})
    assert "protected (tag 'Keep', --protect-tag)" in message and stored(sandbox, FIRST_ID)["deleted"] == "true"


async def test_a_sequence_is_restored_once(sandbox: Starlette, mode: str) -> None:
    """A second restore would make a duplicate: it is refused and says where the first one went."""
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        await delete_first(client)
        first = await call(client, "restore_sequence", {"id": FIRST_ID})
        message = await fail(client, "restore_sequence", {"id": FIRST_ID})
    assert "already restored" in message and first["sequence"]["id"] in message
    assert posts(sandbox) == [("POST", "/api/v2/sequences")]
    assert [(line["tool"], line["outcome"]) for line in audit_lines()] == [
        ("delete_sequence", "ok"),
        ("restore_sequence", "ok"),
        ("restore_sequence", "refused"),
    ]


@pytest.mark.parametrize(
    ("someone", "sequence_id"),
    [(lambda: Person("decline"), FIRST_ID), (Person.typing_the_name, NEVER_DELETED)],
    ids=["delete-declined", "never-deleted"],
)
async def test_only_a_delete_that_happened_can_be_undone(
    sandbox: Starlette, mode: str, someone: Any, sequence_id: str
) -> None:
    """A refused delete is in the audit log too, but there is nothing to bring back."""
    async with connect(sandbox, mode, elicitation_callback=someone()) as client:
        await client.call_tool("delete_sequence", {"id": FIRST_ID})
        message = await fail(client, "restore_sequence", {"id": sequence_id})
    assert f"no delete of sequence {sequence_id!r}" in message
    *_, line = audit_lines()
    assert posts(sandbox) == [] and (line["tool"], line["outcome"]) == ("restore_sequence", "refused")


async def test_a_restore_dry_run_shows_the_post_and_does_nothing_else(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        await delete_first(client)
        sent_before, audited_before = list(sandbox.state.journal), audit_lines()
        result = await call(client, "restore_sequence", {"id": FIRST_ID, "dry_run": True})
    snapshot = audited_before[-1]["before"]  # the record as the API showed it, in whatever shape
    request = {"method": "POST", "path": "/api/v2/sequences", "body": content(snapshot) | {"deleted": "false"}}
    assert result == {
        "dry_run": {"request": request, "verdict": "a real call would be sent as is"},
        "restored_from": FIRST_ID,
        "in_place": False,
    }
    assert [r.method for r in sandbox.state.journal][len(sent_before) :] == ["GET"]  # is it still there?
    assert audit_lines() == audited_before
    assert len(person.shown) == 1  # the delete's confirmation, nothing for the dry run
    assert len(sandbox.state.store.list_sequences()) == 6


async def test_what_can_be_restored_is_listed_until_it_is_restored(sandbox: Starlette, mode: str) -> None:
    async with connect(sandbox, mode, elicitation_callback=Person.typing_the_name()) as client:
        assert (await call(client, "list_sequences", {"restorable": True}))["items"] == []
        await delete_first(client)
        listed = await call(client, "list_sequences", {"restorable": True})
        [item] = listed["items"]
        assert (item["id"], item["name"], item["steps"]) == (FIRST_ID, FIRST_NAME, 5)
        assert item["deletedAt"].startswith("20") and item["deletedAt"].endswith("Z")
        await call(client, "restore_sequence", {"id": item["id"]})
        assert (await call(client, "list_sequences", {"restorable": True}))["items"] == []
