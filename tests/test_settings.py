"""The settings model: what it accepts and refuses (flag parsing itself is in test_cli.py)."""

from __future__ import annotations

import typing

import pytest
from pydantic import ValidationError

from mcp_sequences.settings import Settings, ToolName
from mcp_sequences.tools import ALL_TOOLS


def test_the_settings_know_exactly_the_server_s_tools() -> None:
    """ToolName is written out in settings.py so a typo fails at start-up; it must not drift from the tools."""
    assert list(typing.get_args(ToolName)) == [spec.name for spec in ALL_TOOLS]


@pytest.mark.parametrize(
    "url", ["https://api.icloud-ready.com", "http://127.0.0.1:8080", "https://eu.example.com/proxy/", "HTTPS://A.B"]
)
def test_an_api_root_is_accepted(url: str) -> None:
    assert Settings(base_url=url).base_url == url


@pytest.mark.parametrize(
    "url",
    ["notaurl-hunter2", "hunter2.example.com", "ftp://u:hunter2@x.example", "https://", "https://u:hunter2@x/api/v2"],
)
def test_anything_else_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(base_url=url)
    assert "hunter2" not in str(refused.value)  # a URL may carry user:password


@pytest.mark.parametrize(
    ("settings", "lacking"),
    [
        ({}, True),
        ({"sandbox": True}, False),
        ({"api_key": "k"}, False),
        ({"email": "me@example.com", "password": "pw"}, False),
    ],
)
def test_lacking_credentials(settings: dict[str, typing.Any], lacking: bool) -> None:
    assert Settings(**settings).lacks_credentials is lacking
