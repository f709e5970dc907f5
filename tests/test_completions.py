"""completion/complete: sequence ids offered by name, for the resource template and prompt arguments."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.types import PromptReference, ResourceTemplateReference
from starlette.applications import Starlette

from mcp_sequences.sandbox import Fault
from tests.conftest import FIRST_ID, SEEDED_IDS

pytestmark = pytest.mark.anyio

TEMPLATE = ResourceTemplateReference(uri="sequences://{id}")
REVIEW = PromptReference(name="review_sequence")


async def offered(client: Client, ref: ResourceTemplateReference | PromptReference, name: str, typed: str) -> list[str]:
    return (await client.complete(ref, {"name": name, "value": typed})).completion.values


async def test_the_server_says_it_completes(client: Client) -> None:
    """Clients only ask servers that declare the capability (initialize, or server/discover)."""
    assert client.server_capabilities.completions is not None


@pytest.mark.parametrize("typed", ["Q1 Enterprise", "q1 ent", "  Q1"])
async def test_a_name_prefix_offers_that_sequence_s_id(client: Client, typed: str) -> None:
    # The seed's first sequence is "Q1 Enterprise Outbound - VP Sales"; no other name starts with "Q1".
    assert await offered(client, TEMPLATE, "id", typed) == [FIRST_ID]
    assert await offered(client, REVIEW, "sequence_id", typed) == [FIRST_ID]


async def test_nothing_typed_offers_every_sequence(client: Client) -> None:
    assert sorted(await offered(client, TEMPLATE, "id", "")) == sorted(SEEDED_IDS)


async def test_a_name_found_only_inside_another_is_not_offered(client: Client) -> None:
    """q searches anywhere in names, owners and tags; a pick list by prefix keeps only names that start so."""
    assert await offered(client, TEMPLATE, "id", "Enterprise") == []


async def test_arguments_that_do_not_name_a_sequence_get_nothing(client: Client, sandbox: Starlette) -> None:
    assert await offered(client, REVIEW, "focus", "Q1") == []
    assert await offered(client, PromptReference(name="design_sequence"), "goal", "Q1") == []
    assert await offered(client, ResourceTemplateReference(uri="other://{id}"), "id", "Q1") == []
    assert [r for r in sandbox.state.journal if r.path.startswith("/api/v2/sequences")] == []


async def test_an_api_failure_offers_nothing_rather_than_an_error(client: Client, sandbox: Starlette) -> None:
    sandbox.state.faults.inject(Fault("status", status=403, times=0))
    assert await offered(client, TEMPLATE, "id", "Q1") == []
