"""The sandbox app honours the Sequences REST contract the MCP server relies on."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mcp_sequences.sandbox import SANDBOX_API_KEY, RecordedRequest, create_sandbox_app
from mcp_sequences.sandbox.seed import SEED_SEQUENCES

pytestmark = pytest.mark.anyio

BASE = "/api/v2/sequences"
SEED_ID = SEED_SEQUENCES[0]["id"]
NEWEST_FIRST = [s["id"] for s in sorted(SEED_SEQUENCES, key=lambda s: s["createdAt"], reverse=True)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Iterator[Starlette]:
    app = create_sandbox_app()
    yield app
    app.state.store.close()


def make_client(app: Starlette, api_key: str = SANDBOX_API_KEY) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {api_key}"},
    )


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        yield client


async def list_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(BASE, params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["data"]]


# --- Auth and journal -------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox"}])
async def test_missing_or_wrong_key_is_refused_and_journaled(app: Starlette, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=headers
    ) as anonymous:
        response = await anonymous.get(BASE, params={"limit": "5"})
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or missing API key"}
    assert list(app.state.journal) == [RecordedRequest("GET", BASE, {"limit": "5"}, None)]


async def test_custom_api_key_replaces_the_default() -> None:
    app = create_sandbox_app(api_key="s3cret")
    async with make_client(app, "s3cret") as good, make_client(app) as default:
        assert (await good.get(BASE)).status_code == 200
        assert (await default.get(BASE)).status_code == 401
    app.state.store.close()


async def test_journal_records_method_path_query_and_body(app: Starlette, client: httpx.AsyncClient) -> None:
    await client.post(BASE, params={"dryRun": "1"}, json={"name": "Journaled"})
    await client.patch(f"{BASE}/{SEED_ID}", content=b"not json")
    await client.get(f"{BASE}/{SEED_ID}")
    assert list(app.state.journal) == [
        RecordedRequest("POST", BASE, {"dryRun": "1"}, {"name": "Journaled"}),
        RecordedRequest("PATCH", f"{BASE}/{SEED_ID}", {}, "not json"),
        RecordedRequest("GET", f"{BASE}/{SEED_ID}", {}, None),
    ]


# --- Listing ----------------------------------------------------------------


async def test_list_defaults_to_newest_first_in_an_envelope(client: httpx.AsyncClient) -> None:
    body = (await client.get(BASE)).json()
    assert set(body) == {"data", "total", "page", "limit"}
    assert (body["total"], body["page"], body["limit"]) == (len(SEED_SEQUENCES), 1, 20)
    assert [s["id"] for s in body["data"]] == NEWEST_FIRST
    assert body["data"][0] == next(s for s in SEED_SEQUENCES if s["id"] == NEWEST_FIRST[0])


async def test_paging_slices_matches_and_reports_total(client: httpx.AsyncClient) -> None:
    response = await client.get(BASE, params={"limit": 3, "page": 2})
    body = response.json()
    assert (body["total"], body["page"], body["limit"]) == (len(SEED_SEQUENCES), 2, 3)
    assert [s["id"] for s in body["data"]] == NEWEST_FIRST[3:6]
    assert await list_ids(client, limit=3, page=99) == []


async def test_sort_by_field_and_order(client: httpx.AsyncClient) -> None:
    by_size = sorted(SEED_SEQUENCES, key=lambda s: s["maxContacts"])
    expected = [s["id"] for s in by_size]
    assert await list_ids(client, sortBy="maxContacts", order="asc") == expected
    assert await list_ids(client, sortBy="maxContacts", order="desc") == expected[::-1]
    assert await list_ids(client, order="asc") == NEWEST_FIRST[::-1]


async def test_records_missing_the_sort_field_come_last(client: httpx.AsyncClient) -> None:
    created = (await client.post(BASE, json={"name": "No size"})).json()
    for order in ("asc", "desc"):
        assert (await list_ids(client, sortBy="maxContacts", order=order))[-1] == created["id"]


async def test_q_searches_case_insensitively(client: httpx.AsyncClient) -> None:
    by_maya = {s["id"] for s in SEED_SEQUENCES if s["owner"]["name"] == "Maya Patel"}
    assert set(await list_ids(client, q="MAYA.PATEL@")) == by_maya
    webinar = {s["id"] for s in SEED_SEQUENCES if "webinar" in s["tags"]}
    assert set(await list_ids(client, q="Webinar")) == webinar
    assert await list_ids(client, q="trial-conv") == ["6650b0000000000000000004"]
    assert await list_ids(client, q="no such thing") == []


async def test_fields_projection_always_keeps_id(client: httpx.AsyncClient) -> None:
    response = await client.get(BASE, params={"fields": "name, status"})
    assert all(set(s) == {"id", "name", "status"} for s in response.json()["data"])


async def test_p_filters_by_exact_field_values(client: httpx.AsyncClient) -> None:
    active = [s for s in SEED_SEQUENCES if s["status"] == "active"]
    response = await client.get(BASE, params={"p": json.dumps({"status": "active"})})
    assert response.json()["total"] == len(active)
    urgent = {s["id"] for s in active if s["priority"] == "high"}
    assert set(await list_ids(client, p='{"status": "active", "priority": "high"}')) == urgent


@pytest.mark.parametrize("p", ["{oops", '["status"]', '"active"'])
async def test_p_that_is_not_a_json_object_is_422(client: httpx.AsyncClient, p: str) -> None:
    response = await client.get(BASE, params={"p": p})
    assert response.status_code == 422
    assert "p" in response.json()["errors"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "0"), ("limit", "101"), ("limit", "ten"), ("page", "0"), ("order", "up")],
)
async def test_invalid_list_params_are_422_naming_the_param(client: httpx.AsyncClient, param: str, value: str) -> None:
    response = await client.get(BASE, params={param: value})
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith(f"{param} must be")
    assert set(body["errors"]) == {param}


# --- Create, read, replace, update, delete ----------------------------------


async def test_create_stores_with_defaults_then_get_returns_it(client: httpx.AsyncClient) -> None:
    payload = {"name": "New", "id": "mine", "createdAt": "then", "custom": {"a": 1}}
    response = await client.post(BASE, json=payload)
    assert response.status_code == 201
    created = response.json()
    assert re.fullmatch(r"[0-9a-f]{24}", created["id"])
    assert created["createdAt"].endswith("Z") and created["createdAt"] != "then"
    assert created["custom"] == {"a": 1}
    defaults = {"status": "draft", "deleted": "false", "steps": [], "contacts": [], "tags": []}
    assert created.items() >= defaults.items()
    assert (await client.get(f"{BASE}/{created['id']}")).json() == created
    assert (await client.get(BASE)).json()["data"][0] == created


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, {"code": "X"}])
async def test_create_without_name_is_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(BASE, json=body)
    assert response.status_code == 422
    assert response.json() == {"message": "name is required", "errors": {"name": "required"}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maxContacts", -1),
        ("maxContacts", "five"),
        ("maxContacts", True),
        ("tags", ["ok", 1]),
        ("steps", {"order": 1}),
        ("contacts", [["a@b.c"]]),
        ("owner", ["Maya"]),
        ("schedule", 9),
        ("status", 3),
    ],
)
async def test_create_rejects_mistyped_documented_fields(client: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await client.post(BASE, json={"name": "Typed", field: value})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {field}
    assert field in response.json()["message"]


async def test_get_unknown_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/ffffffffffffffffffffffff")
    assert response.status_code == 404
    assert response.json() == {"message": "Sequence ffffffffffffffffffffffff not found"}


async def test_put_replaces_the_whole_record(client: httpx.AsyncClient) -> None:
    before = (await client.get(f"{BASE}/{SEED_ID}")).json()
    response = await client.put(f"{BASE}/{SEED_ID}", json={"name": "Renamed", "status": "paused"})
    assert response.status_code == 200
    after = response.json()
    assert set(after) == {"id", "name", "status", "createdAt", "updatedAt"}
    assert (after["id"], after["createdAt"]) == (before["id"], before["createdAt"])
    assert after["updatedAt"] != before["updatedAt"]
    assert (await client.get(f"{BASE}/{SEED_ID}")).json() == after


async def test_put_requires_name_and_an_existing_record(client: httpx.AsyncClient) -> None:
    assert (await client.put(f"{BASE}/{SEED_ID}", json={"status": "paused"})).status_code == 422
    assert (await client.put(f"{BASE}/missing", json={"name": "X"})).status_code == 404


async def test_patch_merges_only_given_keys(client: httpx.AsyncClient) -> None:
    before = (await client.get(f"{BASE}/{SEED_ID}")).json()
    response = await client.patch(f"{BASE}/{SEED_ID}", json={"status": "paused", "code": None})
    assert response.status_code == 200
    after = response.json()
    assert after == {**before, "status": "paused", "code": None, "updatedAt": after["updatedAt"]}
    assert after["updatedAt"] != before["updatedAt"]


async def test_patch_with_empty_object_only_touches_updated_at(client: httpx.AsyncClient) -> None:
    before = (await client.get(f"{BASE}/{SEED_ID}")).json()
    after = (await client.patch(f"{BASE}/{SEED_ID}", json={})).json()
    assert after == {**before, "updatedAt": after["updatedAt"]}


@pytest.mark.parametrize("body", [{"maxContacts": "many"}, {"name": None}, {"tags": "vip"}])
async def test_patch_type_checks_given_fields(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.patch(f"{BASE}/{SEED_ID}", json=body)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(body)


async def test_patch_unknown_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.patch(f"{BASE}/missing", json={})).status_code == 404


async def test_delete_at_deleted_path_removes_the_record(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{BASE}/deleted/{SEED_ID}")
    assert response.status_code == 200
    assert response.json() == {"id": SEED_ID, "deleted": True}
    assert (await client.get(f"{BASE}/{SEED_ID}")).status_code == 404
    assert (await client.delete(f"{BASE}/deleted/{SEED_ID}")).status_code == 404


async def test_delete_at_item_path_does_not_delete(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{BASE}/{SEED_ID}")
    assert response.status_code in (404, 405)
    assert "message" in response.json()
    assert (await client.get(f"{BASE}/{SEED_ID}")).status_code == 200


# --- Activity ---------------------------------------------------------------


async def test_activity_is_stored_with_id_and_created_at(client: httpx.AsyncClient) -> None:
    payload = {"sequenceId": SEED_ID, "type": "email_sent", "contactEmail": "x@y.z"}
    response = await client.post(f"{BASE}/activity", json=payload)
    assert response.status_code == 201
    activity = response.json()
    assert activity.items() >= payload.items()
    assert re.fullmatch(r"[0-9a-f]{24}", activity["id"])
    assert activity["createdAt"].endswith("Z")


async def test_activity_for_unknown_sequence_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BASE}/activity", json={"sequenceId": "missing"})
    assert response.status_code == 404
    assert response.json() == {"message": "Sequence missing not found"}


# --- Bad input and routing --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", BASE),
        ("PUT", f"{BASE}/{SEED_ID}"),
        ("PATCH", f"{BASE}/{SEED_ID}"),
        ("POST", f"{BASE}/activity"),
    ],
)
@pytest.mark.parametrize("content", [b"{not json", b"", b'{"name": "x", "n": NaN}'])
async def test_malformed_json_body_is_400(client: httpx.AsyncClient, method: str, path: str, content: bytes) -> None:
    response = await client.request(method, path, content=content)
    assert response.status_code == 400
    assert response.json() == {"message": "Request body is not valid JSON"}


@pytest.mark.parametrize("path", [BASE, f"{BASE}/activity"])
async def test_non_object_body_is_400(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json=["name"])
    assert response.status_code == 400
    assert "JSON object" in response.json()["message"]


async def test_unknown_path_and_wrong_method_answer_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v2/contacts")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
    wrong = await client.put(BASE, json={"name": "X"})
    assert (wrong.status_code, wrong.json()) == (405, {"message": "Method Not Allowed"})


# --- Construction and persistence -------------------------------------------


async def test_seed_false_starts_empty() -> None:
    app = create_sandbox_app(seed=False)
    async with make_client(app) as client:
        assert (await client.get(BASE)).json()["total"] == 0
    app.state.store.close()


async def test_file_database_is_seeded_once_and_keeps_changes(tmp_path: Path) -> None:
    db_path = tmp_path / "nested" / "sandbox.db"
    first = create_sandbox_app(db_path)
    async with make_client(first) as client:
        created = (await client.post(BASE, json={"name": "Survivor"})).json()
    first.state.store.close()

    second = create_sandbox_app(str(db_path))
    async with make_client(second) as client:
        assert (await client.get(BASE)).json()["total"] == len(SEED_SEQUENCES) + 1
        assert (await client.get(f"{BASE}/{created['id']}")).json() == created
    second.state.store.close()


@pytest.mark.parametrize(
    ("field", "value"), [("contacts", ["c-1", 7, {"id": "c-2"}]), ("owner", "u-1"), ("schedule", "weekdays")]
)
async def test_what_the_api_may_answer_with_it_accepts_back(client: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await client.post(BASE, json={"name": "Round trip", field: value})
    assert response.status_code == 201 and response.json()[field] == value


@pytest.mark.parametrize(
    ("p", "expected"),
    [({"tags": "webinar"}, 1), ({"owner.email": "maya.patel@northwind-saas.com"}, 3), ({"owner.nope": 1}, 0)],
)
async def test_filters_read_dotted_paths_and_array_members(client: httpx.AsyncClient, p: dict, expected: int) -> None:
    response = await client.get(BASE, params={"p": json.dumps(p)})
    assert response.json()["total"] == expected
