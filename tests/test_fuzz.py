"""Property-based fuzzing of every tool through a real MCP client, in both protocol eras.

Hypothesis generates tool calls, valid and hostile alike (wrong types, 100 KB strings, control
characters, path tricks in ids, unknown fields, deep nesting, JSON-encoded lists), plus how the
person answers a confirmation and, now and then, an upstream fault. Every call must:

* come back as a CallToolResult within a deadline: never an exception, a protocol error or a hang;
* when it is an error, say something, show no Python traceback, and, for bad arguments, name
  the field and send nothing;
* when it succeeds, carry the same JSON as text and as structuredContent;
* reach the upstream only on the Sequences endpoints, with a method and id the tool may use.

Afterwards the server must still answer. One server and one client serve every example (a fresh
one per test would cost more than the calls), driven from hypothesis's synchronous test through
an anyio blocking portal. The default run is small and derandomized, so CI is fast and repeatable;
`MCP_SEQUENCES_FUZZ_EXAMPLES=2000` makes a long, randomized run (`--hypothesis-seed=N` replays one).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, ElicitResult
from starlette.applications import Starlette

from mcp_sequences.client import ID_PATTERN
from mcp_sequences.models import MAX_NESTING
from mcp_sequences.sandbox import Fault, SandboxTransport, create_sandbox_app
from mcp_sequences.sandbox.seed import SEED_SEQUENCES
from mcp_sequences.sanitize import clean_text
from mcp_sequences.server import build_server
from tests.conftest import NAME_PROMPT, Person, audit_lines, connect, sandbox_settings

LONG_RUN = int(os.environ.get("MCP_SEQUENCES_FUZZ_EXAMPLES", "0") or 0)
EXAMPLES_PER_ERA = LONG_RUN or 100
CALL_DEADLINE = 30.0  # seconds; the server's own API deadline (below) fires well before
API_TIMEOUT = 10.0
HUGE = 100_000  # bytes in a huge string
# Deep enough to be hostile: far past the server's own limit (32), below where pydantic's own
# serializer would give up (~250; the tests at the end of this file go past that on purpose).
MAX_DEPTH = 200

SEEDED = [record["id"] for record in SEED_SEQUENCES]
PROTECTED_TAG = "events"  # the last seeded sequence has it
MAX_DELETES = 6  # low enough that the fuzzing spends the budget: it must hold
# Never generated as an argument, so it is certainly still there for the liveness check.
SPARED = SEEDED[-1]
TOOLS = (
    "list_sequences",
    "get_sequence",
    "create_sequence",
    "update_sequence",
    "patch_sequence",
    "delete_sequence",
    "create_sequence_activity",
    "restore_sequence",
)

BASE = "/api/v2/sequences"
ID = r"[A-Za-z0-9_-]{1,64}"
UPSTREAM_PATH = re.compile(rf"^{BASE}(/{ID}|/deleted/{ID}|/activity)?$")
# What each tool may send upstream: (method, kind of path), with "item" and "delete" on the call's own id.
ALLOWED: dict[str, set[tuple[str, str]]] = {
    "list_sequences": {("GET", "list")},
    "get_sequence": {("GET", "item")},
    "create_sequence": {("POST", "list")},
    "update_sequence": {("GET", "item"), ("PUT", "item")},
    "patch_sequence": {("GET", "item"), ("PATCH", "item")},
    "delete_sequence": {("GET", "item"), ("DELETE", "delete")},
    "create_sequence_activity": {("POST", "activity")},
    "restore_sequence": {("GET", "item"), ("POST", "list"), ("PUT", "item")},
}
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "', "\n  File ")


# --- Strategies ---------------------------------------------------------------

# Any code point but surrogates: control characters, NUL, RTL marks, emoji, combining marks.
weird_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
huge_text = st.sampled_from(["x", "\x00", "é", "🙂", "\u202e", "a\u0301", "\ufeff", "../"]).map(
    lambda unit: unit * (HUGE // len(unit.encode()))
)
texts = st.one_of(weird_text, huge_text, st.just(""), st.text(max_size=12))
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 100, 101, 2**31, 2**63, -(2**63), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def nested(depth: int, leaf: Any = "leaf", as_list: bool = False) -> Any:
    """A value `depth` levels deep: objects or arrays inside each other."""
    value = leaf
    for level in range(depth):
        value = [value] if as_list and level % 2 else {"n": value}
    return value


deep = st.builds(nested, st.integers(1, MAX_DEPTH), st.sampled_from(["leaf", None, 1, ""]), st.booleans())
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, weird_text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(weird_text, inner, max_size=4)),
    max_leaves=12,
)
anything = st.one_of(junk, texts, deep)

PATH_TRICKS = ["..", "../x", "../../admin", "a/b", "/", ".", "%2F", "a%2Fb", "%2e%2e", "?", "a?b=1", "#", "a#b"]
BLANKS_AND_CONTROLS = ["", " ", "a b", "\t", "\x00", "id\n", "id\r\nX-Injected: 1", "a\u200bb"]
LOOKALIKES = ["ｉｄ", "١٢٣", "İd", "x" * 65, "x" * 10_000, "a" * 64, "0" * 24, "-", "_"]
ENDPOINT_NAMES = ["activity", "deleted", "signin"]  # valid ids that spell another endpoint's path
hostile_ids = st.sampled_from(PATH_TRICKS + BLANKS_AND_CONTROLS + LOOKALIKES + ENDPOINT_NAMES)
any_id = st.one_of(
    hostile_ids,
    st.from_regex(ID_PATTERN, fullmatch=True),
    weird_text,
    junk,
    st.just(SEEDED[0]),
)


def json_string(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """The value sent as a JSON-encoded string, as some clients do for lists and objects."""
    return strategy.map(lambda value: json.dumps(value, ensure_ascii=False))


plain = st.one_of(st.text(max_size=12), st.integers(0, 1000))
small_objects = st.dictionaries(st.sampled_from(["id", "name", "email", "timezone", "x"]), plain, max_size=4)
hostile_objects = st.dictionaries(st.one_of(st.sampled_from(["id", "days", "email"]), weird_text), anything, max_size=4)
step = st.fixed_dictionaries(
    {},
    optional={
        "order": st.integers(0, 50),
        "type": st.sampled_from(["email", "call", "task"]),
        "delayDays": st.integers(0, 400),
        "subject": st.text(max_size=30),
        "body": st.one_of(st.text(max_size=30), huge_text),
        "extra": plain,
    },
)
steps = st.lists(step, max_size=4)
hostile_steps = st.lists(st.one_of(hostile_objects, deep, anything), min_size=1, max_size=3)
contacts = st.lists(small_objects, max_size=3)
tags = st.lists(st.one_of(st.sampled_from(["events", "q1", "vip"]), weird_text), max_size=5)


# Each field: a valid value, and hostile ones. An example is mostly valid with some hostility
# mixed in, so that calls get past validation often enough to reach the API and the person.
def either(valid: st.SearchStrategy[Any], *hostile: st.SearchStrategy[Any]) -> tuple[st.SearchStrategy[Any], ...]:
    """(valid, hostile) values of one field; `anything` is always among the hostile ones."""
    return valid, st.one_of(*hostile, anything)


SEQUENCE_FIELDS: dict[str, tuple[st.SearchStrategy[Any], ...]] = {
    "code": either(st.text(max_size=10), texts),
    "schedule": either(small_objects, json_string(small_objects), hostile_objects, deep),
    "priority": either(st.sampled_from(["low", "high"])),
    "owner": either(small_objects, hostile_objects, deep),
    "type": either(st.sampled_from(["email", "mixed"])),
    "emailFrom": either(small_objects, hostile_objects),
    "maxContacts": either(st.integers(0, 1000), numbers),
    "tags": either(tags, json_string(tags)),
    "status": either(st.sampled_from(["draft", "active", "paused", "archived"]), st.just("")),
    "steps": either(steps, json_string(steps), hostile_steps),
    "contacts": either(contacts, json_string(contacts), hostile_steps),
    "template": either(st.text(max_size=10)),
    "startDate": either(st.just("2026-01-01"), texts),
    "endDate": either(st.just("2026-12-31"), texts),
    "deleted": either(st.sampled_from(["true", "false", "yes", "0", "TRUE ", True, False, 1])),
}
NAME = either(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200), texts)
DRY_RUN = either(st.booleans(), st.sampled_from(["true", "yes", 1, "no"]))
LIST_FIELDS: dict[str, tuple[st.SearchStrategy[Any], ...]] = {
    "limit": either(st.integers(1, 100), numbers),
    "page": either(st.integers(1, 5), numbers),
    "q": either(st.sampled_from(["enterprise", "q1", "events", "Q1 ENTERPRISE"]), texts),
    "sortBy": either(st.sampled_from(["name", "createdAt", "status", "nope"]), texts),
    "order": either(st.sampled_from(["asc", "desc"])),
    "fields": either(st.sampled_from(["id,name", "id", ",,,", "name,steps"]), texts),
    "p": either(json_string(small_objects), st.just('{"status":"active"}'), texts),
}
unknown_fields = st.dictionaries(
    st.one_of(st.sampled_from(["confirm", "requestState", "_meta", "__proto__", "id ", "ID", "force"]), weird_text),
    anything,
    min_size=1,
    max_size=3,
)
ACTIVITY = either(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["email_sent", "note", "call"])},
        optional={"sequenceId": st.sampled_from(SEEDED[:-1]), "note": st.text(max_size=20)},
    ),
    st.fixed_dictionaries({"type": st.just("note")}, optional={"sequenceId": any_id, "note": texts, "payload": deep}),
    json_string(st.dictionaries(st.text(max_size=5), st.text(max_size=5), min_size=1, max_size=3)),
    deep,
)
SHAPES = ["valid"] * 4 + ["one-hostile"] * 4 + ["all-hostile", "missing", "unknown", "nulls", "empty", "none"]


def fields_of(tool: str, ids: tuple[st.SearchStrategy[Any], ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(required, optional) fields of a tool, each as (valid, hostile) strategies."""
    if tool == "list_sequences":
        return {}, LIST_FIELDS
    if tool == "get_sequence":
        return {"id": ids}, {}
    if tool in ("delete_sequence", "restore_sequence"):
        return {"id": ids}, {"dry_run": DRY_RUN}
    if tool == "create_sequence":
        return {"name": NAME}, SEQUENCE_FIELDS | {"dry_run": DRY_RUN}
    if tool == "update_sequence":
        return {"id": ids, "name": NAME}, SEQUENCE_FIELDS | {"dry_run": DRY_RUN}
    if tool == "patch_sequence":
        return {"id": ids}, SEQUENCE_FIELDS | {"name": NAME, "dry_run": DRY_RUN}
    return {"activity": ACTIVITY}, {"dry_run": DRY_RUN}


@st.composite
def arguments(draw: st.DrawFn, tool: str, known_ids: list[str]) -> dict[str, Any] | None:
    """Arguments for `tool`: valid, or with one or all fields hostile, or missing, extra, null or absent."""
    # An index, not sampled_from(known_ids): the draw must not depend on how many records exist now.
    ids = (st.integers(0, 255).map(lambda i: known_ids[i % len(known_ids)] if known_ids else SEEDED[0]), any_id)
    required, optional = fields_of(tool, ids)
    shape = draw(st.sampled_from(SHAPES), label="shape")
    if shape in ("empty", "none"):
        return {} if shape == "empty" else None
    pick = 1 if shape == "all-hostile" else 0
    args = draw(
        st.fixed_dictionaries(
            {name: pair[pick] for name, pair in required.items()},
            optional={name: pair[pick] for name, pair in optional.items()},
        ),
        label="fields",
    )
    if shape == "one-hostile" and (required or optional):
        name = draw(st.sampled_from(sorted(required | optional)), label="hostile field")
        args[name] = draw((required | optional)[name][1], label="hostile value")
    elif shape == "missing" and args:
        args.pop(draw(st.sampled_from(sorted(args))))
    elif shape == "unknown":
        args |= draw(unknown_fields, label="unknown fields")
    elif shape == "nulls":
        args = dict.fromkeys(args or {"id": None})
    return args


# How the person answers a confirmation, if one is asked: "typed:<text>" types that text.
ANSWERS = ("type-the-name", "type-it-loudly", "type-something-else", "decline", "cancel", "bad-form")
answers = st.one_of(st.sampled_from(ANSWERS), weird_text.map(lambda typed: f"typed:{typed}"))
faults = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.builds(
        Fault,
        kind=st.just("status"),
        status=st.sampled_from([400, 401, 404, 409, 422, 500, 503]),
        retry_after=st.just("0"),
    ),
    st.builds(Fault, kind=st.just("rate_limit"), retry_after=st.just("0")),
    st.builds(Fault, kind=st.sampled_from(["malformed", "latency"]), seconds=st.just(0.01)),
    st.builds(Fault, kind=st.just("oversized"), size=st.just(20_000)),
)


# --- The rig: one server, one client, one event loop in a thread ---------------


@dataclass
class Outcome:
    """One call: what was asked, what came back, and every request it made upstream."""

    tool: str
    args: Any
    result: CallToolResult
    sent: list[Any]
    before: dict[str, Any] | None = None  # the target record in the sandbox just before the call
    typed: list[str] = field(default_factory=list)  # what the person typed, if asked


@dataclass
class Rig:
    """A server on a fresh sandbox, a client in one era, and counts of what the fuzzing did."""

    sandbox: Starlette
    portal: BlockingPortal
    client: Client
    answer: str = "decline"
    deleted: set[str] = field(default_factory=set)
    typed: list[str] = field(default_factory=list)  # what the person typed during the current call
    deletes_sent: int = 0
    calls: int = 0
    stats: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    async def person(self, _context: Any, params: Any) -> ElicitResult:
        """The person at the client: answers as the current example says."""
        shown_name = params.message.rsplit(NAME_PROMPT, 1)[-1].strip()
        self.stats["asked"] += 1
        reply = self._reply(shown_name)
        if reply.action == "accept" and isinstance((reply.content or {}).get("name"), str):
            self.typed.append(reply.content["name"])
        return reply

    def _reply(self, shown_name: str) -> ElicitResult:
        if self.answer == "type-the-name":
            return ElicitResult(action="accept", content={"name": shown_name})
        if self.answer == "type-it-loudly":
            return ElicitResult(action="accept", content={"name": f"  {shown_name.upper()} "})
        if self.answer == "type-something-else":
            return ElicitResult(action="accept", content={"name": shown_name[:-1] or "x"})
        if self.answer == "bad-form":
            return ElicitResult(action="accept", content={"nom": shown_name})
        if self.answer.startswith("typed:"):
            return ElicitResult(action="accept", content={"name": self.answer.removeprefix("typed:")})
        return ElicitResult(action=self.answer)

    def known_ids(self, tool: str) -> list[str]:
        """Ids worth aiming at: for a restore, those deleted here; otherwise those the sandbox holds
        now (the spared one excepted), so that writes hit real records too."""
        if tool == "restore_sequence":
            return sorted(self.deleted)
        records = self.portal.call(self.sandbox.state.store.list_sequences)
        return sorted(record["id"] for record in records if record["id"] != SPARED)

    def call(self, tool: str, args: dict[str, Any] | None, fault: Fault | None = None) -> Outcome:
        """One tool call, with the journal cleared before it so `sent` is exactly what it sent."""
        journal = self.sandbox.state.journal
        plan = self.sandbox.state.faults

        target = args.get("id") if isinstance(args, dict) and isinstance(args.get("id"), str) else None
        before = self.portal.call(self.sandbox.state.store.get_sequence, target) if target else None
        self.typed = []

        async def go() -> CallToolResult:
            journal.clear()
            plan.clear()
            if fault is not None:
                plan.inject(fault)
            with anyio.fail_after(CALL_DEADLINE):
                return await self.client.call_tool(tool, args)

        self.calls += 1
        try:
            result = self.portal.call(go)
        except Exception as exc:  # a protocol error or a hang is exactly what this test looks for
            pytest.fail(f"{tool} raised {exc!r} instead of returning a result; arguments: {_short(args)}")
        self.stats[f"{tool}:{'error' if result.is_error else 'ok'}"] += 1
        if tool == "delete_sequence" and not result.is_error and not (result.structured_content or {}).get("dry_run"):
            self.deleted.add(args["id"])
        return Outcome(tool, args, result, list(journal), before, list(self.typed))

    def report(self) -> str:
        took = time.perf_counter() - self.started
        lines = [f"{self.calls} calls in {took:.1f} s ({self.calls / took:.0f}/s)"]
        lines += [f"  {key}: {count}" for key, count in sorted(self.stats.items())]
        return "\n".join(lines)


@contextmanager
def rig(mode: str, tmp_path: Path, max_deletes: int = MAX_DELETES) -> Iterator[Rig]:
    sandbox = create_sandbox_app(":memory:")
    # A protected record the fuzzing aims at (the spared one is never a target), tagged in other letters.
    sandbox.state.store.update_sequence(SEEDED[5], {"tags": [PROTECTED_TAG.upper(), "q1"]})
    options = {
        "rate_per_minute": 1_000_000,
        "rate_per_hour": 1_000_000,
        "timeout": API_TIMEOUT,
        "protect_tag": [PROTECTED_TAG],
        "max_deletes": max_deletes,
        "audit_log": str(tmp_path / "audit.jsonl"),
    }
    server = build_server(sandbox_settings(**options), transport=SandboxTransport(sandbox))
    holder: dict[str, Rig] = {}

    async def person(context: Any, params: Any) -> ElicitResult:
        return await holder["rig"].person(context, params)

    try:
        with start_blocking_portal() as portal:
            client = Client(server, mode=mode, elicitation_callback=person)
            with portal.wrap_async_context_manager(client):
                holder["rig"] = Rig(sandbox, portal, client)
                yield holder["rig"]
    finally:
        sandbox.state.store.close()


# --- Properties ---------------------------------------------------------------


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _text(result: CallToolResult) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


def check_outcome(outcome: Outcome, schema_fields: set[str]) -> None:
    """Every property a single call must have; the message says which call broke it."""
    where = f"{outcome.tool}({_short(outcome.args)})"
    text = _text(outcome.result)
    if outcome.result.is_error:
        assert text.strip(), f"{where}: an error with no text"
        assert not any(mark in text for mark in TRACEBACK_MARKS), f"{where}: a traceback in the error: {text[:500]}"
        if "invalid arguments" in text:
            check_argument_error(where, text, schema_fields | set(outcome.args or {}))
            # Some arguments are judged against the record (a key the API returned, the stored start date): a read only.
            writes = [request for request in outcome.sent if request.method != "GET"]
            assert writes == [], f"{where}: bad arguments, yet sent {writes[:3]}"
    else:
        structured = outcome.result.structured_content
        assert structured is not None, f"{where}: success without structuredContent"
        assert json.dumps(json.loads(text), sort_keys=True) == json.dumps(structured, sort_keys=True), where
    for request in outcome.sent:
        check_request(where, outcome.tool, outcome.args, request)
    check_guardrails(where, outcome)


def is_a_delete(request: Any) -> bool:
    body = request.body if isinstance(request.body, dict) else {}
    return request.method == "DELETE" or (request.method in ("PUT", "PATCH") and body.get("deleted") == "true")


def check_guardrails(where: str, outcome: Outcome, audit_log: Path | None = None) -> None:
    """The guardrail oracle: a delete reaches the API only for an unprotected record whose name the
    person typed (judged here from the sandbox's record, not from what the server showed), or, when
    it was renamed through the server, the name it had before (read here from the audit mirror)."""
    for request in filter(is_a_delete, outcome.sent):
        record = outcome.before or {}
        tags = record.get("tags") if isinstance(record.get("tags"), list) else []
        assert PROTECTED_TAG not in {str(tag).strip().casefold() for tag in tags}, (
            f"{where}: deleted a protected record"
        )
        name = renamed_from(audit_log, record) or record.get("name") or record.get("id")
        name = clean_text(str(name)).strip().casefold()
        assert any(typed.strip().casefold() == name for typed in outcome.typed), (
            f"{where}: {request.method} {request.path} sent, but the person typed {outcome.typed!r}, not {name!r}"
        )


def renamed_from(audit_log: Path | None, record: dict[str, Any]) -> str | None:
    """The name before the first rename of this record that the audit mirror shows, if any."""
    if audit_log is None or not audit_log.exists():
        return None
    for line in map(json.loads, audit_log.read_text(encoding="utf-8").splitlines()):
        body, before = line.get("body"), line.get("before") or {}
        renamed = isinstance(body, dict) and "name" in body and body["name"] != before.get("name")
        if line["outcome"] == "ok" and line["sequence_id"] == str(record.get("id")) and renamed:
            return before.get("name")
    return None


def check_argument_error(where: str, text: str, known: set[str]) -> None:
    """The message names at least one field of the tool, or an unknown one the caller gave.

    (Checked on the whole text, not line by line: a caller's field name may itself hold a newline.)
    """
    assert any(f"\n- {name}" in text for name in known | {"(arguments)"}), f"{where}: names no field: {text[:300]}"


def check_request(where: str, tool: str, args: Any, request: Any) -> None:
    """Only the Sequences endpoints, with a method this tool uses, on the id it was given."""
    assert UPSTREAM_PATH.fullmatch(request.path), f"{where}: reached {request.method} {request.path!r}"
    rest = request.path.removeprefix(BASE)
    if rest == "":
        kind = "list"
    elif rest == "/activity" and request.method == "POST":
        kind = "activity"
    elif rest.startswith("/deleted/") and request.method == "DELETE":
        kind = "delete"
    else:
        kind = "item"
    assert (request.method, kind) in ALLOWED[tool], f"{where}: sent {request.method} {request.path}"
    if kind in ("item", "delete"):
        assert isinstance(args, dict) and rest.rsplit("/", 1)[1] == args.get("id"), (
            f"{where}: sent {request.method} {request.path} for another id"
        )


def schema_fields(rig: Rig) -> dict[str, set[str]]:
    tools = rig.portal.call(rig.client.list_tools).tools
    assert sorted(tool.name for tool in tools) == sorted(TOOLS), "the fuzzing must cover every tool offered"
    return {tool.name: set(tool.input_schema.get("properties", {})) for tool in tools}


def check_alive(rig: Rig) -> None:
    """After everything, the server still reads: the spared sequence and a list page."""
    got = rig.call("get_sequence", {"id": SPARED})
    assert not got.result.is_error and got.result.structured_content["id"] == SPARED, _text(got.result)
    listed = rig.call("list_sequences", {})
    assert not listed.result.is_error, _text(listed.result)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_every_tool_survives_hostile_arguments(mode: str, tmp_path: Path) -> None:
    """The properties of the module docstring, for every generated call; then the server still answers."""
    with rig(mode, tmp_path) as fuzz:
        fields = schema_fields(fuzz)

        @settings(
            max_examples=EXAMPLES_PER_ERA,
            deadline=None,
            derandomize=not LONG_RUN,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(data=st.data(), tool=st.sampled_from(TOOLS), answer=answers, fault=faults)
        def one_call(data: st.DataObject, tool: str, answer: str, fault: Fault | None) -> None:
            args = data.draw(arguments(tool, fuzz.known_ids(tool)), label="arguments")
            fuzz.answer = answer
            outcome = fuzz.call(tool, args, fault)
            check_outcome(outcome, fields[tool])
            fuzz.deletes_sent += sum(map(is_a_delete, outcome.sent))
            assert fuzz.deletes_sent <= MAX_DELETES, f"{fuzz.deletes_sent} deletes reached the API: over --max-deletes"

        one_call()
        check_alive(fuzz)
        assert fuzz.deletes_sent > 0, "no delete reached the API: the guardrail oracle judged nothing"
        print(f"\nfuzz ({mode}): {fuzz.report()}")
        assert fuzz.calls >= EXAMPLES_PER_ERA
        assert all(any(key.startswith(f"{tool}:") for key in fuzz.stats) for tool in TOOLS), fuzz.report()


DELETES = st.sampled_from(
    [
        ("delete_sequence", {}),
        ("patch_sequence", {"deleted": "true"}),
        ("patch_sequence", {"deleted": True, "status": "paused"}),
        ("update_sequence", {"name": "Replaced", "deleted": "yes"}),
    ]
)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_deletes_obey_the_guardrails(mode: str, tmp_path: Path) -> None:
    """Every way to delete, aimed at every record (a protected one too), under every answer of the person:
    the oracle of check_guardrails holds, and the hour's budget is never exceeded."""
    with rig(mode, tmp_path) as fuzz:

        @settings(max_examples=EXAMPLES_PER_ERA // 2, deadline=None, derandomize=not LONG_RUN, database=None)
        @given(how=DELETES, target=st.sampled_from(SEEDED[:-1]), answer=answers)
        def one_delete(how: tuple[str, dict[str, Any]], target: str, answer: str) -> None:
            tool, extra = how
            fuzz.answer = answer
            outcome = fuzz.call(tool, {"id": target} | extra)
            check_guardrails(f"{tool}({target})", outcome, tmp_path / "audit.jsonl")
            fuzz.deletes_sent += sum(map(is_a_delete, outcome.sent))
            assert fuzz.deletes_sent <= MAX_DELETES, f"{fuzz.deletes_sent} deletes reached the API: over --max-deletes"

        one_delete()
        assert fuzz.deletes_sent > 0, fuzz.report()


# --- Bugs the fuzzing found, pinned so they stay fixed ---------------------------------------------
#
# These sit outside the properties above on purpose: the random run keeps nesting under
# MAX_DEPTH and does not judge what a string turns into.


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "sent_as"),
    [
        ("list_sequences", {"p": '{"status":"active"}'}, ("p", '{"status":"active"}')),
        ("list_sequences", {"q": "null"}, ("q", "null")),
        ("patch_sequence", {"id": SEEDED[0], "code": "null", "dry_run": True}, ("code", "null")),
        ("patch_sequence", {"id": SEEDED[0], "template": "[1]", "dry_run": True}, ("template", "[1]")),
    ],
    ids=["p-as-documented", "q-null", "code-null", "template-list"],
)
async def test_a_string_argument_arrives_as_that_string(
    sandbox: Starlette, tool: str, args: dict[str, Any], sent_as: tuple[str, str]
) -> None:
    """A string field gets the caller's string, even one that looks like JSON (the `p` filter *is* JSON)."""
    async with connect(sandbox, "auto") as client:
        result = await client.call_tool(tool, args)
    assert result.is_error is False, _text(result)
    name, value = sent_as
    if tool == "list_sequences":
        assert sandbox.state.journal[-1].query.get(name) == value
    else:
        assert result.structured_content["dry_run"]["request"]["body"] == {name: value}


# Around this many levels pydantic's serializer stops (its limit, less the envelope around the value).
NEAR_THE_LIMIT = range(244, 256)


async def _call_or_exception(client: Client, tool: str, args: dict[str, Any]) -> CallToolResult | Exception:
    try:
        with anyio.fail_after(CALL_DEADLINE):
            return await client.call_tool(tool, args)
    except Exception as exc:
        return exc


@pytest.mark.anyio
async def test_deep_nesting_never_becomes_a_protocol_error(sandbox: Starlette) -> None:
    """Whatever the depth, a call returns a result; depth the server cannot answer for must be refused up front."""
    failures = []
    person = Person.typing_the_name()
    async with connect(sandbox, "auto", elicitation_callback=person) as client:
        for depth in NEAR_THE_LIMIT:
            args = {"name": f"deep {depth}", "owner": nested(depth)}
            created = await _call_or_exception(client, "create_sequence", args)
            if isinstance(created, ValueError):  # the SDK *client* refuses to serialize this deep: not the server's
                continue
            dry = await _call_or_exception(client, "create_sequence", args | {"dry_run": True})
            listed = await _call_or_exception(client, "list_sequences", {})
            stored = sandbox.state.store.create_sequence({"name": f"stored {depth}", "owner": nested(depth)})
            person.names[stored["id"]] = stored["name"]
            got = await _call_or_exception(client, "get_sequence", {"id": stored["id"]})
            deleted = await _call_or_exception(client, "delete_sequence", {"id": stored["id"]})
            for what, outcome in [
                ("create", created),
                ("dry run", dry),
                ("list", listed),
                ("get", got),
                ("delete", deleted),
            ]:
                if isinstance(outcome, Exception):
                    failures.append(f"depth {depth}: {what} raised {outcome!r}")
    assert failures == [], "\n".join(failures)


@pytest.mark.anyio
async def test_every_write_the_api_received_is_audited(sandbox: Starlette) -> None:
    """No record, no write: a write that reached the API has its audit line, whatever its depth.

    (The activity is sent as given, so depth is the only thing that varies.)"""
    unaudited, sent_count = [], 0
    async with connect(sandbox, "auto") as client:
        # Deep values are refused at MAX_NESTING before anything is sent; these get through, and reach the API.
        for depth in [*range(0, MAX_NESTING - 1, 5), *NEAR_THE_LIMIT]:
            before = len(sandbox.state.journal)
            args = {"activity": {"type": "note", "code": str(depth), "payload": nested(depth, as_list=True)}}
            result = await _call_or_exception(client, "create_sequence_activity", args)
            sent = len(sandbox.state.journal) > before
            sent_count += sent
            if sent and not [line for line in audit_lines() if line["body"]["code"] == str(depth)]:
                unaudited.append(f"depth {depth}: sent, not audited; the tool said {_short(result)}")
    assert unaudited == [], "\n".join(unaudited)
    assert sent_count >= 2, "hardly any create reached the API: this test would check nothing"


def test_whatever_was_deleted_can_be_restored(tmp_path: Path) -> None:
    """Delete by typing the name, then restore: it comes back, whatever characters its fields hold."""
    with rig("auto", tmp_path, max_deletes=1_000) as fuzz:
        fuzz.answer = "type-the-name"

        @settings(max_examples=10, deadline=None, derandomize=True, database=None)
        @example(name="Line\u2028separator")
        @example(name="Next\x85line")
        @given(name=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
        def round_trip(name: str) -> None:
            created = fuzz.call("create_sequence", {"name": f"n{name}", "code": name})
            assert not created.result.is_error, _text(created.result)
            sequence_id = created.result.structured_content["sequence"]["id"]
            deleted = fuzz.call("delete_sequence", {"id": sequence_id})
            assert not deleted.result.is_error, _text(deleted.result)
            restored = fuzz.call("restore_sequence", {"id": sequence_id})
            assert not restored.result.is_error, _text(restored.result)
            new_id = restored.result.structured_content["sequence"]["id"]
            assert fuzz.sandbox.state.store.get_sequence(new_id)["code"] == name  # restored exactly, as stored

        round_trip()
