"""A confirmation's sealed state answers one call, once, for the record as it was shown (issue 9, 7).

Two stateless replicas share a sealing key and a state store; the attacks send round two by hand
(raw JSON-RPC, as in test_replicas.py), replaying the sealed state the server handed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_sequences.sandbox import create_sandbox_app
from tests.conftest import NAME_PROMPT, SEEDED_IDS
from tests.processes import HttpServer, launched
from tests.test_replicas import call_tool

KEY = "the key both replicas share, 32+ characters long"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, HttpServer]]:
    shared = tmp_path_factory.mktemp("shared")
    db = shared / "sandbox.db"
    create_sandbox_app(db).state.store.close()
    state = str(shared / "state.db")
    servers = tuple(
        HttpServer(tmp_path_factory.mktemp(name), db=db, state=state, flags=("--stateless",),
                   env={"MCP_SEQUENCES_STATE_KEY": KEY})
        for name in ("a", "b")
    )  # fmt: skip
    with launched(*servers):
        for server in servers:
            server.wait_until_listening()
        yield servers


def round_one(server: HttpServer, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = call_tool(server, tool, arguments)["result"]
    assert result["resultType"] == "input_required", result
    return result


def round_two(server: HttpServer, tool: str, arguments: dict[str, Any], asked: dict[str, Any], typed: str) -> dict:
    [key] = asked["inputRequests"]
    responses = {key: {"action": "accept", "content": {"name": typed}}}
    return call_tool(server, tool, arguments, inputResponses=responses, requestState=asked["requestState"])


def name_asked(asked: dict[str, Any]) -> str:
    [request] = asked["inputRequests"].values()
    return request["params"]["message"].rsplit(NAME_PROMPT, 1)[1].strip()


def refused(reply: dict[str, Any]) -> str:
    """The text of a refused round two (a JSON-RPC error or an isError result)."""
    if "error" in reply:
        return reply["error"]["message"]
    assert reply["result"]["isError"] is True, reply
    return reply["result"]["content"][0]["text"]


def deleted_flag(server: HttpServer, sequence_id: str) -> str:
    return call_tool(server, "get_sequence", {"id": sequence_id})["result"]["structuredContent"].get("deleted")


def test_a_replayed_answer_does_not_delete_again_after_a_restore(pair: tuple[HttpServer, HttpServer]) -> None:
    a, b = pair
    sequence_id, args = SEEDED_IDS[0], {"id": SEEDED_IDS[0], "deleted": "true"}
    asked = round_one(a, "patch_sequence", args)
    done = round_two(b, "patch_sequence", args, asked, name_asked(asked))["result"]
    assert done["isError"] is False and deleted_flag(a, sequence_id) == "true"
    restored = call_tool(b, "restore_sequence", {"id": sequence_id})["result"]
    assert restored["isError"] is False and restored["structuredContent"]["in_place"] is True
    replay = round_two(a, "patch_sequence", args, asked, name_asked(asked))["result"]
    # Spent, and about a record that has changed since: asked anew, never done again.
    assert replay["resultType"] == "input_required", replay
    assert deleted_flag(a, sequence_id) == "false"


def test_a_wrong_answer_spends_the_state(pair: tuple[HttpServer, HttpServer]) -> None:
    a, b = pair
    args = {"id": SEEDED_IDS[1]}
    asked = round_one(a, "delete_sequence", args)
    assert "does not match" in refused(round_two(b, "delete_sequence", args, asked, "not the name"))
    assert "already used" in refused(round_two(a, "delete_sequence", args, asked, name_asked(asked)))
    assert call_tool(a, "get_sequence", args)["result"]["isError"] is False


def test_an_answer_about_an_older_version_of_the_record_is_asked_again(pair: tuple[HttpServer, HttpServer]) -> None:
    a, b = pair
    args = {"id": SEEDED_IDS[2]}
    asked = round_one(a, "delete_sequence", args)
    changed = call_tool(b, "patch_sequence", {"id": SEEDED_IDS[2], "priority": "low"})["result"]
    assert changed["isError"] is False
    again = round_two(b, "delete_sequence", args, asked, name_asked(asked))["result"]
    assert again["resultType"] == "input_required"  # the question is about another version now
    assert call_tool(a, "get_sequence", args)["result"]["isError"] is False


def test_a_renamed_sequence_asks_for_the_name_it_had_before(
    pair: tuple[HttpServer, HttpServer], tmp_path: Path
) -> None:
    """Issue 9, 3(b): rename to something harmless-looking, then delete."""
    a, b = pair
    args = {"id": SEEDED_IDS[3]}
    original = call_tool(a, "get_sequence", args)["result"]["structuredContent"]["name"]
    renamed = call_tool(a, "patch_sequence", args | {"name": "zz old copy - safe to delete"})["result"]
    assert renamed["isError"] is False
    asked = round_one(b, "delete_sequence", args)
    assert name_asked(asked) == original
    [request] = asked["inputRequests"].values()
    assert f"before that it was {original!r}" in request["params"]["message"]
    typed_new_name = round_two(a, "delete_sequence", args, asked, "zz old copy - safe to delete")
    assert "does not match" in refused(typed_new_name)
    asked = round_one(b, "delete_sequence", args)
    done = round_two(a, "delete_sequence", args, asked, original)["result"]
    assert done["isError"] is False and done["structuredContent"]["deleted"] is True
