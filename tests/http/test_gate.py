"""Sessions are shared fairly: per caller, in all, and idle ones are closed (bounded loops, 127.0.0.1)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.http.conftest import MCP_HEADERS, deployed

TOKENS = {"greedy": "tok-greedy-1a2b3c4d5e6f", "polite": "tok-polite-6f5e4d3c2b1a"}
ATTEMPTS = 25


def test_one_caller_cannot_take_every_session(tmp_path: Path) -> None:
    with deployed(tmp_path, http_tokens=TOKENS, max_sessions_per_caller=3, max_sessions=5) as server:
        greedy = [server.open_session(TOKENS["greedy"]).status_code for _ in range(ATTEMPTS)]
        polite = [server.open_session(TOKENS["polite"]).status_code for _ in range(3)]
    assert greedy == [200] * 3 + [429] * (ATTEMPTS - 3)
    assert polite == [200, 200, 503]  # the total of 5 is reached after the polite caller's second session


def test_ending_a_session_frees_its_place(tmp_path: Path) -> None:
    with deployed(tmp_path, http_tokens=TOKENS, max_sessions_per_caller=1) as server:
        first = server.open_session(TOKENS["greedy"])
        refused = server.open_session(TOKENS["greedy"])
        auth = {"Authorization": f"Bearer {TOKENS['greedy']}", "mcp-session-id": first.headers["mcp-session-id"]}
        ended = httpx.delete(server.url, headers=MCP_HEADERS | auth)
        again = server.open_session(TOKENS["greedy"])
    assert (first.status_code, refused.status_code, ended.status_code, again.status_code) == (200, 429, 200, 200)
    assert "--max-sessions-per-caller" in refused.json()["error"]["message"]


def test_an_idle_session_is_closed_and_frees_its_place(tmp_path: Path) -> None:
    with deployed(tmp_path, http_tokens=TOKENS, max_sessions_per_caller=1, session_idle_minutes=0.01) as server:
        assert server.open_session(TOKENS["greedy"]).status_code == 200
        deadline = time.monotonic() + 20
        while (status := server.open_session(TOKENS["greedy"]).status_code) == 429 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert status == 200


def test_stateless_requests_are_not_counted_as_sessions(tmp_path: Path) -> None:
    with deployed(tmp_path, http_tokens=TOKENS, max_sessions_per_caller=1, stateless=True) as server:
        statuses = [server.open_session(TOKENS["greedy"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
