"""The guardrails an administrator sets (README "Safety"), checked at the only place that matters:
what reached the API. Every test drives a real MCP client in both protocol eras and asserts on the
sandbox's journal, the sandbox's data, the person's prompts and the audit log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from pydantic import ValidationError
from starlette.applications import Starlette

from mcp_sequences.sandbox import Fault, SandboxTransport
from mcp_sequences.server import build_server
from tests.conftest import FIRST_ID, FIRST_NAME, Person, audit_lines, call, fail, journal, sandbox_settings

pytestmark = pytest.mark.anyio

# Seed facts the protection rules key on (mcp_sequences/sandbox/seed.py).
TAGGED_ID = FIRST_ID  # tags enterprise, outbound, q1-2026; status active
PAUSED_ID = "6650b0000000000000000003"  # "Mid-Market Re-engagement", status paused
PLAIN_ID = "6650b0000000000000000004"  # "Trial-to-Paid Conversion", status active: protected by neither rule
PROTECTED = {"protect_tag": ["enterprise"], "protect_status": ["paused"]}
TAG_RULE = "tag 'enterprise', --protect-tag"
STATUS_RULE = "status 'paused', --protect-status"

READ_TOOLS = {"list_sequences", "get_sequence"}
# A call each write tool would accept: what a model that ignores tools/list would send.
WRITE_CALLS: dict[str, dict[str, Any]] = {
    "create_sequence": {"name": "Sneaky"},
    "update_sequence": {"id": FIRST_ID, "name": "Sneaky"},
    "patch_sequence": {"id": FIRST_ID, "name": "Sneaky"},
    "delete_sequence": {"id": FIRST_ID},
    "create_sequence_activity": {"activity": {"sequenceId": FIRST_ID, "type": "note"}},
    "restore_sequence": {"id": FIRST_ID},
}
ALL_TOOLS = READ_TOOLS | set(WRITE_CALLS)
OMIT = object()  # in a PUT's changes: leave the field out of the full record


def connect_with(sandbox: Starlette, mode: str, person: Person | None = None, **settings: Any) -> Client:
    """A client of a server built with these settings, the sandbox as its upstream."""
    server = build_server(sandbox_settings(**settings), transport=SandboxTransport(sandbox))
    return Client(server, mode=mode, elicitation_callback=person)


def writes(sandbox: Starlette) -> list[tuple[str, str]]:
    """Every request that could have changed something upstream."""
    return [(method, path) for method, path in journal(sandbox) if method != "GET"]


def stored(sandbox: Starlette, sequence_id: str) -> dict[str, Any] | None:
    return sandbox.state.store.get_sequence(sequence_id)


def full_record(sandbox: Starlette, sequence_id: str, **changes: Any) -> dict[str, Any]:
    """The record as update_sequence arguments: every field it has, so a PUT clears nothing."""
    record = stored(sandbox, sequence_id)
    assert record is not None
    kept = {key: value for key, value in record.items() if key not in ("createdAt", "updatedAt")}
    return kept | changes


def without(record: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in fields}


async def offered(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


# --- which tools are offered -------------------------------------------------------------------


async def test_read_only_offers_and_runs_only_the_reads(sandbox: Starlette, mode: str) -> None:
    """A client that calls a write tool anyway (it knows the names) must still change nothing."""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, read_only=True) as client:
        assert await offered(client) == READ_TOOLS
        for tool, args in WRITE_CALLS.items():
            assert tool in await fail(client, tool, args)
        await call(client, "get_sequence", {"id": FIRST_ID})
    assert writes(sandbox) == [] and journal(sandbox) == [("GET", f"/api/v2/sequences/{FIRST_ID}")]
    assert person.shown == [] and audit_lines() == []


GET_PATCH = ["get_sequence", "patch_sequence"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            {"exclude_tools": ["delete_sequence", "update_sequence"]},
            ALL_TOOLS - {"delete_sequence", "update_sequence"},
            id="exclude",
        ),
        pytest.param({"tools": GET_PATCH}, set(GET_PATCH), id="allow-list"),
        pytest.param({"tools": GET_PATCH, "exclude_tools": ["patch_sequence"]}, {"get_sequence"}, id="both"),
        pytest.param({"tools": GET_PATCH, "read_only": True}, {"get_sequence"}, id="allow-list-read-only"),
        pytest.param(
            {"tools": ["get_sequence", "delete_sequence"], "delete_policy": "deny"},
            {"get_sequence"},
            id="allow-list-deny",
        ),
    ],
)
async def test_tool_selection_offers_exactly_these_and_refuses_the_rest(
    sandbox: Starlette, mode: str, settings: dict[str, Any], expected: set[str]
) -> None:
    """A tool not offered cannot be called either: forcing delete_sequence deletes nothing."""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, **settings) as client:
        assert await offered(client) == expected
        assert "delete_sequence" in await fail(client, "delete_sequence", {"id": FIRST_ID})
    assert writes(sandbox) == [] and person.shown == [] and stored(sandbox, FIRST_ID) is not None


@pytest.mark.parametrize("flag", ["tools", "exclude_tools"])
def test_an_unknown_tool_name_is_refused_at_start_up(flag: str) -> None:
    """A typo in an allow- or deny-list must stop the server, not silently offer everything
    (the command line's exit 2 for it is in test_cli.py)."""
    with pytest.raises(ValidationError, match="Input should be 'list_sequences'"):
        sandbox_settings(**{flag: ["list_sequences", "delete_sequences"]})


# --- delete policy -----------------------------------------------------------------------------


async def test_deny_does_not_offer_delete(sandbox: Starlette, mode: str) -> None:
    async with connect_with(sandbox, mode, delete_policy="deny") as client:
        assert await offered(client) == ALL_TOOLS - {"delete_sequence"}
        await fail(client, "delete_sequence", {"id": FIRST_ID})
    assert writes(sandbox) == [] and stored(sandbox, FIRST_ID) is not None


@pytest.mark.parametrize("tool", ["patch_sequence", "update_sequence"])
async def test_deny_refuses_a_delete_by_the_back_door(sandbox: Starlette, mode: str, tool: str) -> None:
    """deleted: "true" through PATCH or PUT is a delete, so deny refuses it before anyone is asked."""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, delete_policy="deny") as client:
        message = await fail(client, tool, full_record(sandbox, FIRST_ID, deleted="true"))
    assert "--delete-policy deny" in message
    assert writes(sandbox) == [] and person.shown == [] and stored(sandbox, FIRST_ID)["deleted"] == "false"
    [entry] = audit_lines()
    assert entry["outcome"] == "refused" and "--delete-policy deny" in entry["detail"]


@pytest.mark.parametrize(
    ("tool", "args", "sent"),
    [
        ("delete_sequence", {"id": FIRST_ID}, ("DELETE", f"/api/v2/sequences/deleted/{FIRST_ID}")),
        ("patch_sequence", {"id": FIRST_ID, "deleted": "true"}, ("PATCH", f"/api/v2/sequences/{FIRST_ID}")),
    ],
    ids=["delete", "patch-deleted"],
)
async def test_allow_deletes_without_asking_anyone(
    sandbox: Starlette, mode: str, tool: str, args: dict[str, Any], sent: tuple[str, str]
) -> None:
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, delete_policy="allow") as client:
        await call(client, tool, args)
    assert writes(sandbox) == [sent] and person.shown == []
    [entry] = audit_lines()
    assert (entry["outcome"], entry["deletes"], entry["before"]["name"]) == ("ok", True, FIRST_NAME)


def test_allow_warns_at_start_up(sandbox: Starlette, caplog: pytest.LogCaptureFixture) -> None:
    """Unattended deleting must leave a trace in the logs an operator reads."""
    with caplog.at_level(logging.WARNING, logger="mcp_sequences"):
        build_server(sandbox_settings(delete_policy="allow", max_deletes=3), transport=SandboxTransport(sandbox))
    [record] = [r for r in caplog.records if r.name.startswith("mcp_sequences")]
    assert record.levelno == logging.WARNING
    assert "--delete-policy allow" in record.getMessage() and "max 3 an hour" in record.getMessage()


@pytest.mark.parametrize("policy", ["confirm", "deny"])
def test_other_policies_do_not_warn(sandbox: Starlette, caplog: pytest.LogCaptureFixture, policy: str) -> None:
    with caplog.at_level(logging.WARNING, logger="mcp_sequences"):
        build_server(sandbox_settings(delete_policy=policy), transport=SandboxTransport(sandbox))
    assert [r for r in caplog.records if r.name.startswith("mcp_sequences")] == []


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({"delete_policy": "allow"}, ["--delete-policy allow"]),
        ({"caller_policies": {"ops": "allow", "ci-bot": "deny"}}, ["caller 'ops'"]),
        ({"delete_policy": "allow", "caller_policies": {"ops": "allow"}}, ["--delete-policy allow", "caller 'ops'"]),
        ({"delete_policy": "deny", "caller_policies": {"ops": "allow"}}, []),  # deny holds for every caller
        ({}, []),
    ],
)
def test_start_up_says_who_may_delete_without_asking(
    settings: dict[str, Any], warned: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mcp_sequences.server"):
        build_server(sandbox_settings(**settings))
    unasked = [record.getMessage() for record in caplog.records if "WITHOUT asking" in record.getMessage()]
    assert [message.split(": ")[0] for message in unasked] == [
        who if who.startswith("--") else f"{who} (MCP_SEQUENCES_CALLER_POLICIES)" for who in warned
    ]


# --- delete budget -----------------------------------------------------------------------------


async def test_max_deletes_refuses_the_delete_over_budget(sandbox: Starlette, mode: str) -> None:
    ids = ["6650b0000000000000000005", "6650b0000000000000000006", "6650b0000000000000000007"]
    async with connect_with(sandbox, mode, delete_policy="allow", max_deletes=2) as client:
        for sequence_id in ids[:2]:
            await call(client, "delete_sequence", {"id": sequence_id})
        message = await fail(client, "delete_sequence", {"id": ids[2]})
    assert "--max-deletes" in message and "Nothing was deleted" in message
    assert writes(sandbox) == [("DELETE", f"/api/v2/sequences/deleted/{i}") for i in ids[:2]]
    assert stored(sandbox, ids[2]) is not None
    assert [e["outcome"] for e in audit_lines()] == ["ok", "ok", "refused"]


async def test_back_door_deletes_spend_the_same_budget(sandbox: Starlette, mode: str) -> None:
    async with connect_with(sandbox, mode, delete_policy="allow", max_deletes=1) as client:
        await call(client, "patch_sequence", {"id": FIRST_ID, "deleted": "true"})
        assert "--max-deletes" in await fail(client, "delete_sequence", {"id": PLAIN_ID})
        await call(client, "patch_sequence", {"id": PLAIN_ID, "name": "Not a delete, not counted"})
    assert writes(sandbox) == [("PATCH", f"/api/v2/sequences/{FIRST_ID}"), ("PATCH", f"/api/v2/sequences/{PLAIN_ID}")]
    assert stored(sandbox, PLAIN_ID)["deleted"] == "false"


async def test_a_delete_the_api_rejects_does_not_spend_the_budget(sandbox: Starlette, mode: str) -> None:
    async with connect_with(sandbox, mode, delete_policy="allow", max_deletes=1) as client:
        sandbox.state.faults.inject(Fault("status", status=422, method="PATCH"))
        assert "HTTP 422" in await fail(client, "patch_sequence", {"id": FIRST_ID, "deleted": "true"})
        await call(client, "delete_sequence", {"id": PLAIN_ID})
    assert stored(sandbox, PLAIN_ID) is None


@pytest.mark.parametrize(
    ("tool", "args"),
    [("delete_sequence", {"id": FIRST_ID}), ("patch_sequence", {"id": FIRST_ID, "deleted": "true"})],
    ids=["delete", "patch-deleted"],
)
async def test_max_deletes_zero_refuses_before_anyone_is_asked(
    sandbox: Starlette, mode: str, tool: str, args: dict[str, Any]
) -> None:
    """Asking a person to type a name for a delete that cannot happen would waste their attention."""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, max_deletes=0) as client:
        assert "--max-deletes" in await fail(client, tool, args)
    assert person.shown == [] and writes(sandbox) == [] and stored(sandbox, FIRST_ID)["deleted"] == "false"


# --- protected sequences -----------------------------------------------------------------------


def write_args(sandbox: Starlette, tool: str, sequence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH sends the changes; PUT sends the full record with them (OMIT leaves a field out)."""
    base = full_record(sandbox, sequence_id) if tool == "update_sequence" else {"id": sequence_id}
    return without(base | changes, *[key for key, value in changes.items() if value is OMIT])


# Every way to delete a protected sequence, and the rule each refusal must name.
PROTECTED_DELETES = [
    ("delete_sequence", TAGGED_ID, {}, TAG_RULE),
    ("delete_sequence", PAUSED_ID, {}, STATUS_RULE),
    ("patch_sequence", TAGGED_ID, {"deleted": "true"}, TAG_RULE),
    ("update_sequence", PAUSED_ID, {"deleted": True}, STATUS_RULE),
]


@pytest.mark.parametrize("policy", ["confirm", "allow"])
async def test_a_protected_sequence_is_never_deleted(sandbox: Starlette, mode: str, policy: str) -> None:
    """Not even when the person would type the right name: protection outranks every policy,
    and it refuses before anyone is asked. (deny does not offer delete_sequence at all.)"""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, delete_policy=policy, **PROTECTED) as client:
        for tool, sequence_id, changes, rule in PROTECTED_DELETES:
            message = await fail(client, tool, write_args(sandbox, tool, sequence_id, changes))
            assert f"is protected ({rule}) and cannot be deleted" in message, (tool, sequence_id)
    assert writes(sandbox) == [] and person.shown == []
    assert stored(sandbox, TAGGED_ID)["deleted"] == stored(sandbox, PAUSED_ID)["deleted"] == "false"
    lines = audit_lines()
    assert len(lines) == len(PROTECTED_DELETES)
    for line, (*_, rule) in zip(lines, PROTECTED_DELETES, strict=True):
        assert line["outcome"] == "refused" and rule in line["detail"]


# What keeps a sequence protected (status, deleted, protecting tags) cannot be changed, and the
# refusal says which rule and which field: (tool, id, changes, rule, what the message names).
PROTECTED_FIELD_CHANGES = [
    ("patch_sequence", TAGGED_ID, {"status": "paused"}, TAG_RULE, "its status cannot"),
    ("patch_sequence", PAUSED_ID, {"status": "active", "name": "Also renamed"}, STATUS_RULE, "its status cannot"),
    ("patch_sequence", TAGGED_ID, {"tags": ["outbound"]}, TAG_RULE, "protecting tag 'enterprise'"),
    ("patch_sequence", TAGGED_ID, {"tags": None}, TAG_RULE, "protecting tag 'enterprise'"),
    ("update_sequence", TAGGED_ID, {"status": "archived"}, TAG_RULE, "its status cannot"),
    ("update_sequence", PAUSED_ID, {"status": OMIT}, STATUS_RULE, "its status cannot"),
    ("update_sequence", TAGGED_ID, {"tags": ["q1-2026"]}, TAG_RULE, "protecting tag 'enterprise'"),
]


async def test_a_protected_sequence_keeps_its_guarded_fields(sandbox: Starlette, mode: str) -> None:
    """Refused under allow too, and nothing is sent: the records stay exactly as they were."""
    before = {sequence_id: stored(sandbox, sequence_id) for sequence_id in (TAGGED_ID, PAUSED_ID)}
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, delete_policy="allow", **PROTECTED) as client:
        for tool, sequence_id, changes, rule, what in PROTECTED_FIELD_CHANGES:
            message = await fail(client, tool, write_args(sandbox, tool, sequence_id, changes))
            assert f"is protected ({rule})" in message and what in message, (tool, changes, message)
    assert writes(sandbox) == [] and person.shown == []
    assert {sequence_id: stored(sandbox, sequence_id) for sequence_id in before} == before


@pytest.mark.parametrize("deleted", [True, "TRUE", 1])
async def test_a_protected_sequence_deleted_by_the_flag_stays_deleted(
    sandbox: Starlette, mode: str, deleted: object
) -> None:
    """Undeleting changes the deleted flag too; the API's own spelling of it (here, as given) is understood."""
    sandbox.state.store.update_sequence(TAGGED_ID, {"deleted": deleted})
    async with connect_with(sandbox, mode, None, delete_policy="allow", **PROTECTED) as client:
        message = await fail(client, "patch_sequence", {"id": TAGGED_ID, "deleted": "false"})
    assert f"is protected ({TAG_RULE}): its deleted cannot be changed" in message and writes(sandbox) == []


@pytest.mark.parametrize("tags", [["ENTERPRISE"], "Enterprise, other", [" enterprise\u200b "]])
async def test_protection_reads_tags_in_any_case_and_shape(sandbox: Starlette, mode: str, tags: object) -> None:
    sandbox.state.store.update_sequence(PLAIN_ID, {"tags": tags})
    async with connect_with(sandbox, mode, None, delete_policy="allow", **PROTECTED) as client:
        message = await fail(client, "delete_sequence", {"id": PLAIN_ID})
    assert "is protected (tag" in message and "--protect-tag" in message and stored(sandbox, PLAIN_ID) is not None


@pytest.mark.parametrize(
    ("tool", "sequence_id", "changes"),
    [
        ("patch_sequence", PAUSED_ID, {"name": "Renamed", "status": "paused"}),
        ("patch_sequence", TAGGED_ID, {"tags": ["enterprise", "q2-2026"]}),
        ("update_sequence", TAGGED_ID, {"name": "Renamed"}),
        ("patch_sequence", PLAIN_ID, {"status": "paused", "tags": ["renamed"]}),
    ],
    ids=["rename-same-status", "keep-protecting-tag", "put-rename", "unprotected"],
)
async def test_other_changes_to_protected_sequences_still_work(
    sandbox: Starlette, mode: str, tool: str, sequence_id: str, changes: dict[str, Any]
) -> None:
    """Protection guards only what keeps a sequence alive; everyday edits must not be blocked."""
    args = write_args(sandbox, tool, sequence_id, changes)
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, **PROTECTED) as client:
        await call(client, tool, args)
    assert person.shown == [] and len(writes(sandbox)) == 1
    assert {key: stored(sandbox, sequence_id)[key] for key in changes} == changes


async def test_an_unprotected_sequence_is_deleted_as_usual(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person, **PROTECTED) as client:
        await call(client, "delete_sequence", {"id": PLAIN_ID})
    assert len(person.shown) == 1 and writes(sandbox) == [("DELETE", f"/api/v2/sequences/deleted/{PLAIN_ID}")]
    assert stored(sandbox, PLAIN_ID) is None


# --- deletes by the back door ------------------------------------------------------------------


BACK_DOOR = [
    *[pytest.param("patch_sequence", value, id=f"patch-{value!r}") for value in ("true", "1", "yes", True)],
    pytest.param("update_sequence", True, id="put-True"),
]


def back_door_args(sandbox: Starlette, tool: str, value: Any) -> dict[str, Any]:
    """PATCH sends only the flag; PUT sends the full record, so the delete is the only reason to ask."""
    if tool == "update_sequence":
        return full_record(sandbox, FIRST_ID, deleted=value)
    return {"id": FIRST_ID, "deleted": value}


@pytest.mark.parametrize(("tool", "value"), BACK_DOOR)
async def test_a_back_door_delete_needs_the_typed_name(sandbox: Starlette, mode: str, tool: str, value: Any) -> None:
    """Whatever the spelling, the API receives the canonical string "true" the guardrails judged."""
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person) as client:
        await call(client, tool, back_door_args(sandbox, tool, value))
    [shown] = person.shown
    assert shown.startswith(f"DELETE the sequence {FIRST_NAME!r}?") and "This PUT clears" not in shown
    [sent] = [r for r in sandbox.state.journal if r.method != "GET"]
    method = "PATCH" if tool == "patch_sequence" else "PUT"
    assert (sent.method, sent.path) == (method, f"/api/v2/sequences/{FIRST_ID}")
    assert sent.body["deleted"] == "true"
    [entry] = audit_lines()
    assert (entry["outcome"], entry["deletes"], entry["before"]["deleted"]) == ("ok", True, "false")


@pytest.mark.parametrize(
    ("tool", "someone", "reason"),
    [
        ("patch_sequence", lambda: Person("accept", {"name": "yes"}), "the name typed does not match"),
        ("update_sequence", lambda: Person("decline"), "declined"),
        ("patch_sequence", lambda: None, "does not support MCP elicitation"),
    ],
    ids=["patch-wrong-name", "put-declined", "patch-client-cannot-elicit"],
)
async def test_a_back_door_delete_without_the_name_sends_nothing(
    sandbox: Starlette, mode: str, tool: str, someone: Callable[[], Person | None], reason: str
) -> None:
    person = someone()
    async with connect_with(sandbox, mode, person) as client:
        message = await fail(client, tool, back_door_args(sandbox, tool, "true"))
    assert "Nothing was changed" in message and reason in message
    assert writes(sandbox) == [] and stored(sandbox, FIRST_ID)["deleted"] == "false"
    assert [e["outcome"] for e in audit_lines()] == ["refused"]


# --- PUT that clears fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("someone", "reason"),
    [(lambda: Person("accept", {"name": "Renamed"}), "does not match"), (lambda: Person("decline"), "declined")],
    ids=["wrong-name", "declined"],
)
async def test_a_clearing_put_shows_what_it_clears_and_waits_for_the_name(
    sandbox: Starlette, mode: str, someone: Callable[[], Person], reason: str
) -> None:
    person = someone()  # a fresh one per test: it records what it was shown
    args = without(full_record(sandbox, FIRST_ID), "steps", "contacts") | {"name": "Renamed"}
    async with connect_with(sandbox, mode, person) as client:
        assert reason in await fail(client, "update_sequence", args)
    [shown] = person.shown
    assert shown.startswith(f"REPLACE the sequence {FIRST_NAME!r}?")
    assert "This clears what the sequence has now in: steps, contacts." in shown
    assert writes(sandbox) == [] and len(stored(sandbox, FIRST_ID)["steps"]) == 5


async def test_a_clearing_put_with_the_typed_name_is_sent(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person) as client:
        await call(client, "update_sequence", without(full_record(sandbox, FIRST_ID), "steps"))
    assert "clears what the sequence has now in: steps." in person.shown[0]
    assert writes(sandbox) == [("PUT", f"/api/v2/sequences/{FIRST_ID}")] and "steps" not in stored(sandbox, FIRST_ID)


async def test_a_put_that_keeps_every_field_asks_nobody(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person) as client:
        await call(client, "update_sequence", full_record(sandbox, FIRST_ID, priority="low"))
    assert person.shown == [] and writes(sandbox) == [("PUT", f"/api/v2/sequences/{FIRST_ID}")]
    assert stored(sandbox, FIRST_ID)["priority"] == "low" and len(stored(sandbox, FIRST_ID)["steps"]) == 5


@pytest.mark.parametrize("emptied", [{"steps": []}, {"contacts": None}], ids=["empty-list", "null"])
async def test_a_put_that_empties_a_field_asks_like_one_that_omits_it(
    sandbox: Starlette, mode: str, emptied: dict[str, Any]
) -> None:
    person = Person("decline")
    async with connect_with(sandbox, mode, person) as client:
        await fail(client, "update_sequence", full_record(sandbox, FIRST_ID, **emptied))
    assert len(person.shown) == 1 and writes(sandbox) == []


# --- dry run -----------------------------------------------------------------------------------


# What each write tool's dry run must show; the update would clear fields and the patch would
# delete, so both would need the person's yes if they were sent.
DRY_RUNS = {
    "create_sequence": (
        {"name": "New", "tags": ["x"]},
        {"method": "POST", "path": "/api/v2/sequences", "body": {"name": "New", "tags": ["x"]}},
    ),
    "update_sequence": (
        {"id": FIRST_ID, "name": "Only a name"},
        {"method": "PUT", "path": f"/api/v2/sequences/{FIRST_ID}", "body": {"name": "Only a name"}},
    ),
    "patch_sequence": (
        {"id": FIRST_ID, "deleted": True},
        {"method": "PATCH", "path": f"/api/v2/sequences/{FIRST_ID}", "body": {"deleted": "true"}},
    ),
    "delete_sequence": (
        {"id": FIRST_ID},
        {"method": "DELETE", "path": f"/api/v2/sequences/deleted/{FIRST_ID}"},
    ),
    "create_sequence_activity": (
        {"activity": {"sequenceId": FIRST_ID, "type": "call"}},
        {"method": "POST", "path": "/api/v2/sequences/activity", "body": {"sequenceId": FIRST_ID, "type": "call"}},
    ),
}


async def test_a_dry_run_shows_the_request_and_does_nothing_else(sandbox: Starlette, mode: str) -> None:
    """Not sent, nobody asked, nothing audited: only the read a real change would also make.

    restore_sequence's dry run needs a delete first: tests/tools/test_restore.py covers it.
    """
    person = Person.typing_the_name()
    async with connect_with(sandbox, mode, person) as client:
        for tool, (args, request) in DRY_RUNS.items():
            result = await call(client, tool, args | {"dry_run": True})
            assert result["dry_run"]["request"] == request, tool
            assert result["dry_run"]["verdict"].startswith("a real call would"), tool
    assert all(method == "GET" for method, _ in journal(sandbox))
    assert person.shown == [] and audit_lines() == []


@pytest.mark.parametrize(
    ("settings", "tool", "args", "verdict"),
    [
        ({}, "patch_sequence", {"name": "x"}, "a real call would be sent as is"),
        ({}, "delete_sequence", {}, "a real call would ask the person to type the sequence's name (it deletes"),
        ({}, "patch_sequence", {"steps": []}, "ask the person to type the sequence's name (it clears steps)"),
        ({"delete_policy": "deny"}, "patch_sequence", {"deleted": "true"}, "refused: deleting is turned off"),
        ({"max_deletes": 0, "delete_policy": "allow"}, "delete_sequence", {}, "refused: this server allows 0"),
    ],
)
async def test_a_dry_run_says_what_a_real_call_would_meet(
    sandbox: Starlette, mode: str, settings: dict[str, Any], tool: str, args: dict[str, Any], verdict: str
) -> None:
    async with connect_with(sandbox, mode, None, **settings) as client:
        result = await call(client, tool, {"id": FIRST_ID, "dry_run": True} | args)
    assert verdict in result["dry_run"]["verdict"]
    assert all(method == "GET" for method, _ in journal(sandbox))
