"""What the README tells people to paste or look for is what the server really takes and does."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from mcp_sequences.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", README, flags=re.S)


def test_every_json_snippet_parses() -> None:
    assert len(json_blocks()) >= 5
    for block in json_blocks():
        json.loads(block)


def test_http_clients_are_shown_sending_the_bearer_token_as_the_server_expects() -> None:
    """Claude Code's --header, VS Code's and Cursor's `headers`: all `Authorization: Bearer <token>`."""
    headers = [
        server["headers"]
        for block in json_blocks()
        for servers in json.loads(block).values()
        if isinstance(servers, dict)
        for server in servers.values()
        if "headers" in server
    ]
    assert len(headers) == 2
    assert all(list(h) == ["Authorization"] and h["Authorization"].startswith("Bearer ") for h in headers)
    assert '--header "Authorization: Bearer your-token"' in README


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the README's Linux folder")
def test_the_files_are_where_the_readme_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_SEQUENCES_AUDIT_LOG")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings()
    assert settings.sandbox_db == str(tmp_path / "mcp-sequences" / "sandbox.db")
    assert settings.audit_log == str(tmp_path / "mcp-sequences" / "audit.jsonl")
    assert "`$XDG_DATA_HOME/mcp-sequences/`" in README
