"""Whatever the API answers, the user gets it: hypothesis generates the API's answers.

The API documents no response schema. Instead of the sandbox, an httpx MockTransport answers every
request with a generated body in a plausible shape: records with any subset of the documented
fields holding values of any JSON type (contact ids, an owner id, a schedule as text, steps as
strings, numbers as strings, `deleted: false` or 0, epoch times, `_id`, numeric or extended-JSON
ids, extra nesting, keys of its own), inside any of the envelopes APIs use, or none. Every tool
must return a result (never an error) that carries the data, and pass the client's output-schema
validation. Writes run under `--delete-policy allow`, so the guardrails ask nobody, but they
still read every generated record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from mcp_sequences.models import SequenceFields
from mcp_sequences.sanitize import clean
from mcp_sequences.server import build_server
from tests.conftest import sandbox_settings

EXAMPLES = 40
SEQUENCE_ID = "s1"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ids = st.one_of(
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    st.integers(0, 10**12),
    st.builds(lambda oid: {"$oid": oid}, st.from_regex(r"[0-9a-f]{24}", fullmatch=True)),
)
sub_objects = st.dictionaries(st.sampled_from(["id", "name", "email", "type", "order", "x"]), json_values, max_size=4)
field_values = {
    "contacts": st.lists(st.one_of(ids, sub_objects, st.text(max_size=10)), max_size=4) | scalars | json_values,
    "steps": st.lists(st.one_of(sub_objects, st.text(max_size=10)), max_size=4) | scalars | json_values,
    "owner": st.one_of(ids, sub_objects, st.text(max_size=10)),
    "schedule": st.one_of(sub_objects, st.text(max_size=20)),
    "tags": st.lists(st.text(max_size=8), max_size=3) | st.text(max_size=20) | json_values,
    "deleted": st.sampled_from([False, True, 0, 1, "false", "true", "FALSE", None, "no"]) | json_values,
    "maxContacts": st.integers(0, 1000) | st.from_regex(r"[0-9]{1,4}", fullmatch=True) | json_values,
    "createdAt": st.integers(0, 2**41) | st.text(max_size=25) | json_values,
    "updatedAt": st.integers(0, 2**41) | st.text(max_size=25) | json_values,
}
documented = list(SequenceFields.model_fields) + ["createdAt", "updatedAt"]


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Each documented field present about half the time, holding anything; plus keys of the API's own."""
    record = draw(st.fixed_dictionaries({}, optional={key: field_values.get(key, json_values) for key in documented}))
    record |= draw(st.dictionaries(st.from_regex(r"[a-z][A-Za-z]{0,8}", fullmatch=True), json_values, max_size=3))
    id_key = draw(st.sampled_from(["id", "_id", None]))
    return record | ({id_key: draw(ids)} if id_key else {})


def single_envelope(record: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [record, {"data": record}, {"success": True, "data": record}, {"sequence": record}, [record]]
    )


def list_envelope(items: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            items,
            {"data": items, "total": len(items)},
            {"sequences": items, "count": str(len(items))},
            {"docs": items, "totalDocs": len(items), "hasNextPage": False},
            {"data": {"items": items, "total": len(items)}},
            {"results": items, "meta": {"total": len(items)}},
        ]
    )


answers = st.one_of(records().flatmap(single_envelope), json_values)  # a record, enveloped, or anything
list_answers = st.lists(records(), max_size=4).flatmap(list_envelope) | json_values


@contextmanager
def rig() -> Iterator[tuple[BlockingPortal, Client, dict[str, Any]]]:
    """One server whose upstream answers from `replies` (by method and kind of path)."""
    replies: dict[str, Any] = {}

    def upstream(request: httpx.Request) -> httpx.Response:
        kind = "list" if request.url.path.endswith("/sequences") and request.method == "GET" else request.method
        return httpx.Response(200, json=replies.get(kind))

    options = {"delete_policy": "allow", "max_deletes": 10**6, "rate_per_minute": 10**6, "rate_per_hour": 10**6}
    server = build_server(sandbox_settings(**options), transport=httpx.MockTransport(upstream))
    with start_blocking_portal() as portal:
        client = Client(server, mode="auto")
        with portal.wrap_async_context_manager(client):
            yield portal, client, replies


def call(portal: BlockingPortal, client: Client, tool: str, args: dict[str, Any]) -> CallToolResult:
    async def go() -> CallToolResult:
        with anyio.fail_after(30):
            return await client.call_tool(tool, args)

    result = portal.call(go)  # the client validates structuredContent against the output schema
    assert result.is_error is False, f"{tool}: {result.content[0].text}"
    assert json.loads(result.content[0].text) == result.structured_content
    return result


def the_record(answer: Any) -> Any:
    """What a single-record answer holds, taken out of its envelope by hand."""
    if isinstance(answer, list):
        return answer[0] if len(answer) == 1 and isinstance(answer[0], dict) else answer
    if isinstance(answer, dict) and not {"id", "_id"} & answer.keys():
        for key in ("data", "sequence"):
            if isinstance(answer.get(key), dict):
                return answer[key]
    return answer


def carries(shown: dict[str, Any], record: Any) -> bool:
    """The tool's result holds every field of the record (cleaned for display), or the raw answer."""
    if not isinstance(record, dict):
        return shown.get("raw") == clean(record) or record is None
    expected = {key: value for key, value in clean(record).items() if key != "_id"}
    return all(shown.get(key) == value for key, value in expected.items())


SLOW = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def test_get_sequence_returns_whatever_record_the_api_sends() -> None:
    with rig() as (portal, client, replies):

        @SLOW
        @given(answer=answers)
        def check(answer: Any) -> None:
            replies["GET"] = answer
            shown = call(portal, client, "get_sequence", {"id": SEQUENCE_ID}).structured_content
            assert carries(shown, the_record(answer)), (answer, shown)

        check()


def test_list_sequences_returns_whatever_list_the_api_sends() -> None:
    with rig() as (portal, client, replies):

        @SLOW
        @given(answer=list_answers, detail=st.booleans())
        def check(answer: Any, detail: bool) -> None:
            replies["list"] = answer
            page = call(portal, client, "list_sequences", {"fields": "name,steps"} if detail else {})
            page = page.structured_content
            if "does not recognise" in page.get("note", ""):
                assert page["items"] == [] and page.get("raw") == clean(answer)
            else:
                assert all(isinstance(item, dict) for item in page["items"])
                assert len(page["items"]) == len(_items_of(answer))

        check()


def _items_of(answer: Any) -> list[Any]:
    if isinstance(answer, list):
        return answer
    inner = answer.get("data") if isinstance(answer.get("data"), dict) else answer
    return next(value for value in inner.values() if isinstance(value, list))


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("create_sequence", {"name": "New"}),
        ("update_sequence", {"id": SEQUENCE_ID, "name": "Replaced"}),
        ("patch_sequence", {"id": SEQUENCE_ID, "status": "paused"}),
        ("patch_sequence", {"id": SEQUENCE_ID, "deleted": "true"}),
        ("delete_sequence", {"id": SEQUENCE_ID}),
        ("create_sequence_activity", {"activity": {"sequenceId": SEQUENCE_ID, "type": "note"}}),
    ],
    ids=["create", "update", "patch", "patch-delete", "delete", "activity"],
)
def test_every_write_survives_whatever_the_record_before_and_the_answer_are(tool: str, args: dict) -> None:
    with rig() as (portal, client, replies):

        @SLOW
        @given(before=answers, answer=answers)
        def check(before: Any, answer: Any) -> None:
            replies.update({"GET": before, "POST": answer, "PUT": answer, "PATCH": answer, "DELETE": answer})
            result = call(portal, client, tool, args).structured_content
            written = result.get("sequence", result.get("activity"))
            if written is not None:
                assert carries(written, the_record(answer)), (answer, written)

        check()
