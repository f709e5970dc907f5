"""delete_sequence deletes only after the person says yes, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import ElicitResult
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, connect, journal

pytestmark = pytest.mark.anyio

DELETE = ("DELETE", f"/api/v2/sequences/deleted/{FIRST_ID}")


class Person:
    """Stands in for the human at the client: records what they were shown, answers as told."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action, self.content, self.shown = action, content, []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.shown.append(params.message)
        return ElicitResult(action=self.action, content=self.content)


def still_there(sandbox: Starlette) -> bool:
    return sandbox.state.store.get_sequence(FIRST_ID) is not None


async def test_confirmed_delete_removes_the_sequence(sandbox: Starlette, mode: str) -> None:
    person = Person("accept", {"confirm": True})
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID})
    assert result.is_error is False, result.content[0].text
    assert result.structured_content["deleted"] is True
    assert result.structured_content["snapshot"]["id"] == FIRST_ID
    assert "Q1 Enterprise Outbound" in person.shown[0] and "steps" in person.shown[0]
    assert journal(sandbox).count(DELETE) == 1 and not still_there(sandbox)


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (Person("accept", {"confirm": False}), "did not confirm"),
        (Person("decline"), "declined"),
        (Person("cancel"), "dismissed"),
        (None, "does not support MCP elicitation"),
    ],
    ids=["said-no", "declined", "cancelled", "client-cannot-elicit"],
)
async def test_anything_but_yes_deletes_nothing(
    sandbox: Starlette, mode: str, person: Person | None, reason: str
) -> None:
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID})
    assert result.is_error is True
    assert "Nothing was deleted" in result.content[0].text and reason in result.content[0].text
    assert DELETE not in journal(sandbox) and still_there(sandbox)


async def test_a_model_cannot_confirm_for_the_person(sandbox: Starlette, mode: str) -> None:
    async with connect(sandbox, mode) as client:
        result = await client.call_tool("delete_sequence", {"id": FIRST_ID, "confirm": True})
    assert result.is_error is True and "confirm: unknown field" in result.content[0].text
    assert journal(sandbox) == [] and still_there(sandbox)


async def test_deleting_a_missing_sequence_asks_nobody(sandbox: Starlette, mode: str) -> None:
    person = Person("accept", {"confirm": True})
    async with connect(sandbox, mode, elicitation_callback=person) as client:
        result = await client.call_tool("delete_sequence", {"id": "gone"})
    assert result.is_error is True and "HTTP 404" in result.content[0].text
    assert person.shown == [] and all(method == "GET" for method, _ in journal(sandbox))
