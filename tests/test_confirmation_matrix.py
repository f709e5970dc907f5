"""The confirmation matrix: every transport x protocol era x answer the person can give to a delete.

A sequence is deleted exactly when the person typed its name AND the connection could carry the
question. Every other cell deletes nothing and says so ("Nothing was deleted", and why). The one
cell where even the right name cannot delete is stateless HTTP at 2025-11-25: the server has no
channel to ask on, and tells the client to run it without --stateless.

Each cell is its own test id, `[transport-era-answer]`. An in-memory cell gets a fresh sandbox and
looks at its journal; a subprocess cannot show its journal, so those cells check with a follow-up
get_sequence and read the audit log the process wrote. Processes and clients are shared to stay
fast, all started at once: per era, a stdio process whose client's person is switched from cell to
cell, and one whose client cannot elicit; one stateful and one stateless HTTP server for the
module, each with the same four clients. Each cell deletes a sequence no other cell touches, so
cells depend neither on each other nor on their order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import product
from typing import Any

import anyio
import anyio.abc
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, ElicitResult
from starlette.applications import Starlette

from tests.conftest import FIRST_ID, Person, audit_lines, connect, journal
from tests.processes import SERVE, START_TIMEOUT, HttpServer, Remote, child_env, deletes_audited, launched

pytestmark = pytest.mark.anyio

TRANSPORTS = ("memory", "stdio", "http-stateful", "http-stateless")
ERAS = ("legacy", "auto")
CANNOT_ELICIT = "no-elicitation"
PEOPLE: dict[str, Callable[[], Person | None]] = {
    "right-name": Person.typing_the_name,
    "wrong-name": lambda: Person("accept", {"name": "wrong"}),
    "decline": lambda: Person("decline"),
    "cancel": lambda: Person("cancel"),
    CANNOT_ELICIT: lambda: None,  # no callback at all: the client declares no elicitation
}
# What the refusal says for each answer but the right name.
REASONS = {
    "wrong-name": "the name typed does not match",
    "decline": "declined",
    "cancel": "dismissed",
    CANNOT_ELICIT: "does not support MCP elicitation",
}
NO_CHANNEL = "without --stateless"
REFUSED = "Error executing tool delete_sequence: Nothing was deleted"
CELLS = [pytest.param(*cell, id="-".join(cell)) for cell in product(TRANSPORTS, ERAS, PEOPLE)]
CELL_TIMEOUT = 20.0


def can_carry(transport: str, era: str) -> bool:
    """Stateless HTTP keeps no channel back to a 2025-11-25 client, so nobody can be asked there."""
    return not (transport == "http-stateless" and era == "legacy")


def expected_refusal(transport: str, era: str, answer: str) -> str | None:
    """None when the cell must delete; otherwise a phrase its refusal must contain."""
    if not can_carry(transport, era):
        return NO_CHANNEL
    return None if answer == "right-name" else REASONS[answer]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, so that server processes and their clients live across cells."""
    return "asyncio"


class Switchboard:
    """A shared client's elicitation callback: each cell puts its own person at the client."""

    def __init__(self) -> None:
        self.person: Person | None = None

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        assert self.person is not None, f"asked outside any cell: {params.message}"
        return await self.person(context, params)


@dataclass
class Line:
    """An open client to a server process; `switchboard` is None when the client cannot elicit."""

    remote: Remote
    client: Client
    switchboard: Switchboard | None


def make_line(remote: Remote, server: str | StdioServerParameters, era: str, elicits: bool) -> Line:
    switchboard = Switchboard() if elicits else None
    return Line(remote, Client(server, mode=era, elicitation_callback=switchboard), switchboard)


async def keep_open(client: Client, stop: anyio.Event, *, task_status: anyio.abc.TaskStatus[None]) -> None:
    """Hold a client's connection open in a task of its own, so that several can connect at once."""
    async with client:
        task_status.started()
        await stop.wait()


@asynccontextmanager
async def all_open(lines: Iterable[Line]) -> AsyncIterator[None]:
    """Connect every client at once (a stdio client starts its server process), and close them all after."""
    stop = anyio.Event()
    async with anyio.create_task_group() as holders:
        with anyio.fail_after(START_TIMEOUT):
            async with anyio.create_task_group() as connecting:
                for each in lines:
                    connecting.start_soon(holders.start, keep_open, each.client, stop)
        try:
            yield
        finally:
            stop.set()


@pytest.fixture(scope="module")
async def fleet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[tuple[str, str, bool], Line]]:
    """Every process of the matrix, started at once, and an open client per (transport, era, can elicit).

    A stdio client launches its own process: four of them. The stateful and the stateless HTTP
    server each serve four clients, and get 3 sequences more than the 7 seeded for their 10 cells.
    """
    http = {
        "http-stateful": HttpServer(tmp_path_factory.mktemp("stateful")),
        "http-stateless": HttpServer(tmp_path_factory.mktemp("stateless"), flags=("--stateless",)),
    }
    lines = {}
    for era, elicits in product(ERAS, (True, False)):
        stdio = Remote(tmp_path_factory.mktemp(f"stdio-{era}"))
        params = StdioServerParameters(command=SERVE[0], args=stdio.command()[1:], env=child_env())
        lines["stdio", era, elicits] = make_line(stdio, params, era, elicits)
        for transport, server in http.items():
            lines[transport, era, elicits] = make_line(server, server.url, era, elicits)
    with launched(*http.values()):
        async with all_open(each for (transport, *_), each in lines.items() if transport == "stdio"):
            for server in http.values():
                server.wait_until_listening()
            async with all_open(each for (transport, *_), each in lines.items() if transport != "stdio"):
                for transport, server in http.items():
                    await add_sequences(lines[transport, "legacy", False].client, server)
                yield lines
            for server in http.values():
                server.stop()  # their clients are closed: let them shut down while the stdio processes do


async def add_sequences(client: Client, server: HttpServer) -> None:
    """Enough sequences for every cell of a server to delete its own."""
    for n in range(len(ERAS) * len(PEOPLE) - len(server.unused)):
        created = await client.call_tool("create_sequence", {"name": f"Matrix extra {n}"})
        assert created.is_error is False, created.content[0].text
        server.unused.append(created.structured_content["sequence"]["id"])


# --- one cell --------------------------------------------------------------------------------------


@dataclass
class Evidence:
    """What a cell did, seen from every side available to it."""

    sequence_id: str
    result: CallToolResult  # delete_sequence's answer
    after: CallToolResult  # get_sequence, right after
    audited: list[tuple[str, bool]]  # (outcome, deletes) of each delete_sequence audit line for the id
    sent_deletes: int | None = None  # DELETEs that reached the sandbox; None: a subprocess hides its journal


async def delete_then_look(client: Client, sequence_id: str) -> tuple[CallToolResult, CallToolResult]:
    result = await client.call_tool("delete_sequence", {"id": sequence_id})
    return result, await client.call_tool("get_sequence", {"id": sequence_id})


@pytest.fixture
def backend(transport: str, era: str, answer: str, request: pytest.FixtureRequest) -> Starlette | Line:
    """What a cell runs against: a fresh sandbox in memory, else the module's open client for it.

    Looked up here rather than in the test: an async test cannot start an async fixture itself.
    """
    if transport == "memory":
        return request.getfixturevalue("sandbox")
    return request.getfixturevalue("fleet")[transport, era, answer != CANNOT_ELICIT]


async def in_memory(sandbox: Starlette, era: str, person: Person | None) -> Evidence:
    async with connect(sandbox, era, elicitation_callback=person) as client:
        result, after = await delete_then_look(client, FIRST_ID)
    sent = journal(sandbox).count(("DELETE", f"/api/v2/sequences/deleted/{FIRST_ID}"))
    return Evidence(FIRST_ID, result, after, deletes_audited(audit_lines(), FIRST_ID), sent)


async def over_a_line(line: Line, person: Person | None) -> Evidence:
    """Delete a sequence of the line's own, with this cell's person at the client."""
    sequence_id = line.remote.take()
    if line.switchboard:
        line.switchboard.person = person
    try:
        result, after = await delete_then_look(line.client, sequence_id)
    finally:
        if line.switchboard:
            line.switchboard.person = None
    return Evidence(sequence_id, result, after, deletes_audited(line.remote.audit(), sequence_id))


@pytest.mark.parametrize(("transport", "era", "answer"), CELLS)
async def test_only_the_typed_name_deletes(transport: str, era: str, answer: str, backend: Starlette | Line) -> None:
    """Deleted exactly when the right name was typed where it could be asked; otherwise unchanged, and told why."""
    person = PEOPLE[answer]()
    refusal = expected_refusal(transport, era, answer)
    with anyio.fail_after(CELL_TIMEOUT):
        if transport == "memory":
            seen = await in_memory(backend, era, person)
        else:
            seen = await over_a_line(backend, person)

    text, after = seen.result.content[0].text, seen.after.content[0].text
    if refusal is None:
        assert seen.result.is_error is False, text
        assert seen.result.structured_content["deleted"] is True
        assert seen.after.is_error is True and "HTTP 404" in after, after
        assert seen.audited == [("ok", True)]
        assert seen.sent_deletes in (None, 1)  # exactly one DELETE, where the journal can be seen
    else:
        assert seen.result.is_error is True and text.startswith(REFUSED), text
        assert refusal in text, text
        assert seen.after.is_error is False and seen.after.structured_content["id"] == seen.sequence_id, after
        assert [outcome for outcome, _ in seen.audited] == ["refused"]
        assert seen.sent_deletes in (None, 0)  # no DELETE at all, where the journal can be seen
    # The person is asked once, about this sequence, wherever the question can be carried; else never.
    prompts = person.shown if person else []
    assert len(prompts) == (1 if person and can_carry(transport, era) else 0), prompts
    assert all(f"id {seen.sequence_id};" in prompt for prompt in prompts), prompts
