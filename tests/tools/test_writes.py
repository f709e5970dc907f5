"""The write tools send exactly what the caller gave, and refuse a likely mistake before anything is sent."""

from __future__ import annotations

import pytest
from mcp import Client
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, Person, call, connect, fail, journal

pytestmark = pytest.mark.anyio

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def writes(sandbox: Starlette) -> list[tuple[str, str]]:
    return [pair for pair in journal(sandbox) if pair[0] in WRITES]


async def test_create_then_get_round_trips(client: Client) -> None:
    steps = [{"order": 1, "type": "email", "delayDays": 0, "subject": "Hi"}]
    created = await call(client, "create_sequence", {"name": "Trial nurture", "tags": ["trial"], "steps": steps})
    fetched = await call(client, "get_sequence", {"id": created["sequence"]["id"]})
    assert fetched["name"] == "Trial nurture" and fetched["steps"][0]["subject"] == "Hi"


async def test_update_replaces_the_whole_record(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        updated = await call(client, "update_sequence", {"id": FIRST_ID, "name": "Renamed", "status": "paused"})
    assert updated["sequence"]["name"] == "Renamed" and "steps" not in updated["sequence"]
    assert sandbox.state.journal[-1].body == {"name": "Renamed", "status": "paused"}
    assert "clears what the sequence has now in: code, type, priority, owner" in person.shown[0]


async def test_patch_sends_only_the_fields_given(client: Client, sandbox: Starlette) -> None:
    before = await call(client, "get_sequence", {"id": FIRST_ID})
    patched = await call(client, "patch_sequence", {"id": FIRST_ID, "status": "paused"})
    assert sandbox.state.journal[-1].body == {"status": "paused"}
    assert patched["sequence"]["status"] == "paused" and patched["sequence"]["steps"] == before["steps"]


async def test_patch_can_set_a_field_to_null_once_the_person_agrees(sandbox: Starlette, mode: str) -> None:
    """Emptying a field that holds data is a loss like a PUT that leaves it out: the person confirms."""
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        patched = await call(client, "patch_sequence", {"id": FIRST_ID, "endDate": None})
    assert sandbox.state.journal[-1].body == {"endDate": None}
    assert patched["sequence"]["endDate"] is None
    assert "This clears what the sequence has now in: endDate." in person.shown[0]


async def test_create_activity_sends_the_object_unchanged(client: Client, sandbox: Starlette) -> None:
    activity = {"sequenceId": FIRST_ID, "type": "note", "note": "Called, left voicemail"}
    created = await call(client, "create_sequence_activity", {"activity": activity})
    assert created["activity"]["id"] and created["activity"]["note"] == activity["note"]
    assert sandbox.state.journal[-1].body == activity


async def test_a_read_modify_write_round_trip_always_passes(client: Client, sandbox: Starlette) -> None:
    """Keys the API itself returned (here an A/B flag on a step) go back untouched."""
    sandbox.state.store.update_sequence(FIRST_ID, {"steps": [{"order": 1, "type": "email", "abTest": True}]})
    record = await call(client, "get_sequence", {"id": FIRST_ID})
    steps = record["steps"] + [{"order": 2, "type": "call", "abTest": False}]
    await call(client, "patch_sequence", {"id": FIRST_ID, "steps": steps, "contacts": record["contacts"]})
    assert sandbox.state.journal[-1].body["steps"] == steps


@pytest.mark.parametrize(
    ("field", "value", "where", "says"),
    [
        ("steps", [{"delayDays": 3, "subjet": "Hi"}], "steps.0.subjet", "did you mean subject?"),
        ("schedule", {"tz": "UTC"}, "schedule.tz", "known keys: days, endTime, startTime, timezone"),
        ("owner", {"mail": "a@b.co"}, "owner.mail", "did you mean email?"),
        ("contacts", ["c-1", {"emial": "x@y.z"}], "contacts.1.emial", "did you mean email?"),
    ],
)
async def test_a_misspelled_key_inside_a_sub_object_is_refused(
    client: Client, sandbox: Starlette, field: str, value: object, where: str, says: str
) -> None:
    for tool, args in (("create_sequence", {"name": "New"}), ("patch_sequence", {"id": FIRST_ID})):
        message = await fail(client, tool, args | {field: value})
        assert f"- {where}: unknown key; " in message and says in message and "nothing was sent" in message
    assert writes(sandbox) == []


@pytest.mark.parametrize(
    ("dates", "where", "says"),
    [
        ({"startDate": "2026-13-45"}, "startDate", "YYYY-MM-DD"),
        ({"endDate": "tomorrow"}, "endDate", "YYYY-MM-DD"),
        ({"startDate": "15/01/2026"}, "startDate", "YYYY-MM-DD"),
        ({"startDate": "2026-03-01", "endDate": "2026-02-01"}, "endDate", "is before startDate 2026-03-01"),
    ],
)
async def test_dates_are_iso_and_the_end_is_not_before_the_start(
    client: Client, sandbox: Starlette, dates: dict, where: str, says: str
) -> None:
    message = await fail(client, "create_sequence", {"name": "Dated"} | dates)
    assert f"- {where}: " in message and says in message
    assert writes(sandbox) == []


async def test_a_patched_end_date_is_checked_against_the_stored_start(client: Client, sandbox: Starlette) -> None:
    start = (await call(client, "get_sequence", {"id": FIRST_ID}))["startDate"]
    message = await fail(client, "patch_sequence", {"id": FIRST_ID, "endDate": "2000-01-01"})
    assert f"is before startDate {start}" in message and writes(sandbox) == []
    await call(client, "patch_sequence", {"id": FIRST_ID, "endDate": "2099-01-01", "dry_run": True})


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
async def test_a_blank_name_is_refused_before_anyone_is_asked(sandbox: Starlette, mode: str, name: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        for tool, args in (("create_sequence", {}), ("patch_sequence", {"id": FIRST_ID})):
            message = await fail(client, tool, args | {"name": name})
            assert "- name: " in message and "nothing was sent" in message
    assert person.shown == [] and writes(sandbox) == []


async def test_contacts_may_be_given_as_ids(client: Client, sandbox: Starlette) -> None:
    created = await call(client, "create_sequence", {"name": "By id", "contacts": ["c-1", 42, {"id": "c-3"}]})
    assert sandbox.state.journal[-1].body["contacts"] == ["c-1", 42, {"id": "c-3"}]
    assert sandbox.state.store.get_sequence(created["sequence"]["id"])["contacts"] == ["c-1", 42, {"id": "c-3"}]


async def test_a_rename_from_a_client_that_cannot_ask_says_how_to_avoid_clearing(sandbox: Starlette, mode: str) -> None:
    async with connect(sandbox, mode) as client:  # no elicitation callback: the person cannot be asked
        message = await fail(client, "update_sequence", {"id": FIRST_ID, "name": "Renamed"})
    assert (
        "This would clear code, status, type, priority, owner" in message
        and "patch_sequence with only the fields" in message
    )
    assert "--delete-policy" not in message and writes(sandbox) == []


@pytest.mark.parametrize("spelling", ["t", "tru", "\uff54\uff52\uff55\uff45", "true\u200b", "1.0", "enabled"])
async def test_an_unknown_spelling_of_deleted_is_never_sent(client: Client, sandbox: Starlette, spelling: str) -> None:
    message = await fail(client, "patch_sequence", {"id": FIRST_ID, "deleted": spelling})
    assert "- deleted: must be true or false" in message and writes(sandbox) == []


async def test_an_oversized_activity_is_refused(client: Client, sandbox: Starlette) -> None:
    message = await fail(client, "create_sequence_activity", {"activity": {"note": "x" * 70_000}})
    assert "- activity: is larger than 64,000 characters" in message and writes(sandbox) == []
