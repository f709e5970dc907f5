"""shaping: the API's JSON, in whatever envelope or shape, into what the tools return; never an error."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_sequences.shaping import ListAnswer, project, record, shown, summary

A = {"id": "a1", "name": "Alpha"}
B = {"id": "b2", "name": "Beta"}


# raw, asked (page, limit), expected (ids, total, has_more)
ENVELOPES = [
    pytest.param([A, B], (1, 20), (["a1", "b2"], None, False), id="bare-array"),
    pytest.param({"data": [A, B]}, (1, 20), (["a1", "b2"], None, False), id="data"),
    pytest.param({"items": [A]}, (1, 20), (["a1"], None, False), id="items"),
    pytest.param({"results": [B]}, (1, 20), (["b2"], None, False), id="results"),
    pytest.param({"sequences": [A, B], "count": 3}, (1, 2), (["a1", "b2"], 3, True), id="sequences-count"),
    pytest.param({"rows": [A, B], "n": 9}, (1, 20), (["a1", "b2"], None, False), id="any-one-key-of-objects"),
    pytest.param({"data": {"items": [A], "total": 4}}, (1, 1), (["a1"], 4, True), id="nested-under-data"),
    pytest.param(
        {"docs": [A, B], "totalDocs": 5, "page": 2, "limit": 2, "hasNextPage": True},
        (2, 2),
        (["a1", "b2"], 5, True),
        id="mongoose-paginate",
    ),
    pytest.param(
        {"docs": [A], "totalDocs": 50, "page": 1, "limit": 1, "hasNextPage": False},
        (1, 1),
        (["a1"], 50, False),
        id="explicit-flag-beats-total",
    ),
    pytest.param({"data": [A, B], "meta": {"total": 7}}, (3, 2), (["a1", "b2"], 7, True), id="meta-total-more"),
    pytest.param({"data": [A], "meta": {"total": 7}}, (4, 2), (["a1"], 7, False), id="meta-total-last"),
    pytest.param(
        {"data": [A, B], "pagination": {"total": 12, "page": 1, "limit": 10}},
        (1, 50),
        (["a1", "b2"], 12, True),
        id="a-capped-limit-echoed-wins",
    ),
    pytest.param({"data": [A, B], "total": "5"}, (1, 2), (["a1", "b2"], 5, True), id="numeric-strings"),
    pytest.param([A, B], (1, 2), (["a1", "b2"], None, True), id="full-page-no-totals"),
    pytest.param([], (1, 20), ([], None, False), id="empty-array"),
    pytest.param({"data": [], "total": 0}, (1, 20), ([], 0, False), id="empty-with-total"),
]


@pytest.mark.parametrize(("raw", "asked", "expected"), ENVELOPES)
def test_list_envelopes(raw: Any, asked: tuple[int, int], expected: tuple) -> None:
    answer = ListAnswer(raw)
    got = ([item["id"] for item in answer.items], answer.total(), answer.has_more(*asked))
    assert got == expected and answer.note is None


@pytest.mark.parametrize(
    "raw", [{"message": "ok"}, "ok", 42, None, {"a": [1, 2], "b": [3]}], ids=["message", "str", "int", "none", "two"]
)
def test_an_unrecognised_list_answer_is_kept_raw_with_a_note(raw: Any) -> None:
    answer = ListAnswer(raw)
    assert answer.items == [] and answer.raw == raw and "does not recognise" in answer.note


def test_list_items_that_are_not_objects_are_kept_as_values() -> None:
    assert ListAnswer(["c-1", 7]).items == [{"value": "c-1"}, {"value": 7}]


def test_unknown_fields_survive_and_underscore_id_becomes_id() -> None:
    item = ListAnswer([{"_id": "a1", "customField": {"x": 1}, "steps": [{"abTest": True}]}]).items[0]
    assert item == {"id": "a1", "customField": {"x": 1}, "steps": [{"abTest": True}]}


@pytest.mark.parametrize("key", ["data", "sequence", "result", "record", "item"])
def test_record_unwraps_an_envelope(key: str) -> None:
    assert record({key: {"_id": "a1", "name": "Alpha"}, "success": True}) == {"id": "a1", "name": "Alpha"}


@pytest.mark.parametrize("id_key", ["id", "_id"])
def test_record_does_not_unwrap_a_record_that_has_an_id(id_key: str) -> None:
    assert record({id_key: "a1", "data": {"id": "inner"}}) == {"id": "a1", "data": {"id": "inner"}}


def test_an_extended_json_object_id_is_read_as_the_id() -> None:
    assert record({"_id": {"$oid": "65f0"}, "name": "x"})["id"] == "65f0"


@pytest.mark.parametrize(
    ("raw", "fallback", "expected"),
    [
        (None, "a1", {"id": "a1"}),
        (None, None, {}),
        ({"success": True, "data": None}, "abc", {"id": "abc", "success": True, "data": None}),
        ({"message": "Updated"}, "abc", {"id": "abc", "message": "Updated"}),
        ([{"id": "x"}], None, {"id": "x"}),
    ],
)
def test_an_acknowledgement_keeps_the_id_the_write_was_about(raw: Any, fallback: str | None, expected: dict) -> None:
    assert record(raw, fallback) == expected


@pytest.mark.parametrize("raw", [[A, B], "ok", 42, True])
def test_a_record_answer_that_is_not_an_object_is_kept_raw_with_a_note(raw: Any) -> None:
    result = record(raw, "s1")
    assert result["id"] == "s1" and result["raw"] == raw and "does not recognise" in result["note"]


def test_an_answer_nested_too_deep_is_passed_on_as_text() -> None:
    deep: Any = "bottom"
    for _ in range(40):
        deep = [deep]
    result = record({"id": "s", "x": deep}, None)
    assert result["id"] == "s" and result["x"] == deep  # kept for the tools; display turns it into text
    shown_deep = shown(deep)
    assert "bottom" in shown_deep["raw_json"] and "deeper" in shown_deep["note"]


SUMMARY_CASES = [
    pytest.param(
        {
            "id": "s1",
            "name": "Q1",
            "status": "active",
            "owner": {"name": "Maya", "email": "m@x"},
            "steps": [{}, {}],
            "contacts": [{"id": 1}],
            "tags": ["a", "b"],
            "updatedAt": "2026-03-04T05:06:07Z",
            "schedule": {"timezone": "UTC"},
        },
        {
            "id": "s1",
            "name": "Q1",
            "status": "active",
            "owner": "Maya",
            "steps": 2,
            "contacts": 1,
            "tags": ["a", "b"],
            "updated": "2026-03-04",
        },
        id="objects",
    ),
    pytest.param(
        {"_id": 42, "name": 7, "owner": "u-9", "contacts": ["c-1", "c-2"], "steps": "email,call", "tags": "x, y"},
        {"id": "42", "name": "7", "owner": "u-9", "steps": 2, "contacts": 2, "tags": ["x", "y"]},
        id="ids-and-text",
    ),
    pytest.param(
        {"id": "s", "createdAt": 1767225600000, "deleted": True, "owner": {"id": 5}},
        {"id": "s", "owner": "5", "steps": 0, "contacts": 0, "updated": "2026-01-01", "deleted": True},
        id="epoch-ms-and-boolean-deleted",
    ),
    pytest.param(
        {"id": "s", "deleted": "false", "updatedAt": 1767225600, "name": "a\u202eb\u200bc"},
        {"id": "s", "name": "abc", "steps": 0, "contacts": 0, "updated": "2026-01-01"},
        id="epoch-seconds-and-invisible-characters",
    ),
]


@pytest.mark.parametrize(("item", "expected"), SUMMARY_CASES)
def test_a_summary_says_what_a_person_scanning_a_list_needs(item: dict, expected: dict) -> None:
    assert summary(item) == expected


def test_a_projection_keeps_the_id_and_the_fields_asked_for_even_if_the_api_sent_more() -> None:
    item = {"id": "s", "name": "n", "steps": [1], "secret": "x"}
    assert project(item, ["name", "missing"]) == {"id": "s", "name": "n"}
