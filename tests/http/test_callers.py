"""A delete policy per caller: a token named ci-bot can be denied deleting while people still confirm."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.provider import AccessToken

from mcp_sequences.cli import load_settings
from mcp_sequences.http.callers import ALL_SCOPES, delete_policy
from mcp_sequences.settings import Settings
from tests.conftest import FIRST_ID, SEEDED_IDS
from tests.http.conftest import Deployment, deployed

pytestmark = pytest.mark.anyio
TOKENS = {"ci-bot": "tok-ci-0123456789ab", "alice": "tok-alice-ba9876543210", "robot": "tok-robot-55aa55aa55aa"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    policies = {"ci-bot": "deny", "robot": "allow"}
    with deployed(tmp_path_factory.mktemp("callers"), http_tokens=TOKENS, caller_policies=policies) as deployment:
        yield deployment


def client(server: Deployment, caller: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKENS[caller]}"})
    return Client(streamable_http_client(server.url, http_client=http))


async def test_a_denied_caller_is_not_offered_delete_sequence_and_cannot_call_it(server: Deployment) -> None:
    async with client(server, "ci-bot") as session:
        names = {tool.name for tool in (await session.list_tools()).tools}
        result = await session.call_tool("delete_sequence", {"id": FIRST_ID})
    assert "delete_sequence" not in names and "patch_sequence" in names
    assert result.is_error is True and "for caller 'ci-bot'" in result.content[0].text


async def test_a_denied_caller_cannot_delete_through_patch(server: Deployment) -> None:
    async with client(server, "ci-bot") as session:
        result = await session.call_tool("patch_sequence", {"id": FIRST_ID, "deleted": "true"})
    assert result.is_error is True and "deleting is turned off for caller 'ci-bot'" in result.content[0].text
    assert [(line["caller"], line["outcome"]) for line in server.audit() if line["deletes"]][-1] == (
        "ci-bot",
        "refused",
    )


async def test_other_callers_keep_the_server_policy(server: Deployment) -> None:
    """alice has no policy of her own: under the default, confirm, she is offered delete_sequence."""
    async with client(server, "alice") as session:
        names = {tool.name for tool in (await session.list_tools()).tools}
    assert "delete_sequence" in names


async def test_an_allowed_caller_deletes_without_being_asked(server: Deployment) -> None:
    target = SEEDED_IDS[-1]
    async with client(server, "robot") as session:  # no elicitation callback: nobody could answer
        result = await session.call_tool("delete_sequence", {"id": target})
    assert result.is_error is False
    assert [(line["caller"], line["outcome"]) for line in server.audit() if line["sequence_id"] == target] == [
        ("robot", "ok")
    ]


def token(name: str, scopes: tuple[str, ...] = ALL_SCOPES) -> AccessToken:
    return AccessToken(token="t", client_id=name, scopes=list(scopes))


@pytest.mark.parametrize(
    ("server_policy", "caller", "scopes", "expected"),
    [
        ("confirm", "ci-bot", ALL_SCOPES, "deny"),
        ("confirm", "robot", ALL_SCOPES, "allow"),
        ("confirm", "alice", ALL_SCOPES, "confirm"),
        ("deny", "robot", ALL_SCOPES, "deny"),  # the server's deny holds for every caller
        ("allow", "robot", ("sequences:read", "sequences:write"), "deny"),  # no delete scope, no delete
    ],
)
def test_which_policy_applies(server_policy: str, caller: str, scopes: tuple[str, ...], expected: str) -> None:
    settings = Settings(delete_policy=server_policy, caller_policies={"ci-bot": "deny", "robot": "allow"})
    assert delete_policy(settings, token(caller, scopes)).mode == expected


def test_without_a_token_the_server_policy_applies() -> None:
    settings = Settings(delete_policy="confirm", caller_policies={"ci-bot": "deny"})
    assert delete_policy(settings, None).mode == "confirm"


def test_the_flag_takes_name_equals_policy() -> None:
    settings = load_settings(["--caller-policies", "ci-bot=deny", "--caller-policies", "robot=allow"])
    assert settings.caller_policies == {"ci-bot": "deny", "robot": "allow"}
