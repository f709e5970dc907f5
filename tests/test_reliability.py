"""Reliability end to end: faults injected into the sandbox, a real MCP client, outcomes read off the journal.

Each server here talks to the sandbox through `SandboxTransport`, so a refused connection never
reaches the sandbox (not journaled) and a reset one did (journaled), as on a network. The journal
is the upstream's own record of what the server sent: it counts attempts, and the store shows
whether a create happened. Test ids read as a table: era, fault, and how it should end.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_sequences.sandbox import SANDBOX_EMAIL, SANDBOX_PASSWORD, Fault, SandboxTransport, create_sandbox_app
from mcp_sequences.server import build_server
from mcp_sequences.transport import RetryPolicy
from tests.conftest import FIRST_ID, audit_lines, call, journal, sandbox_settings

pytestmark = pytest.mark.anyio

SEQUENCES = "/api/v2/sequences"
ONE = f"{SEQUENCES}/{FIRST_ID}"
SIGNIN = "/api/v2/signin"
LIST_ARGS = {"limit": 1}
# No single test may hang the suite: every test body runs under this bound.
BOUND = 10.0
# Slow cases (real, jittered backoff) run in one era; the cheap ones in both.
ONE_ERA = "legacy"


def serve(sandbox: Starlette, mode: str, **overrides: object) -> Client:
    """An MCP client of a server whose upstream is this sandbox, over a network-like transport."""
    server = build_server(sandbox_settings(**overrides), transport=SandboxTransport(sandbox))
    return Client(server, mode=mode)


async def error_text(client: Client, tool: str, args: dict[str, Any]) -> str:
    """An API failure must end as an isError result (never a protocol error) that explains itself."""
    result = await client.call_tool(tool, args)  # an MCPError (protocol error) would raise here
    assert result.is_error is True, result.content[0].text
    text = result.content[0].text
    assert text.startswith(f"Error executing tool {tool}: "), text
    assert "Traceback" not in text and 'File "' not in text, text
    return text


def stored(sandbox: Starlette) -> list[dict[str, Any]]:
    return sandbox.state.store.list_sequences()


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """No sleeping between retries: for tests about how a failure ends, not about how long retries wait.

    The retry decisions and counts stay the real RetryTransport's; only the jittered sleep is zero.
    """
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, retry: 0.0)


# --- Every fault kind ends as an explanation, and the next call works -----------------------------


@dataclass(frozen=True)
class Row:
    """One line of the fault table: what is injected, into which settings, and how the call must end."""

    fault: Fault
    attempts: int  # requests the sandbox saw for the failing call
    says: tuple[str, ...]  # the cause and the next step, as written in the error
    settings: dict[str, Any] = field(default_factory=dict)


def every(kind: str, **options: Any) -> Fault:
    """A fault on every list request, so retries cannot get past it."""
    return Fault(kind, times=0, method="GET", path=SEQUENCES, **options)  # type: ignore[arg-type]


FAULT_TABLE = {
    "status-500": Row(every("status", status=500), 1, ("HTTP 500", "failed on its side", "try again later")),
    "status-503-every-time": Row(every("status", status=503), 3, ("HTTP 503", "try again later", "may be down")),
    "rate_limit-retry-after-past-cap": Row(
        every("rate_limit", retry_after="120"), 1, ("HTTP 429", "Too many requests", "wait")
    ),
    "reset-every-time": Row(every("reset"), 3, ("Could not reach the API", "ReadError", "try again")),
    "refuse-every-time": Row(
        every("refuse"), 0, ("Could not reach the API", "ConnectError", "check ICLOUDREADY_BASE_URL and the network")
    ),
    "timeout-past-deadline": Row(
        every("timeout", seconds=30), 1, ("did not answer", "within 0.1 s", "try again later"), {"timeout": 0.1}
    ),
    "latency-past-deadline": Row(
        every("latency", seconds=30), 1, ("did not answer", "within 0.1 s", "narrow the request"), {"timeout": 0.1}
    ),
    "html-502-page-every-time": Row(every("html"), 3, ("HTTP 502", "failed on its side", "try again later")),
    "malformed-json": Row(every("malformed"), 1, ("not valid JSON", "try again", "ICLOUDREADY_BASE_URL")),
    "oversized-answer": Row(
        every("oversized", size=200_000),
        1,
        ("over this server's limit of 50,000", "smaller limit", "fields="),
        {"max_response_bytes": 50_000},
    ),
}


@pytest.mark.usefixtures("quick_backoff")
@pytest.mark.parametrize("row", FAULT_TABLE.values(), ids=FAULT_TABLE.keys())
async def test_fault_ends_as_an_explanation_then_the_next_call_works(sandbox: Starlette, mode: str, row: Row) -> None:
    sandbox.state.faults.inject(row.fault)
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, **row.settings) as client:
            text = await error_text(client, "list_sequences", LIST_ARGS)
            assert journal(sandbox) == [("GET", SEQUENCES)] * row.attempts
            sandbox.state.faults.clear()
            page = await call(client, "list_sequences", LIST_ARGS)
    for phrase in row.says:
        assert phrase in text, f"{phrase!r} not in {text!r}"
    assert "<" not in text and len(text) < 600, text  # no HTML page, no quoted flood
    assert len(page["items"]) == 1
    assert journal(sandbox) == [("GET", SEQUENCES)] * (row.attempts + 1)


# --- Retries: a transient failure costs one retry; a lasting one three attempts in all -----------

ONCE = {
    "503-once": Fault("status", status=503),
    "502-once": Fault("status", status=502),
    "504-once": Fault("status", status=504),
    "429-retry-after-0-once": Fault("rate_limit", retry_after="0"),
    "reset-once": Fault("reset"),
}


@pytest.mark.usefixtures("quick_backoff")
@pytest.mark.parametrize("fault", ONCE.values(), ids=ONCE.keys())
async def test_get_with_one_transient_failure_succeeds_on_the_second_attempt(
    sandbox: Starlette, mode: str, fault: Fault
) -> None:
    sandbox.state.faults.inject(fault)
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            got = await call(client, "get_sequence", {"id": FIRST_ID})
    assert got["id"] == FIRST_ID
    assert journal(sandbox) == [("GET", ONE)] * 2


@pytest.mark.parametrize("mode", [ONE_ERA])
async def test_get_with_one_503_and_the_real_backoff_succeeds_within_half_a_second(
    sandbox: Starlette, mode: str
) -> None:
    """The one retry test with the real jittered backoff (0-0.5 s before the first retry)."""
    sandbox.state.faults.inject(Fault("status", status=503))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            started = time.monotonic()
            await call(client, "get_sequence", {"id": FIRST_ID})
            elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 0.5  # the backoff's ceiling, and room for a busy machine
    assert journal(sandbox) == [("GET", ONE)] * 2


LASTING = {
    "503-five-times": (Fault("status", status=503, times=5), "HTTP 503 for sequence"),
    "429-retry-after-0-five-times": (Fault("rate_limit", retry_after="0", times=5), "HTTP 429 for sequence"),
    "reset-five-times": (Fault("reset", times=5), "Could not reach the API"),
}


@pytest.mark.usefixtures("quick_backoff")
@pytest.mark.parametrize(("fault", "says"), LASTING.values(), ids=LASTING.keys())
async def test_get_failing_past_the_retry_limit_fails_after_3_attempts(
    sandbox: Starlette, mode: str, fault: Fault, says: str
) -> None:
    sandbox.state.faults.inject(fault)
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            text = await error_text(client, "get_sequence", {"id": FIRST_ID})
            assert journal(sandbox) == [("GET", ONE)] * 3
            await call(client, "get_sequence", {"id": FIRST_ID})  # the two faults left are used up here
    assert says in text, text
    assert journal(sandbox) == [("GET", ONE)] * 6


async def test_429_retry_after_past_the_cap_is_reported_not_waited_for(sandbox: Starlette, mode: str) -> None:
    sandbox.state.faults.inject(Fault("rate_limit", retry_after="31"))  # the cap is 30 s
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            started = time.monotonic()
            text = await error_text(client, "get_sequence", {"id": FIRST_ID})
            elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert "HTTP 429" in text and "wait" in text
    assert journal(sandbox) == [("GET", ONE)]


# --- A create is never duplicated ----------------------------------------------------------------

POST_REACHED = {
    "503": (Fault("status", status=503, method="POST"), "HTTP 503 for the new sequence"),
    "429-retry-after-0": (Fault("rate_limit", retry_after="0", method="POST"), "HTTP 429 for the new sequence"),
    "reset": (Fault("reset", method="POST"), "may or may not have been done. Check first (list_sequences"),
}


@pytest.mark.parametrize(("fault", "says"), POST_REACHED.values(), ids=POST_REACHED.keys())
async def test_post_that_reached_the_api_is_not_retried(
    sandbox: Starlette, mode: str, fault: Fault, says: str | None
) -> None:
    before = len(stored(sandbox))
    sandbox.state.faults.inject(fault)
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            text = await error_text(client, "create_sequence", {"name": "Sent once"})
    assert says in text, text
    assert journal(sandbox) == [("POST", SEQUENCES)]
    assert len(stored(sandbox)) == before
    assert not [r for r in stored(sandbox) if r["name"] == "Sent once"]
    unknown = fault.kind == "reset"  # it reached the API and no answer came back: done or not, nobody knows
    assert [line["outcome"] for line in audit_lines()] == ["unknown" if unknown else "failed"]


@pytest.mark.usefixtures("quick_backoff")
async def test_post_refused_before_reaching_the_api_is_retried_and_creates_one_record(
    sandbox: Starlette, mode: str
) -> None:
    before = len(stored(sandbox))
    sandbox.state.faults.inject(Fault("refuse", method="POST"))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            created = await call(client, "create_sequence", {"name": "Created once"})
    assert journal(sandbox) == [("POST", SEQUENCES)]  # the refused attempt never reached it
    assert len(stored(sandbox)) == before + 1
    assert [r["id"] for r in stored(sandbox) if r["name"] == "Created once"] == [created["sequence"]["id"]]


async def test_a_retry_after_beyond_the_deadline_is_reported_at_once(sandbox: Starlette, mode: str) -> None:
    """Waiting 5 s when the call has 0.5 s would only end in a timeout that hides the API's own answer."""
    sandbox.state.faults.inject(Fault("rate_limit", retry_after="5"))
    started = time.monotonic()
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, timeout=0.5) as client:
            text = await error_text(client, "list_sequences", LIST_ARGS)
    assert time.monotonic() - started < 0.5
    assert "HTTP 429" in text and "Retry-After 5" in text
    assert journal(sandbox) == [("GET", SEQUENCES)]


# --- Time is bounded ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [ONE_ERA])
async def test_timeout_fault_of_30s_ends_at_the_1s_deadline(sandbox: Starlette, mode: str) -> None:
    sandbox.state.faults.inject(Fault("timeout", seconds=30))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, timeout=1) as client:
            started = time.monotonic()
            text = await error_text(client, "list_sequences", LIST_ARGS)
            elapsed = time.monotonic() - started
            await call(client, "list_sequences", LIST_ARGS)
    assert 0.9 < elapsed < 2.0
    assert "did not answer GET the sequence list within 1 s, retries included" in text
    assert journal(sandbox) == [("GET", SEQUENCES)] * 2


async def test_latency_under_the_deadline_is_only_slower(sandbox: Starlette, mode: str) -> None:
    """Also the control for the cancellation test: a slow create does go through when left alone."""
    sandbox.state.faults.inject(Fault("latency", seconds=0.1, method="POST"))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, timeout=1) as client:
            started = time.monotonic()
            created = await call(client, "create_sequence", {"name": "Slow but sure"})
            elapsed = time.monotonic() - started
    assert 0.1 <= elapsed < 1.0
    assert journal(sandbox) == [("POST", SEQUENCES)]
    assert [r["id"] for r in stored(sandbox) if r["name"] == "Slow but sure"] == [created["sequence"]["id"]]


# --- Results that would flood the context --------------------------------------------------------


async def test_list_page_over_max_result_chars_is_cut_with_a_cursor_to_the_rest(sandbox: Starlette, mode: str) -> None:
    """The issue-8 defect: following "page + 1" after a cut skipped what was cut. The cursor resumes there."""
    for i in range(5):
        sandbox.state.store.create_sequence({"name": f"Big {i} " + "n" * 150, "status": "draft"})
    total = len(stored(sandbox))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, max_result_chars=1000) as client:
            page = await call(client, "list_sequences", {"limit": 100})
            kept = len(page["items"])
            assert page["has_more"] is True and page["total"] == total and 1 <= kept < total
            assert f"Cut to {kept} of {total} sequences" in page["note"] and "cursor=next_cursor" in page["note"]
            seen = [item["id"] for item in page["items"]]
            while page["has_more"]:
                page = await call(client, "list_sequences", {"cursor": page["next_cursor"]})
                seen += [item["id"] for item in page["items"]]
    assert sorted(seen) == sorted(record["id"] for record in stored(sandbox)) and len(seen) == total


@pytest.mark.parametrize("mode", [ONE_ERA])
async def test_cut_list_page_stays_within_max_result_chars(mode: str) -> None:
    sandbox = create_sandbox_app(":memory:", seed=False)
    try:
        for i in range(6):  # sized so that 4 items fit in 2,000 characters, but not with the note
            sandbox.state.store.create_sequence({"name": f"S{i} " + "n" * 340, "status": "draft"})
        with anyio.fail_after(BOUND):
            async with serve(sandbox, mode, max_result_chars=2000) as client:
                result = await client.call_tool("list_sequences", {"limit": 100, "fields": "name,status"})
    finally:
        sandbox.state.store.close()
    assert result.structured_content["note"]
    assert len(result.content[0].text) <= 2000


# --- Pacing under the rate limit ------------------------------------------------------------------


async def test_third_call_past_2_a_minute_is_refused_with_the_wait(sandbox: Starlette, mode: str) -> None:
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode, rate_per_minute=2, max_rate_wait=0.2) as client:
            await call(client, "list_sequences", LIST_ARGS)
            await call(client, "list_sequences", LIST_ARGS)
            started = time.monotonic()
            text = await error_text(client, "list_sequences", LIST_ARGS)
            elapsed = time.monotonic() - started
    assert elapsed < 0.5  # refused, not held
    assert "2 requests a minute" in text
    wait = re.search(r"the next request can go in about (\d+) s", text)
    # Counted in 1 s buckets, the oldest whole (store/base.py): a slot frees after 60 to 61 s.
    assert wait is not None and 55 <= int(wait.group(1)) <= 61, text
    assert journal(sandbox) == [("GET", SEQUENCES)] * 2


# --- Cancellation reaches the upstream request ---------------------------------------------------


class Watch:
    """Outermost ASGI layer of the sandbox: notes how each request's handling ended, and when."""

    def __init__(self, app: ASGIApp, ended: list[tuple[str, str, str, float]]) -> None:
        self.app = app
        self.ended = ended

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except anyio.get_cancelled_exc_class():
            self.ended.append((scope["method"], scope["path"], "cancelled", time.monotonic()))
            raise
        self.ended.append((scope["method"], scope["path"], "finished", time.monotonic()))


@pytest.fixture
def watched(sandbox: Starlette) -> list[tuple[str, str, str, float]]:
    ended: list[tuple[str, str, str, float]] = []
    sandbox.add_middleware(Watch, ended=ended)
    return ended


async def test_cancelled_create_cancels_the_upstream_request(
    sandbox: Starlette, mode: str, watched: list[tuple[str, str, str, float]]
) -> None:
    """The client gives up 0.3 s into a 3 s upstream wait: the sandbox must stop there, creating nothing.

    In the legacy era only `notifications/cancelled` can carry this to the server (it runs in its own
    task); in the 2026 era the in-process call is cancelled structurally. Either way the upstream
    handling must end as cancelled, right away, not finish 3 s later.
    """
    before = len(stored(sandbox))
    sandbox.state.faults.inject(Fault("latency", seconds=3, method="POST"))
    with anyio.fail_after(BOUND):
        async with serve(sandbox, mode) as client:
            outcome: list[Any] = []

            async def create() -> None:
                outcome.append(await client.call_tool("create_sequence", {"name": "Never created"}))

            async with anyio.create_task_group() as group:
                group.start_soon(create)
                await anyio.sleep(0.3)
                group.cancel_scope.cancel()
            cancelled_at = time.monotonic()
            with anyio.fail_after(1):
                while not watched:
                    await anyio.sleep(0.01)
            await anyio.sleep(0.1)  # a little longer, for anything that was still to happen
            page = await call(client, "list_sequences", LIST_ARGS)
    assert outcome == []
    method, path, how, at = watched[0]
    assert (method, path, how) == ("POST", SEQUENCES, "cancelled")
    assert at - cancelled_at < 0.5
    assert len(stored(sandbox)) == before
    assert not [r for r in stored(sandbox) if r["name"] == "Never created"]
    assert len(page["items"]) == 1
    assert journal(sandbox) == [("POST", SEQUENCES), ("GET", SEQUENCES)]
    [line] = audit_lines()  # a write cancelled in flight is recorded as such
    assert (line["tool"], line["outcome"]) == ("create_sequence", "unknown") and "cancelled" in line["detail"]


# --- Sign-in with email and password --------------------------------------------------------------


def signing_in(sandbox: Starlette, mode: str, password: str = SANDBOX_PASSWORD) -> Client:
    return serve(sandbox, mode, api_key=None, email=SANDBOX_EMAIL, password=password)


@pytest.fixture
async def signed_in(sandbox: Starlette, mode: str) -> AsyncIterator[Client]:
    async with signing_in(sandbox, mode) as client:
        yield client


async def test_signin_once_then_the_calls(sandbox: Starlette, signed_in: Client) -> None:
    with anyio.fail_after(BOUND):
        await call(signed_in, "list_sequences", LIST_ARGS)
        await call(signed_in, "get_sequence", {"id": FIRST_ID})
    assert journal(sandbox) == [("POST", SIGNIN), ("GET", SEQUENCES), ("GET", ONE)]
    assert sandbox.state.journal[0].body == {"email": SANDBOX_EMAIL, "password": "***"}


async def test_expired_token_is_renewed_once_and_the_call_succeeds(sandbox: Starlette, signed_in: Client) -> None:
    with anyio.fail_after(BOUND):
        await call(signed_in, "list_sequences", LIST_ARGS)
        sandbox.state.tokens.expire_all()
        result = await signed_in.call_tool("list_sequences", LIST_ARGS)
        assert result.is_error is False, result.content[0].text
        await call(signed_in, "list_sequences", LIST_ARGS)
    assert journal(sandbox) == [
        ("POST", SIGNIN),
        ("GET", SEQUENCES),
        ("GET", SEQUENCES),  # refused: the token expired
        ("POST", SIGNIN),
        ("GET", SEQUENCES),
        ("GET", SEQUENCES),  # the new token is kept
    ]


async def test_wrong_password_names_the_settings_not_the_password(sandbox: Starlette, mode: str) -> None:
    wrong = "not-the-Passw0rd-42"
    with anyio.fail_after(BOUND):
        async with signing_in(sandbox, mode, password=wrong) as client:
            text = await error_text(client, "list_sequences", LIST_ARGS)
    assert "Could not sign in" in text and "HTTP 401" in text
    assert "ICLOUDREADY_EMAIL" in text and "ICLOUDREADY_PASSWORD" in text
    assert wrong not in text and SANDBOX_PASSWORD not in text
    assert journal(sandbox) == [("POST", SIGNIN)]  # nothing sent without a token


async def test_the_clean_up_prompt_s_paging_recipe_followed_literally_sees_every_sequence_once(
    sandbox: Starlette, mode: str
) -> None:
    """Issue 8: the recipe saw 68 of 117 long sequences. Its arguments are read from the prompt's own text."""
    recipe = (Path(__file__).parent.parent / "prompts" / "clean_up_stale_sequences.md").read_text(encoding="utf-8")
    limit = int(re.search(r"list_sequences \(limit (\d+)", recipe).group(1))
    fields = re.search(r'fields "([^"]+)"', recipe).group(1)
    assert "call it again with only cursor set to next_cursor" in recipe
    for i in range(110):
        sandbox.state.store.create_sequence({"name": f"Long {i} " + "n" * 300, "steps": [{"body": "b" * 400}] * 3})
    seen = []
    with anyio.fail_after(BOUND * 4):
        async with serve(sandbox, mode, max_result_chars=20_000) as client:
            page = await call(client, "list_sequences", {"limit": limit, "fields": fields})
            seen += [item["id"] for item in page["items"]]
            while page["has_more"]:
                page = await call(client, "list_sequences", {"cursor": page["next_cursor"]})
                seen += [item["id"] for item in page["items"]]
    assert sorted(seen) == sorted(record["id"] for record in stored(sandbox)) and len(seen) == 117
