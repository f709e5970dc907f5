"""What every tool shares: argument checks that name the field, and failures the model can act on."""

from __future__ import annotations

import pytest
from mcp import Client
from starlette.applications import Starlette

from mcp_sequences.sandbox import SandboxTransport
from mcp_sequences.server import build_server
from tests.conftest import FIRST_ID, call, fail, journal, sandbox_settings

pytestmark = pytest.mark.anyio


async def test_json_encoded_lists_from_clients_are_parsed(client: Client, sandbox: Starlette) -> None:
    """Some clients send arrays and objects as JSON strings."""
    await call(client, "patch_sequence", {"id": FIRST_ID, "tags": '["a", "b"]'})
    assert sandbox.state.journal[-1].body == {"tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("create_sequence", {"name": "x", "colour": "red"}, "colour: unknown field; allowed fields: name, code"),
        ("create_sequence", {}, "name: required field is missing"),
        ("create_sequence", {"name": "x", "maxContacts": -1}, "maxContacts: Input should be greater than or equal"),
        ("get_sequence", {"id": "../../admin"}, "id: must be 1-64 letters, digits, '-' or '_'"),
        ("get_sequence", {"id": "1", "confirm": True}, "confirm: unknown field"),
        ("list_sequences", {"limit": 1000}, "limit: Input should be less than or equal to 100"),
        ("list_sequences", {"order": "up"}, "order: Input should be 'asc' or 'desc'"),
        ("patch_sequence", {"id": FIRST_ID}, "give at least one field to change"),
        ("create_sequence", {"name": "x", "steps": [{"delayDays": "soon"}]}, "steps.0.delayDays: Input should be"),
        ("create_sequence_activity", {"activity": {}}, "activity: must have at least one field"),
    ],
)
async def test_bad_arguments_name_the_field_and_send_nothing(
    client: Client, sandbox: Starlette, tool: str, args: dict, expected: str
) -> None:
    text = await fail(client, tool, args)
    assert "nothing was sent to the API" in text and expected in text
    assert journal(sandbox) == []


async def test_upstream_404_tells_the_model_what_to_do(client: Client) -> None:
    text = await fail(client, "get_sequence", {"id": "doesnotexist"})
    assert "HTTP 404" in text and "'doesnotexist'" in text and "list_sequences" in text


async def test_upstream_422_carries_the_api_message(client: Client, sandbox: Starlette) -> None:
    """A rule only the API knows (here: sequenceId must name a sequence) comes back in its words."""
    text = await fail(client, "create_sequence_activity", {"activity": {"sequenceId": 5}})
    assert "HTTP 422" in text and "The API said" in text and "sequenceId must be a string" in text


async def test_a_refused_key_says_so_and_leaks_nothing(sandbox: Starlette) -> None:
    server = build_server(sandbox_settings(api_key="wrong-key-123"), transport=SandboxTransport(sandbox))
    async with Client(server) as client:
        text = await fail(client, "list_sequences", {})
    assert "HTTP 401" in text and "API key was refused" in text and "wrong-key-123" not in text
