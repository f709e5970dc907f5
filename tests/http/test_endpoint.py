"""Where the endpoint is (IPv6 too), and no start beyond loopback without authentication unless asked for."""

from __future__ import annotations

import subprocess

import pytest

from mcp_sequences.cli import load_settings
from mcp_sequences.http.endpoint import endpoint_url, exposure_problem, exposure_warnings
from mcp_sequences.http.listener import http_app
from mcp_sequences.server import build_server
from mcp_sequences.settings import Settings
from tests.processes import SERVE, START_TIMEOUT, child_env

TOKENS = {"ops": "tok-ops-0a9b8c7d6e5f"}


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8790/mcp"), ("::1", "http://[::1]:8790/mcp"), ("::", "http://[::]:8790/mcp")],
)
def test_the_endpoint_url_brackets_ipv6_hosts(host: str, url: str) -> None:
    assert endpoint_url(Settings(host=host, port=8790)) == url


@pytest.mark.parametrize("auth", [{"http_tokens": TOKENS}, {"oauth_issuer": "https://login.example.com"}])
def test_an_ipv6_server_with_authentication_builds(auth: dict) -> None:
    """It crashed at start with http://:::8790 before (nothing is bound here)."""
    settings = Settings(host="::", port=8790, transport="http", **auth)
    assert http_app(build_server(settings), settings) is not None


def test_the_public_url_overrides_the_default() -> None:
    assert endpoint_url(Settings(public_url="https://crm-mcp.example.com/mcp")) == "https://crm-mcp.example.com/mcp"


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        ({"host": "0.0.0.0"}, True),
        ({"host": "::"}, True),
        ({"host": "10.1.2.3"}, True),
        ({"host": "0.0.0.0", "allow_unauthenticated": True}, False),
        ({"host": "0.0.0.0", "http_tokens": TOKENS}, False),
        ({"host": "0.0.0.0", "oauth_issuer": "https://login.example.com"}, False),
        ({"host": "127.0.0.2"}, False),
        ({"host": "::1"}, False),
        ({"host": "localhost"}, False),
    ],
)
def test_which_servers_refuse_to_start(overrides: dict, refused: bool) -> None:
    assert (exposure_problem(Settings(**overrides)) is not None) is refused


def test_the_command_refuses_0000_without_authentication_and_says_how_to_proceed() -> None:
    command = [*SERVE, "--sandbox-db", ":memory:", "--transport", "http", "--host", "0.0.0.0", "--port", "1"]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(), timeout=START_TIMEOUT)
    assert done.returncode != 0 and done.stdout == ""
    assert "refusing to listen on 0.0.0.0 without authentication" in done.stderr
    assert "--allow-unauthenticated" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"host": "127.0.0.1"}, []),
        ({"host": "0.0.0.0", "allow_unauthenticated": True}, ["no authentication", "only loopback Host headers"]),
        ({"host": "0.0.0.0", "http_tokens": TOKENS, "allowed_hosts": ["crm-mcp.internal"]}, []),
    ],
)
def test_an_exposed_server_is_warned_about_what_it_lacks(overrides: dict, expected: list[str]) -> None:
    warnings = exposure_warnings(Settings(**overrides))
    assert [w[: len(e)] for w, e in zip(warnings, expected, strict=True)] == expected
    assert not any("remote clients get 421" in w for w in warnings)


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--allow-unauthenticated"], "allow_unauthenticated", True),
        (["--oauth-issuer", "https://login.example.com"], "oauth_issuer", "https://login.example.com"),
        (
            ["--oauth-issuer", "https://login.example.com", "--oauth-jwks-url", "https://login.example.com/keys"],
            "oauth_jwks_url",
            "https://login.example.com/keys",
        ),
        (["--public-url", "https://crm-mcp.example.com/mcp"], "public_url", "https://crm-mcp.example.com/mcp"),
        (["--max-sessions", "7"], "max_sessions", 7),
        (["--max-sessions-per-caller", "2"], "max_sessions_per_caller", 2),
        (["--session-idle-minutes", "3"], "session_idle_minutes", 3.0),
        (["--header-timeout", "4"], "header_timeout", 4.0),
        (["--keep-alive-timeout", "6"], "keep_alive_timeout", 6),
        (["--max-connections", "50"], "max_connections", 50),
    ],
)
def test_the_http_flags_set_their_settings(argv: list[str], field: str, value: object) -> None:
    assert getattr(load_settings(argv), field) == value


def test_allow_unauthenticated_given_as_a_flag_lets_0000_start() -> None:
    assert (
        exposure_problem(load_settings(["--transport", "http", "--host", "0.0.0.0", "--allow-unauthenticated"])) is None
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--oauth-jwks-url", "https://login.example.com/keys"], "--oauth-jwks-url needs --oauth-issuer"),
        (["--max-sessions-per-caller", "0"], "--max-sessions-per-caller / MCP_SEQUENCES_MAX_SESSIONS_PER_CALLER"),
        (["--caller-policies", "ci-bot"], "give each caller's policy as NAME=POLICY"),
        (["--oauth-issuer", "login.example.com"], "--oauth-issuer / MCP_SEQUENCES_OAUTH_ISSUER: must be an http"),
        (["--public-url", "ftp://x/mcp"], "--public-url / MCP_SEQUENCES_PUBLIC_URL: must be an http"),
    ],
)
def test_bad_http_flags_exit_with_a_message_naming_them(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        load_settings(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
