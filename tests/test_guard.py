"""The guardrail rules on their own: pure functions of the record, the change and the settings."""

from __future__ import annotations

import pytest

from mcp_sequences.guard import (
    DeleteBudget,
    Refused,
    assess,
    cleared_fields,
    confirmation_message,
    marks_deleted,
    typed_correctly,
)
from pydantic import ValidationError

from mcp_sequences.models import SequenceFields
from mcp_sequences.settings import Settings
from tests.conftest import Clock

RECORD = {
    "id": "s1",
    "name": "Q4 Renewals",
    "status": "active",
    "tags": ["vip", "renewal"],
    "steps": [{"order": 1, "type": "email"}],
    "deleted": "false",
    "startDate": "2026-01-05",
}


def settings(**overrides: object) -> Settings:
    return Settings(**overrides)


@pytest.mark.parametrize(
    ("value", "sent"),
    [("true", "true"), ("TRUE", "true"), ("1", "true"), ("yes", "true"), (True, "true"), (1, "true")]
    + [("false", "false"), ("No", "false"), ("0", "false"), (False, "false"), (0, "false")],
)
def test_the_deleted_flag_is_sent_canonically_and_judged_as_sent(value: object, sent: str) -> None:
    """Whatever known word a model writes, the API receives "true"/"false", and the guardrails judge that."""
    flag = SequenceFields(deleted=value).deleted
    assert flag == sent and marks_deleted({"deleted": flag}) is (sent == "true")


# The spellings an attacker sent (issue 9): each went out unchecked, judged "not a delete".
UNKNOWN_SPELLINGS = ["t", "T", "tru", "\uff54\uff52\uff55\uff45", "true\u200b", "true.", "1.0", "enabled"]
UNKNOWN_SPELLINGS += ["[true]", "true\x00", " true", "maybe", "off", "", 2, 1.0, "null"]


@pytest.mark.parametrize("value", UNKNOWN_SPELLINGS)
def test_an_unknown_spelling_of_deleted_is_refused_not_guessed(value: object) -> None:
    with pytest.raises(ValidationError, match="must be true or false"):
        SequenceFields(deleted=value)


@pytest.mark.parametrize(
    ("kind", "change", "deletes", "clears", "needs_yes"),
    [
        ("delete", {}, True, (), True),
        ("patch", {"name": "x"}, False, (), False),
        ("patch", {"deleted": "true"}, True, (), True),
        ("patch", {"steps": [], "name": "y"}, False, ("steps",), True),
        (
            "replace",
            {"name": "x", "status": "active", "tags": ["vip"], "steps": [{}], "startDate": "2026-01-05"},
            False,
            (),
            False,
        ),
        ("replace", {"name": "x"}, False, ("status", "tags", "steps", "startDate"), True),
        (
            "replace",
            {"name": "x", "status": "active", "tags": [], "steps": None, "startDate": ""},
            False,
            ("tags", "steps", "startDate"),
            True,
        ),
    ],
)
def test_what_needs_a_yes_under_confirm(kind, change, deletes, clears, needs_yes) -> None:
    verdict = assess(kind, RECORD, change, settings())
    assert (verdict.deletes, set(verdict.clears), verdict.needs_yes) == (deletes, set(clears), needs_yes)


def test_allow_asks_nobody_and_deny_refuses_every_delete() -> None:
    assert assess("delete", RECORD, {}, settings(delete_policy="allow")).needs_yes is False
    for kind, change in (("delete", {}), ("patch", {"deleted": "true"})):
        with pytest.raises(Refused, match="--delete-policy deny"):
            assess(kind, RECORD, change, settings(delete_policy="deny"))


@pytest.mark.parametrize(
    ("rules", "named"),
    [({"protect_tag": ["vip"]}, "tag 'vip', --protect-tag"), ({"protect_status": ["active"]}, "status 'active'")],
)
@pytest.mark.parametrize(
    ("kind", "change", "refused_for"),
    [
        ("delete", {}, "cannot be deleted"),
        ("patch", {"deleted": "true"}, "cannot be deleted"),
        ("patch", {"status": "paused"}, "status cannot be changed"),
        ("replace", {"name": "x", "tags": ["vip"], "deleted": "false"}, "status"),
    ],
)
def test_protected_records_refuse_and_name_the_rule(rules, named, kind, change, refused_for) -> None:
    with pytest.raises(Refused, match=refused_for) as refused:
        assess(kind, RECORD, change, settings(delete_policy="allow", **rules))
    assert named in str(refused.value)


def test_removing_a_protecting_tag_is_refused_but_other_edits_pass() -> None:
    protect = settings(protect_tag=["vip"])
    with pytest.raises(Refused, match="protecting tag 'vip'"):
        assess("patch", RECORD, {"tags": ["renewal"]}, protect)
    assert assess("patch", RECORD, {"tags": ["vip", "q4"], "name": "New"}, protect).needs_yes is False


def test_cleared_fields_ignore_what_is_empty_already() -> None:
    record = {"id": "s", "name": "n", "tags": [], "code": "", "status": "draft"}
    assert cleared_fields("replace", record, {"name": "n"}) == ("status",)
    assert cleared_fields("patch", record, {"tags": [], "code": None}) == ()


@pytest.mark.parametrize(
    ("typed", "ok"), [("Q4 Renewals", True), ("  q4 renewals ", True), ("Q4", False), ("yes", False), ("", False)]
)
def test_only_the_name_confirms(typed: str, ok: bool) -> None:
    assert typed_correctly(typed, RECORD) is ok


def test_an_unnamed_sequence_is_confirmed_by_its_id() -> None:
    assert typed_correctly("s9", {"_id": "s9"}) and not typed_correctly("", {"id": "s9"})


def test_the_message_says_what_happens_to_what() -> None:
    verdict = assess("replace", RECORD, {"name": "Q4 Renewals"}, settings())
    message = confirmation_message("replace", RECORD, verdict)
    assert message.startswith("REPLACE the sequence 'Q4 Renewals'?")
    assert "id s1; status active; 1 step; starts 2026-01-05" in message
    assert "This clears what the sequence has now in: status, steps, tags, startDate." in message
    assert message.endswith("type the sequence's name: Q4 Renewals")


def test_the_delete_budget_refills_an_hour_after_each_delete() -> None:
    clock = Clock(1000.0)
    budget = DeleteBudget(limit=2, clock=clock)
    budget.reserve()
    clock.now += 600
    budget.reserve()
    with pytest.raises(Refused, match=r"2 deletes an hour \(--max-deletes\).*about 50 minutes"):
        budget.check()
    clock.now += 3000  # the first delete is now an hour old
    budget.reserve()
    with pytest.raises(Refused):
        budget.reserve()


def test_a_released_reservation_is_given_back() -> None:
    budget = DeleteBudget(limit=1)
    budget.release(budget.reserve())
    budget.reserve()
    with pytest.raises(Refused):
        budget.check()


def test_a_zero_budget_refuses_at_once() -> None:
    with pytest.raises(Refused, match="0 deletes an hour"):
        DeleteBudget(limit=0).check()
