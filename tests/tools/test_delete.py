"""delete_sequence deletes only after the person types the sequence's name, in both protocol eras."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, FIRST_NAME, NAME_PROMPT, Person, audit_lines, connect, journal

pytestmark = pytest.mark.anyio

DELETE = ("DELETE", f"/api/v2/sequences/deleted/{FIRST_ID}")


def still_there(sandbox: Starlette) -> bool:
    return sandbox.state.store.get_sequence(FIRST_ID) is not None


@pytest.mark.parametrize("typed", [None, f"  {FIRST_NAME.upper()} "], ids=["known-name", "case-and-spaces"])
async def test_typing_the_name_deletes(sandbox: Starlette, mode: str, typed: str | None) -> None:
    person = Person("accept", {"name": typed} if typed else None)
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID})
    assert result.is_error is False, result.content[0].text
    assert result.structured_content == {"deleted": True, "id": FIRST_ID, "name": FIRST_NAME}
    assert journal(sandbox).count(DELETE) == 1 and not still_there(sandbox)
    [entry] = audit_lines()
    assert (entry["tool"], entry["outcome"], entry["deletes"]) == ("delete_sequence", "ok", True)
    assert entry["before"]["name"] == FIRST_NAME


async def test_the_person_sees_what_they_are_deleting(sandbox: Starlette, mode: str) -> None:
    person = Person("decline")
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        await client.call_tool("delete_sequence", {"id": FIRST_ID})
    [shown] = person.shown
    for fact in (FIRST_NAME, FIRST_ID, "status active", "5 steps", "3 contacts", "starts 2026-", "ends 2026-"):
        assert fact in shown
    assert shown.endswith(f"{NAME_PROMPT}{FIRST_NAME}")  # what the person is asked to type is the real name


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (lambda: Person("accept", {"name": "Q1 Enterprise"}), "the name typed does not match"),
        (lambda: Person("decline"), "declined"),
        (lambda: Person("cancel"), "dismissed"),
        (lambda: None, "does not support MCP elicitation"),
    ],
    ids=["wrong-name", "declined", "cancelled", "client-cannot-elicit"],
)
async def test_anything_but_the_name_deletes_nothing(
    sandbox: Starlette, mode: str, person: Callable[[], Person | None], reason: str
) -> None:
    async with connect(sandbox, mode, elicitation_callback=person()) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID})
    assert result.is_error is True
    assert "Nothing was deleted" in result.content[0].text and reason in result.content[0].text
    assert DELETE not in journal(sandbox) and still_there(sandbox)
    assert [(e["outcome"], e["deletes"]) for e in audit_lines()] == [("refused", True)]


@pytest.mark.parametrize("forged", [{"confirm": True}, {"name": FIRST_NAME}, {"requestState": "v1.x"}])
async def test_a_model_cannot_confirm_for_the_person(sandbox: Starlette, mode: str, forged: dict) -> None:
    async with connect(sandbox, mode) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID} | forged)
    assert result.is_error is True and "unknown field" in result.content[0].text
    assert journal(sandbox) == [] and still_there(sandbox)


async def test_deleting_a_missing_sequence_asks_nobody(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": "gone"})
    assert result.is_error is True and "HTTP 404" in result.content[0].text
    assert person.shown == [] and all(method == "GET" for method, _ in journal(sandbox))


async def test_a_dry_run_sends_and_asks_nothing(sandbox: Starlette, mode: str) -> None:
    person = Person.typing_the_name()
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID, "dry_run": True})
    dry_run = result.structured_content["dry_run"]
    assert (
        dry_run["request"] == {"method": "DELETE", "path": DELETE[1]} and result.structured_content["deleted"] is False
    )
    assert "ask the person to type the sequence's name" in dry_run["verdict"]
    assert journal(sandbox) == [("GET", f"/api/v2/sequences/{FIRST_ID}")]
    assert person.shown == [] and audit_lines() == [] and still_there(sandbox)


async def test_an_answer_that_does_not_fit_the_form_deletes_nothing(sandbox: Starlette, mode: str) -> None:
    async with connect(sandbox, mode, elicitation_callback=Person("accept", {"nom": FIRST_NAME})) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID})
    text = result.content[0].text
    assert result.is_error and "Nothing was changed" in text and "mcp_sequences" not in text
    assert DELETE not in journal(sandbox) and still_there(sandbox)
