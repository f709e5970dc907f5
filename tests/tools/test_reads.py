"""list_sequences and get_sequence against the sandbox, in both protocol eras and both answer shapes."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, FIRST_NAME, SEEDED_IDS, call, fail

pytestmark = pytest.mark.anyio

MAYA_ID = "6650a1b2c3d4e5f601234501"
ACTIVE_IDS = {SEEDED_IDS[0], SEEDED_IDS[1], SEEDED_IDS[3]}  # written from the seed, not computed


async def test_a_default_page_is_a_summary_of_each_sequence(client: Client, sandbox: Starlette) -> None:
    page = await call(client, "list_sequences", {})
    assert (page["page"], page["total"], page["has_more"], len(page["items"])) == (1, 7, False, 7)
    first = next(item for item in page["items"] if item["id"] == FIRST_ID)
    owner = "Maya Patel" if sandbox.state.shape.name == "default" else MAYA_ID
    assert first == {
        "id": FIRST_ID,
        "name": FIRST_NAME,
        "status": "active",
        "owner": owner,
        "steps": 5,
        "contacts": 3,
        "tags": ["enterprise", "outbound", "q1-2026"],
        "updated": first["updated"],
    }
    assert len(first["updated"]) == 10 and first["updated"].startswith("2026-")


async def test_following_next_cursor_sees_every_sequence_once(client: Client) -> None:
    seen, args = [], {"limit": 3}
    while True:
        page = await call(client, "list_sequences", args)
        seen += [item["id"] for item in page["items"]]
        if not page["has_more"]:
            break
        args = {"cursor": page["next_cursor"]}
    assert sorted(seen) == sorted(SEEDED_IDS) and len(seen) == 7


async def test_a_page_number_still_works(client: Client) -> None:
    page = await call(client, "list_sequences", {"limit": 3, "page": 3})
    assert len(page["items"]) == 1 and page["has_more"] is False and "next_cursor" not in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "active"}, ACTIVE_IDS),
        ({"tag": "webinar"}, {SEEDED_IDS[1]}),
        ({"owner": "maya.patel@northwind-saas.com"}, {SEEDED_IDS[0], SEEDED_IDS[5], SEEDED_IDS[6]}),
        ({"p": {"status": "active"}}, ACTIVE_IDS),
        ({"p": '{"status": "active"}'}, ACTIVE_IDS),
        ({"p": {"priority": "high"}, "status": "active"}, {SEEDED_IDS[0], SEEDED_IDS[3]}),
    ],
    ids=["status", "tag", "owner-email", "p-object", "p-json-text", "p-and-status"],
)
async def test_simple_filters_and_p(client: Client, filters: dict, expected: set[str]) -> None:
    page = await call(client, "list_sequences", filters)
    assert {item["id"] for item in page["items"]} == expected


async def test_filters_reach_the_api_as_one_policy_filter(client: Client, sandbox: Starlette) -> None:
    await call(
        client, "list_sequences", {"status": "paused", "tag": "x", "owner": "Sofia Lindqvist", "p": {"owner.id": 1}}
    )
    query = sandbox.state.journal[-1].query
    assert json.loads(query["p"]) == {"owner.id": 1, "status": "paused", "tags": "x", "owner.name": "Sofia Lindqvist"}


async def test_nothing_matching_says_so(client: Client) -> None:
    page = await call(client, "list_sequences", {"status": "nope"})
    assert page["items"] == [] and "Nothing matched" in page["note"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"p": {"bogus": 1}}, "p: filters on bogus: not fields of a sequence"),
        ({"p": "not json"}, "must be a JSON object"),
        ({"limit": True}, "not true/false"),
        ({"page": False}, "not true/false"),
        ({"sortBy": "bogusField"}, "sortBy"),
        ({"fields": "id;name"}, "field names separated by commas"),
        ({"cursor": "garbage!"}, "not a cursor this server gave"),
        ({"limit": 101}, "less than or equal to 100"),
    ],
)
async def test_bad_list_arguments_are_refused_and_nothing_is_sent(
    client: Client, sandbox: Starlette, args: dict, says: str
) -> None:
    message = await fail(client, "list_sequences", args)
    assert says in message and "nothing was sent" in message and sandbox.state.journal == type(sandbox.state.journal)()


async def test_a_cursor_resumes_its_own_query_only(client: Client, sandbox: Starlette) -> None:
    page = await call(client, "list_sequences", {"limit": 2, "status": "active"})
    same = await call(client, "list_sequences", {"cursor": page["next_cursor"], "status": "active", "limit": 2})
    assert [item["status"] for item in same["items"]] == ["active"]
    message = await fail(client, "list_sequences", {"cursor": page["next_cursor"], "status": "paused"})
    assert "pass it alone" in message and "status" in message


async def test_fields_returns_full_records_with_only_those_and_says_what_no_record_has(client: Client) -> None:
    page = await call(
        client, "list_sequences", {"q": "webinar", "sortBy": "name", "order": "asc", "fields": "name,bogus"}
    )
    assert page["items"] and all(set(item) == {"id", "name"} for item in page["items"])
    assert "No sequence on this page has bogus" in page["note"]


async def test_get_sequence_keeps_every_field_the_api_returns(client: Client, sandbox: Starlette) -> None:
    sandbox.state.store.update_sequence(FIRST_ID, {"region": "emea", "stats": {"opened": 3}})
    record = await call(client, "get_sequence", {"id": FIRST_ID})
    assert record["id"] == FIRST_ID and record["name"] == FIRST_NAME
    assert record["region"] == "emea" and record["stats"] == {"opened": 3}
    assert len(record["steps"]) == 5 and len(record["contacts"]) == 3
    if sandbox.state.shape.name == "alt":  # contact ids, an owner id, a boolean flag: passed on as sent
        assert all(isinstance(contact, str) for contact in record["contacts"])
        assert record["owner"] == MAYA_ID and record["deleted"] is False


async def test_what_reads_show_has_no_invisible_characters(client: Client, sandbox: Starlette) -> None:
    hidden = "Plan\u202e\u200b\U000e0041 B"
    sandbox.state.store.update_sequence(FIRST_ID, {"name": hidden, "steps": [{"body": "hi\u2066 there"}]})
    record = await call(client, "get_sequence", {"id": FIRST_ID})
    listed = await call(client, "list_sequences", {"q": "Plan"})
    assert record["name"] == "Plan B" and record["steps"][0]["body"] == "hi there"
    assert [item["name"] for item in listed["items"]] == ["Plan B"]
    assert sandbox.state.store.get_sequence(FIRST_ID)["name"] == hidden  # shown clean, stored as it was
