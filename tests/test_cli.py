"""The command line: --help documents every setting, bad values exit cleanly, flags beat env vars."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_sequences.cli import build_parser, load_settings
from mcp_sequences.settings import Settings, env_name


def test_help_names_every_flag_and_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert exited.value.code == 0
    secrets = {"api_key", "password", "state_key", "http_tokens"}  # a command line shows in process listings
    for name in Settings.model_fields:
        assert env_name(name) in help_text
        flag = f"--{name.replace('_', '-')} "
        assert (flag in help_text) is (name not in secrets), name


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_SEQUENCES_PORT", "9000")
    monkeypatch.setenv("ICLOUDREADY_API_KEY", "from-env")
    settings = load_settings(["--port", "9001", "--sandbox", "--allowed-hosts", "a:*", "--allowed-hosts", "b:*"])
    assert (settings.port, settings.sandbox, settings.allowed_hosts) == (9001, True, ["a:*", "b:*"])
    assert settings.api_key.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "70000"], {}, "--port / MCP_SEQUENCES_PORT: Input should be less than or equal to 65535"),
        (["--transport", "ftp"], {}, "invalid choice: 'ftp'"),
        ([], {"MCP_SEQUENCES_TIMEOUT": "-1"}, "--timeout / MCP_SEQUENCES_TIMEOUT: Input should be greater than 0"),
        ([], {"MCP_SEQUENCES_STATE_KEY": "short"}, "error: the state key must be at least 32 bytes"),
        (["--state-key-file", "/nonexistent/key"], {}, "cannot read --state-key-file /nonexistent/key"),
    ],
)
def test_bad_settings_exit_2_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], env: dict, message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        load_settings(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_the_api_key_never_shows_in_settings_repr() -> None:
    assert "s3cret" not in repr(Settings(api_key="s3cret"))


def test_the_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in readme, name
