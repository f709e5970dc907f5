"""HTTP replicas sharing MCP_SEQUENCES_STATE_KEY: a confirmation begun on one finishes on another.

At 2026-07-28 a stateless server asks the person by answering `tools/call` with
`resultType: "input_required"`: the question (`inputRequests`) and a sealed `requestState`. The
client asks the person, then sends the same call again with `inputResponses` and that
`requestState`. Behind a load balancer that second round may reach another replica, which can
open the state only if it has the same key.

These tests speak raw JSON-RPC over httpx, so each round goes exactly where the test says and the
wire format is written out here. The replicas are stateless HTTP processes over one sandbox
database: A and B share a key, the stranger has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mcp_sequences.sandbox import create_sandbox_app
from tests.conftest import NAME_PROMPT, SEEDED_IDS
from tests.processes import HttpServer, deletes_audited, launched

VERSION = "2026-07-28"
# What a 2026-07-28 client puts in every request's `_meta`, in place of the old initialize handshake.
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": VERSION,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
    "io.modelcontextprotocol/clientInfo": {"name": "replica-test", "version": "0"},
}
SHARED_KEY = "the key replicas A and B share, 32+ characters"
OTHER_KEY = "the stranger's own key, also 32+ characters"


@dataclass
class Replicas:
    a: HttpServer
    b: HttpServer
    stranger: HttpServer

    def all(self) -> tuple[HttpServer, ...]:
        return self.a, self.b, self.stranger


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Three stateless replicas of one database, started at once, each with its own audit log."""
    db = tmp_path_factory.mktemp("shared") / "sandbox.db"
    create_sandbox_app(db).state.store.close()  # seeded here, so that no two replicas race to seed it

    def replica(name: str, key: str) -> HttpServer:
        env = {"MCP_SEQUENCES_STATE_KEY": key}
        return HttpServer(tmp_path_factory.mktemp(name), db=db, flags=("--stateless",), env=env)

    servers = Replicas(replica("a", SHARED_KEY), replica("b", SHARED_KEY), replica("stranger", OTHER_KEY))
    with launched(*servers.all()):
        for server in servers.all():
            server.wait_until_listening()
        yield servers


def call_tool(server: HttpServer, name: str, arguments: dict[str, Any], **round_two: Any) -> dict[str, Any]:
    """One `tools/call` as a 2026-07-28 client sends it: the envelope in `_meta`, headers that repeat the body."""
    params = {"name": name, "arguments": arguments, **round_two, "_meta": ENVELOPE}
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": name,
    }
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    response = httpx.post(server.url, json=message, headers=headers, timeout=10)
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()


@dataclass
class Question:
    """Round one's answer: the key of the one input request, the name it asks for, and the sealed state."""

    key: str
    name: str
    state: str


def ask(server: HttpServer, sequence_id: str) -> Question:
    """Round one: delete_sequence, which comes back asking the person to type the name."""
    result = call_tool(server, "delete_sequence", {"id": sequence_id})["result"]
    assert result["resultType"] == "input_required", result
    [(key, request)] = result["inputRequests"].items()
    assert request["method"] == "elicitation/create" and request["params"]["mode"] == "form"
    message = request["params"]["message"]
    assert f"id {sequence_id};" in message, message
    assert isinstance(result["requestState"], str) and result["requestState"]
    return Question(key, message.rsplit(NAME_PROMPT, 1)[1].strip(), result["requestState"])


def answer(server: HttpServer, sequence_id: str, question: Question, typed: str) -> dict[str, Any]:
    """Round two: the same call again, with what the person typed and the state round one sealed."""
    response = {"action": "accept", "content": {"name": typed}}
    return call_tool(
        server,
        "delete_sequence",
        {"id": sequence_id},
        inputResponses={question.key: response},
        requestState=question.state,
    )


def still_there(server: HttpServer, sequence_id: str) -> bool:
    result = call_tool(server, "get_sequence", {"id": sequence_id})["result"]
    assert result["isError"] is False or "HTTP 404" in result["content"][0]["text"], result
    return result["isError"] is False


def deleted_nothing(reply: dict[str, Any]) -> bool:
    """A refused round two: a JSON-RPC error, an isError result, or the question asked again."""
    if "error" in reply:
        return True
    return reply["result"]["resultType"] == "input_required" or reply["result"]["isError"] is True


def test_a_confirmation_begun_on_one_replica_finishes_on_another(replicas: Replicas) -> None:
    sequence_id = SEEDED_IDS[0]
    question = ask(replicas.a, sequence_id)
    reply = answer(replicas.b, sequence_id, question, question.name)

    result = reply["result"]
    assert result["resultType"] == "complete" and result["isError"] is False, result
    assert result["structuredContent"]["deleted"] is True
    assert result["structuredContent"]["name"] == question.name
    assert not still_there(replicas.a, sequence_id) and not still_there(replicas.b, sequence_id)
    # A only asked; B judged the answer, deleted and kept the record.
    assert deletes_audited(replicas.a.audit(), sequence_id) == []
    assert deletes_audited(replicas.b.audit(), sequence_id) == [("ok", True)]


def test_a_replica_with_another_key_cannot_finish_it(replicas: Replicas) -> None:
    sequence_id = SEEDED_IDS[1]
    question = ask(replicas.a, sequence_id)
    reply = answer(replicas.stranger, sequence_id, question, question.name)

    assert deleted_nothing(reply), reply
    if "error" in reply:
        assert "requestState" in reply["error"]["message"], reply
    assert still_there(replicas.stranger, sequence_id)
    assert all(("ok", True) not in deletes_audited(server.audit(), sequence_id) for server in replicas.all())
    # Starting over on the stranger works: it refused the state, not the person.
    again = ask(replicas.stranger, sequence_id)
    assert answer(replicas.stranger, sequence_id, again, again.name)["result"]["isError"] is False
    assert not still_there(replicas.a, sequence_id)


def test_a_sealed_state_confirms_only_the_call_it_was_sealed_for(replicas: Replicas) -> None:
    """The state for one sequence, with the other's name typed, must not delete the other on any replica."""
    asked_about, target = SEEDED_IDS[2], SEEDED_IDS[3]
    question = ask(replicas.a, asked_about)
    target_name = call_tool(replicas.a, "get_sequence", {"id": target})["result"]["structuredContent"]["name"]

    reply = answer(replicas.b, target, question, target_name)

    assert deleted_nothing(reply), reply
    assert still_there(replicas.b, target) and still_there(replicas.b, asked_about)
    assert all(("ok", True) not in deletes_audited(server.audit(), target) for server in replicas.all())
