"""The write tools send exactly what the caller gave, in both protocol eras."""

from __future__ import annotations

import pytest
from mcp import Client
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, Person, call, connect, fail, journal

pytestmark = pytest.mark.anyio


async def test_create_then_get_round_trips(client: Client) -> None:
    created = await call(
        client,
        "create_sequence",
        {"name": "Trial nurture", "tags": ["trial"], "steps": [{"order": 1, "type": "email", "delayDays": 0}]},
    )
    fetched = await call(client, "get_sequence", {"id": created["id"]})
    assert fetched["name"] == "Trial nurture" and fetched["steps"][0]["type"] == "email"


async def test_update_replaces_the_whole_record(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        updated = await call(client, "update_sequence", {"id": FIRST_ID, "name": "Renamed", "status": "paused"})
    assert updated["name"] == "Renamed" and "steps" not in updated
    assert sandbox.state.journal[-1].body == {"name": "Renamed", "status": "paused"}
    assert "clears what the sequence has now in: code, schedule, priority" in person.shown[0]


async def test_patch_sends_only_the_fields_given(client: Client, sandbox: Starlette) -> None:
    before = await call(client, "get_sequence", {"id": FIRST_ID})
    patched = await call(client, "patch_sequence", {"id": FIRST_ID, "status": "paused"})
    assert sandbox.state.journal[-1].body == {"status": "paused"}
    assert patched["status"] == "paused" and patched["steps"] == before["steps"]


async def test_patch_can_set_a_field_to_null_once_the_person_agrees(sandbox: Starlette, mode: str) -> None:
    """Emptying a field that holds data is a loss like a PUT that leaves it out: the person confirms."""
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        patched = await call(client, "patch_sequence", {"id": FIRST_ID, "endDate": None})
    assert sandbox.state.journal[-1].body == {"endDate": None}
    assert patched["endDate"] is None and "This clears what the sequence has now in: endDate." in person.shown[0]


async def test_create_activity_sends_the_object_unchanged(client: Client, sandbox: Starlette) -> None:
    activity = {"sequenceId": FIRST_ID, "type": "note", "note": "Called, left voicemail"}
    created = await call(client, "create_sequence_activity", {"activity": activity})
    assert created["id"] and created["note"] == activity["note"]
    assert sandbox.state.journal[-1].body == activity


async def test_an_activity_over_64_kb_is_refused_naming_the_field_and_nothing_is_sent(
    client: Client, sandbox: Starlette
) -> None:
    note = "x" * (64 * 1024)  # with the braces and key around it, just over 64 KB as JSON
    text = await fail(client, "create_sequence_activity", {"activity": {"note": note}})
    assert "- activity: the activity is 65547 bytes as JSON; at most 65536 (64 KB) are accepted" in text
    assert "nothing was sent" in text and journal(sandbox) == []
    at_the_limit = {"note": "x" * (64 * 1024 - len('{"note":""}'))}
    await call(client, "create_sequence_activity", {"activity": at_the_limit})
