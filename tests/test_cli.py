"""The command line: --help documents every setting, bad values exit cleanly, flags beat env vars."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from mcp_sequences.cli import load_settings, main
from mcp_sequences.sandbox.seed import SEED_SEQUENCES
from mcp_sequences.sandbox.store import SequenceStore
from mcp_sequences.settings import Settings
from tests.conftest import FIRST_ID, FIRST_NAME

# Written out by hand, not read from the settings model that builds --help: a flag renamed, lost or
# added there must show up here as a failure. flag: its environment variable.
FLAGS = {
    "--base-url": "ICLOUDREADY_BASE_URL",
    "--email": "ICLOUDREADY_EMAIL",
    "--sandbox": "MCP_SEQUENCES_SANDBOX",
    "--sandbox-db": "MCP_SEQUENCES_SANDBOX_DB",
    "--sandbox-reset": "MCP_SEQUENCES_SANDBOX_RESET",
    "--transport": "MCP_SEQUENCES_TRANSPORT",
    "--host": "MCP_SEQUENCES_HOST",
    "--port": "MCP_SEQUENCES_PORT",
    "--stateless": "MCP_SEQUENCES_STATELESS",
    "--allowed-hosts": "MCP_SEQUENCES_ALLOWED_HOSTS",
    "--allow-unauthenticated": "MCP_SEQUENCES_ALLOW_UNAUTHENTICATED",
    "--oauth-issuer": "MCP_SEQUENCES_OAUTH_ISSUER",
    "--oauth-jwks-url": "MCP_SEQUENCES_OAUTH_JWKS_URL",
    "--public-url": "MCP_SEQUENCES_PUBLIC_URL",
    "--caller-policies": "MCP_SEQUENCES_CALLER_POLICIES",
    "--max-sessions": "MCP_SEQUENCES_MAX_SESSIONS",
    "--max-sessions-per-caller": "MCP_SEQUENCES_MAX_SESSIONS_PER_CALLER",
    "--session-idle-minutes": "MCP_SEQUENCES_SESSION_IDLE_MINUTES",
    "--header-timeout": "MCP_SEQUENCES_HEADER_TIMEOUT",
    "--keep-alive-timeout": "MCP_SEQUENCES_KEEP_ALIVE_TIMEOUT",
    "--max-connections": "MCP_SEQUENCES_MAX_CONNECTIONS",
    "--allowed-origins": "MCP_SEQUENCES_ALLOWED_ORIGINS",
    "--timeout": "MCP_SEQUENCES_TIMEOUT",
    "--connect-timeout": "MCP_SEQUENCES_CONNECT_TIMEOUT",
    "--read-timeout": "MCP_SEQUENCES_READ_TIMEOUT",
    "--rate-per-minute": "MCP_SEQUENCES_RATE_PER_MINUTE",
    "--rate-per-hour": "MCP_SEQUENCES_RATE_PER_HOUR",
    "--max-rate-wait": "MCP_SEQUENCES_MAX_RATE_WAIT",
    "--max-response-bytes": "MCP_SEQUENCES_MAX_RESPONSE_BYTES",
    "--max-result-chars": "MCP_SEQUENCES_MAX_RESULT_CHARS",
    "--delete-policy": "MCP_SEQUENCES_DELETE_POLICY",
    "--read-only": "MCP_SEQUENCES_READ_ONLY",
    "--tools": "MCP_SEQUENCES_TOOLS",
    "--exclude-tools": "MCP_SEQUENCES_EXCLUDE_TOOLS",
    "--max-deletes": "MCP_SEQUENCES_MAX_DELETES",
    "--protect-tag": "MCP_SEQUENCES_PROTECT_TAG",
    "--protect-status": "MCP_SEQUENCES_PROTECT_STATUS",
    "--audit-log": "MCP_SEQUENCES_AUDIT_LOG",
    "--state-url": "MCP_SEQUENCES_STATE_URL",
    "--metrics": "MCP_SEQUENCES_METRICS",
    "--shutdown-timeout": "MCP_SEQUENCES_SHUTDOWN_TIMEOUT",
    "--state-key-file": "MCP_SEQUENCES_STATE_KEY_FILE",
    "--log-level": "MCP_SEQUENCES_LOG_LEVEL",
}
# Secrets are environment-only: a command line shows in process listings.
ENV_ONLY = ("ICLOUDREADY_API_KEY", "ICLOUDREADY_PASSWORD", "MCP_SEQUENCES_HTTP_TOKENS", "MCP_SEQUENCES_STATE_KEY")


def help_text(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_help_lists_exactly_these_flags_each_with_its_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys)
    assert set(re.findall(r"(--[a-z][a-z-]+)", text)) == {*FLAGS, "--help", "--version"}
    for flag, env in FLAGS.items():
        assert f"[env: {env}]" in text, flag
    for env in ENV_ONLY:
        assert env in text and f"--{env.lower()}" not in text


def test_every_flag_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each flag of --help, given as a flag (repeatable ones twice), lands in its setting."""
    key_file = tmp_path / "key"
    key_file.write_text("k" * 40, encoding="utf-8")
    monkeypatch.setenv("ICLOUDREADY_PASSWORD", "pw")  # --email needs it
    argv = [
        "--base-url", "https://eu.example.com", "--email", "me@example.com",
        "--sandbox", "--sandbox-db", str(tmp_path / "s.db"), "--sandbox-reset",
        "--transport", "http", "--host", "0.0.0.0", "--port", "9001", "--stateless",
        "--allowed-hosts", "a:*", "--allowed-hosts", "b:*",
        "--allowed-origins", "https://a", "--allowed-origins", "https://b",
        "--allow-unauthenticated", "--oauth-issuer", "https://id.example.com",
        "--oauth-jwks-url", "https://id.example.com/jwks", "--public-url", "https://mcp.example.com/mcp",
        "--caller-policies", "ci-bot=deny", "--caller-policies", "ops=allow",
        "--max-sessions", "50", "--max-sessions-per-caller", "5", "--session-idle-minutes", "15",
        "--metrics", "--shutdown-timeout", "7",
        "--header-timeout", "4", "--keep-alive-timeout", "3", "--max-connections", "20",
        "--timeout", "5", "--connect-timeout", "2", "--read-timeout", "3",
        "--rate-per-minute", "7", "--rate-per-hour", "70", "--max-rate-wait", "1.5",
        "--max-response-bytes", "2048", "--max-result-chars", "5000",
        "--delete-policy", "deny", "--read-only",
        "--tools", "list_sequences", "--tools", "get_sequence",
        "--exclude-tools", "create_sequence", "--exclude-tools", "restore_sequence",
        "--max-deletes", "3", "--protect-tag", "vip", "--protect-tag", "legal",
        "--protect-status", "active", "--protect-status", "paused",
        "--audit-log", str(tmp_path / "a.jsonl"), "--state-url", str(tmp_path / "state.db"),
        "--state-key-file", str(key_file), "--log-level", "DEBUG",
    ]  # fmt: skip
    expected = {
        "base_url": "https://eu.example.com", "email": "me@example.com",
        "sandbox": True, "sandbox_db": str(tmp_path / "s.db"), "sandbox_reset": True,
        "transport": "http", "host": "0.0.0.0", "port": 9001, "stateless": True,
        "allowed_hosts": ["a:*", "b:*"], "allowed_origins": ["https://a", "https://b"],
        "allow_unauthenticated": True, "oauth_issuer": "https://id.example.com",
        "oauth_jwks_url": "https://id.example.com/jwks", "public_url": "https://mcp.example.com/mcp",
        "caller_policies": {"ci-bot": "deny", "ops": "allow"},
        "max_sessions": 50, "max_sessions_per_caller": 5, "session_idle_minutes": 15.0,
        "metrics": True, "shutdown_timeout": 7.0,
        "header_timeout": 4.0, "keep_alive_timeout": 3.0, "max_connections": 20,
        "timeout": 5.0, "connect_timeout": 2.0, "read_timeout": 3.0,
        "rate_per_minute": 7, "rate_per_hour": 70, "max_rate_wait": 1.5,
        "max_response_bytes": 2048, "max_result_chars": 5000,
        "delete_policy": "deny", "read_only": True,
        "tools": ["list_sequences", "get_sequence"], "exclude_tools": ["create_sequence", "restore_sequence"],
        "max_deletes": 3, "protect_tag": ["vip", "legal"], "protect_status": ["active", "paused"],
        "audit_log": str(tmp_path / "a.jsonl"), "state_url": str(tmp_path / "state.db"),
        "state_key_file": str(key_file), "log_level": "DEBUG",
    }  # fmt: skip
    assert {flag for flag in argv if flag.startswith("--")} == set(FLAGS)
    settings = load_settings(argv)
    assert {name: getattr(settings, name) for name in expected} == expected


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_SEQUENCES_PORT", "9000")
    monkeypatch.setenv("MCP_SEQUENCES_TOOLS", '["get_sequence"]')
    monkeypatch.setenv("ICLOUDREADY_API_KEY", "from-env")
    settings = load_settings(["--port", "9001", "--tools", "list_sequences"])
    assert (settings.port, settings.tools) == (9001, ["list_sequences"])
    assert settings.api_key.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "70000"], {}, "--port / MCP_SEQUENCES_PORT: Input should be less than or equal to 65535"),
        (["--transport", "ftp"], {}, "invalid choice: 'ftp'"),
        ([], {"MCP_SEQUENCES_TIMEOUT": "-1"}, "--timeout / MCP_SEQUENCES_TIMEOUT: Input should be greater than 0"),
        ([], {"MCP_SEQUENCES_STATE_KEY": "short"}, "error: the state key must be at least 32 bytes"),
        (["--state-key-file", "/nonexistent/key"], {}, "cannot read --state-key-file /nonexistent/key"),
        (["--tools", "delete_sequences"], {}, "argument --tools: invalid choice: 'delete_sequences' (choose from"),
        (["--exclude-tools", "list"], {}, "argument --exclude-tools: invalid choice: 'list' (choose from"),
        ([], {"MCP_SEQUENCES_TOOLS": '["nope"]'}, "--tools / MCP_SEQUENCES_TOOLS: Input should be 'list_sequences'"),
        (["--base-url", "notaurl"], {}, "--base-url / ICLOUDREADY_BASE_URL: must be an http(s) URL such as https://"),
        (["--base-url", "ftp://x.example"], {}, "--base-url / ICLOUDREADY_BASE_URL: must be an http(s) URL"),
        ([], {"ICLOUDREADY_BASE_URL": "https://"}, "--base-url / ICLOUDREADY_BASE_URL: must be an http(s) URL"),
        (["--base-url", "https://api.icloud-ready.com/api/v2/"], {}, "must be the API's root, without /api/v2"),
        (["--sandbox-reset"], {}, "--sandbox-reset resets the sandbox, so it needs --sandbox"),
    ],
)
@pytest.mark.parametrize("command", [[], ["check"]], ids=["serve", "check"])
def test_bad_settings_exit_2_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    argv: list[str],
    env: dict,
    message: str,
) -> None:
    """Through main(), as the command runs: serving and `check` refuse a bad setting alike, no traceback."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main([*command, *argv])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and message in err and "Traceback" not in err


def test_the_api_key_never_shows_in_settings_repr() -> None:
    assert "s3cret" not in repr(Settings(api_key="s3cret"))


def test_the_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for flag, env in FLAGS.items():
        assert f"| `{flag}` | `{env}` |" in readme, flag
    for env in ENV_ONLY:
        assert f"| (none) | `{env}` |" in readme, env


def test_sandbox_edits_persist_until_sandbox_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As the README says: the sandbox file keeps edits across restarts; --sandbox-reset brings the seed back."""
    db = tmp_path / "sandbox.db"
    edited = SequenceStore(db)
    edited.seed(SEED_SEQUENCES)
    edited.delete_sequence(FIRST_ID)
    for name in ("Mine", "Also mine"):
        edited.create_sequence({"name": name})
    edited.close()

    def check(*flags: str) -> str:
        with pytest.raises(SystemExit):
            main(["check", "--sandbox", "--sandbox-db", str(db), *flags])
        return capsys.readouterr().out

    assert "; 8 sequences." in check()  # 7 seeded, one deleted, two created
    assert "; 7 sequences." in check("--sandbox-reset")
    back = SequenceStore(db)
    assert [record["name"] for record in back.list_sequences()][0] == FIRST_NAME
    assert {record["name"] for record in back.list_sequences()}.isdisjoint({"Mine", "Also mine"})
    back.close()


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"mcp-sequences {version('mcp-sequences')}\n"
