"""shaping: the API's JSON, in whatever envelope, into SequencePage / Sequence / Activity."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_sequences.errors import APIResponseError
from mcp_sequences.models import Activity, Sequence
from mcp_sequences.shaping import activity, fit, sequence, sequence_page

A = {"id": "a1", "name": "Alpha"}
B = {"id": "b2", "name": "Beta"}


# --- sequence_page: envelopes --------------------------------------------------------------

# raw, asked (page, limit), expected (ids, total, page, limit, has_more)
ENVELOPES = [
    pytest.param([A, B], (1, 20), (["a1", "b2"], None, 1, 20, False), id="bare-array"),
    pytest.param({"data": [A, B]}, (1, 20), (["a1", "b2"], None, 1, 20, False), id="data"),
    pytest.param({"items": [A]}, (1, 20), (["a1"], None, 1, 20, False), id="items"),
    pytest.param({"results": [B]}, (1, 20), (["b2"], None, 1, 20, False), id="results"),
    pytest.param(
        {"docs": [A, B], "totalDocs": 5, "page": 2, "limit": 2, "totalPages": 3, "hasNextPage": True},
        (None, None),
        (["a1", "b2"], 5, 2, 2, True),
        id="mongoose-paginate",
    ),
    pytest.param(
        {"docs": [A], "totalDocs": 50, "page": 1, "limit": 1, "hasNextPage": False},
        (1, 1),
        (["a1"], 50, 1, 1, False),
        id="explicit-flag-beats-total",
    ),
    pytest.param({"data": [A, B], "meta": {"total": 7}}, (3, 2), (["a1", "b2"], 7, 3, 2, True), id="meta-total-more"),
    pytest.param({"data": [A], "meta": {"total": 7}}, (4, 2), (["a1"], 7, 4, 2, False), id="meta-total-last"),
    pytest.param(
        {"data": [A, B], "pagination": {"total": 2, "page": 1, "limit": 10}},
        (5, 50),
        (["a1", "b2"], 2, 1, 10, False),
        id="pagination-echo-wins",
    ),
    pytest.param(
        {"data": [A, B], "total": "5", "page": "1", "limit": "2"},
        (None, None),
        (["a1", "b2"], 5, 1, 2, True),
        id="numeric-strings",
    ),
    pytest.param([A, B], (1, 2), (["a1", "b2"], None, 1, 2, True), id="full-page-no-totals"),
    pytest.param([A, B], (None, None), (["a1", "b2"], None, None, None, False), id="no-limit-no-totals"),
    pytest.param([], (1, 20), ([], None, 1, 20, False), id="empty-array"),
    pytest.param({"data": [], "total": 0}, (1, 20), ([], 0, 1, 20, False), id="empty-with-total"),
]


@pytest.mark.parametrize(("raw", "asked", "expected"), ENVELOPES)
def test_sequence_page_envelopes(raw: Any, asked: tuple, expected: tuple) -> None:
    result = sequence_page(raw, page=asked[0], limit=asked[1])

    got = ([item.id for item in result.items], result.total, result.page, result.limit, result.has_more)
    assert got == expected


def test_unknown_fields_survive_and_underscore_id_becomes_id() -> None:
    raw = [{"_id": "a1", "name": "Alpha", "customField": {"x": 1}, "steps": [{"order": 1, "abTest": True}]}]

    item = sequence_page(raw, page=1, limit=20).items[0]
    dumped = item.model_dump()

    assert item.id == "a1"
    assert "_id" not in dumped
    assert dumped["customField"] == {"x": 1}
    assert dumped["steps"][0]["abTest"] is True


@pytest.mark.parametrize(
    "raw",
    [{"message": "ok"}, {"data": {"id": "a1"}}, "ok", 42, None],
    ids=["message-only", "data-is-object", "string", "number", "none"],
)
def test_sequence_page_without_a_list_is_a_response_error(raw: Any) -> None:
    with pytest.raises(APIResponseError, match="no list of sequences"):
        sequence_page(raw, page=1, limit=20)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"id": "a1", "steps": "three"}, "steps"),
        ({"id": "a1", "maxContacts": "lots"}, "maxContacts"),
        ({"id": "a1", "steps": [{"order": "first"}]}, "steps.0.order"),
        ("a1", "(root)"),
    ],
)
def test_item_of_the_wrong_shape_names_the_field(item: Any, field: str) -> None:
    with pytest.raises(APIResponseError, match=r"a listed sequence .*\(fields: ") as caught:
        sequence_page({"data": [item]}, page=1, limit=20)

    assert f"(fields: {field})" in str(caught.value)


# --- sequence and activity -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["data", "sequence", "result", "record"])
def test_sequence_unwraps_an_envelope(key: str) -> None:
    result = sequence({key: {"_id": "a1", "name": "Alpha"}, "success": True})

    assert (result.id, result.name) == ("a1", "Alpha")


@pytest.mark.parametrize("id_key", ["id", "_id"])
def test_sequence_does_not_unwrap_a_record_that_has_an_id(id_key: str) -> None:
    result = sequence({id_key: "a1", "name": "Alpha", "data": {"id": "inner"}})

    assert (result.id, result.name) == ("a1", "Alpha")
    assert result.model_dump()["data"] == {"id": "inner"}


@pytest.mark.parametrize(("fallback_id", "expected"), [("a1", Sequence(id="a1")), (None, Sequence())])
def test_sequence_of_none_uses_the_fallback_id(fallback_id: str | None, expected: Sequence) -> None:
    assert sequence(None, fallback_id=fallback_id) == expected


@pytest.mark.parametrize("raw", [[A], "a1"], ids=["list", "string"])
def test_sequence_of_a_non_object_is_a_response_error(raw: Any) -> None:
    with pytest.raises(APIResponseError, match="JSON object"):
        sequence(raw)


def test_sequence_of_the_wrong_shape_names_the_field() -> None:
    with pytest.raises(APIResponseError, match=r"the sequence .*\(fields: tags\)"):
        sequence({"data": {"id": "a1", "tags": "vip"}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Activity()),
        ({"data": {"id": "act1", "type": "note"}}, Activity(id="act1", type="note")),
        ({"ok": True}, Activity(ok=True)),
    ],
)
def test_activity(raw: Any, expected: Activity) -> None:
    assert activity(raw) == expected


@pytest.mark.parametrize("raw", [{"success": True, "data": None}, {"message": "Updated"}])
def test_an_acknowledgement_keeps_the_id_the_write_was_about(raw: dict[str, Any]) -> None:
    assert sequence(raw, fallback_id="abc").id == "abc"


def test_a_zero_based_page_number_from_the_api_is_kept() -> None:
    page = sequence_page({"data": [{"id": "a"}], "page": 0, "limit": 1, "total": 2}, page=3, limit=10)
    assert (page.page, page.limit, page.has_more) == (0, 1, True)


def test_a_page_too_large_for_the_context_is_cut_with_a_note() -> None:
    items = [{"id": str(n), "name": "x" * 500} for n in range(40)]
    page = sequence_page({"data": items, "total": 40}, page=1, limit=40)
    cut = fit(page, 5_000)
    assert 1 <= len(cut.items) < 40 and len(cut.model_dump_json(exclude_unset=True)) <= 5_000
    assert cut.has_more is False and "fields=" in cut.note and f"Cut to {len(cut.items)} of the 40" in cut.note
    assert fit(page, 10**6) is page
