"""`mcp-sequences check`: a verdict a person can act on, and an exit code a script can."""

from __future__ import annotations

import pytest

from mcp_sequences.cli import main
from mcp_sequences.sandbox import SANDBOX_EMAIL, SANDBOX_PASSWORD


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(["check", *argv])
    return exited.value.code, capsys.readouterr().out


def test_the_sandbox_works(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["--sandbox", "--sandbox-db", ":memory:"], capsys)
    assert code == 0 and out.startswith("OK: the sandbox answered") and "7 sequences" in out


def test_no_credentials_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run([], capsys)
    assert code == 1 and "ICLOUDREADY_API_KEY" in out and "--sandbox" in out


@pytest.mark.parametrize(
    ("env", "code", "verdict"),
    [
        ({"ICLOUDREADY_API_KEY": "sandbox"}, 0, "OK: http://127.0.0.1:"),
        ({"ICLOUDREADY_API_KEY": "sk-wrong-9f2e"}, 1, "FAILED: the API refused the credentials."),
        ({"ICLOUDREADY_EMAIL": SANDBOX_EMAIL, "ICLOUDREADY_PASSWORD": SANDBOX_PASSWORD}, 0, "(sign-in)"),
        ({"ICLOUDREADY_EMAIL": SANDBOX_EMAIL, "ICLOUDREADY_PASSWORD": "pw-wrong-77a1"}, 1, "sign-in did not work"),
    ],
    ids=["key", "wrong-key", "sign-in", "wrong-password"],
)
def test_a_real_api_by_url(
    api_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict,
    code: int,
    verdict: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    exit_code, out = run(["--base-url", api_url], capsys)
    assert exit_code == code and verdict in out
    assert not any(secret in out for secret in ("sk-wrong-9f2e", "pw-wrong-77a1", SANDBOX_PASSWORD))


def test_an_unreachable_api(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ICLOUDREADY_API_KEY", "k")
    code, out = run(["--base-url", "http://user:hunter2@127.0.0.1:9", "--timeout", "0.5"], capsys)
    assert code == 1 and "FAILED: the API is unreachable." in out
    assert "hunter2" not in out and "checked http://127.0.0.1:9" in out


def test_a_wrong_base_url_is_named(
    api_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ICLOUDREADY_API_KEY", "sandbox")
    code, out = run(["--base-url", f"{api_url}/crm"], capsys)
    assert code == 1 and out.startswith("FAILED: no sequence list at that address; the base URL is wrong.")
    assert "ICLOUDREADY_BASE_URL" in out
