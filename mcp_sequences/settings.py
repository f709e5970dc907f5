"""One settings model for the whole server: command-line flags over environment variables over defaults.

Every field documents itself; `cli.py` builds `--help` from these descriptions, so a flag, its env
var and its default are written down once, here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MCP_SEQUENCES_"
DEFAULT_BASE_URL = "https://api.icloud-ready.com"
MIN_STATE_KEY_BYTES = 32  # what the SDK's AES-GCM sealing requires
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
API_PATH = "/api/v2"
# The tools' names, so that a typo in --tools or --exclude-tools is a usage error like any other bad
# flag; tests/test_settings.py checks this list against the tools the server really has.
ToolName = Literal[
    "list_sequences",
    "get_sequence",
    "create_sequence",
    "update_sequence",
    "patch_sequence",
    "delete_sequence",
    "create_sequence_activity",
    "restore_sequence",
]
NO_CREDENTIALS = (
    "no credentials: set ICLOUDREADY_API_KEY, or ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD "
    "(or try the built-in sandbox with --sandbox)"
)


def data_file(name: str) -> str:
    """Files the server keeps (sandbox data, audit log) live in the user's own data folder."""
    return str(Path(platformdirs.user_data_dir("mcp-sequences")) / name)


class Settings(BaseSettings):
    """How the server reaches the API and how clients reach the server."""

    # populate_by_name: flags and tests set fields by name; the env var names of the two API fields
    # are the vendor's own (ICLOUDREADY_*), the rest carry our prefix.
    # hide_input_in_errors: a rejected value may be a secret (a key in the wrong variable).
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, populate_by_name=True, hide_input_in_errors=True
    )

    base_url: str = Field(
        DEFAULT_BASE_URL,
        validation_alias="ICLOUDREADY_BASE_URL",
        description="Base URL of the iCloudReady API (the /api/v2/... paths are appended).",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias="ICLOUDREADY_API_KEY",
        description="Bearer API key for the iCloudReady API.",
        json_schema_extra={"env_only": True},
    )
    email: str | None = Field(
        None,
        validation_alias="ICLOUDREADY_EMAIL",
        description="Sign in with this email and ICLOUDREADY_PASSWORD instead of an API key.",
    )
    password: SecretStr | None = Field(
        None,
        validation_alias="ICLOUDREADY_PASSWORD",
        description="Password for ICLOUDREADY_EMAIL (sign-in gives a token, kept in memory only).",
        json_schema_extra={"env_only": True},
    )
    sandbox: bool = Field(
        False,
        description="Serve against the built-in SQLite sandbox instead of the real API: no key, no network.",
    )
    sandbox_db: str = Field(
        default_factory=lambda: data_file("sandbox.db"),
        description="SQLite file of the sandbox (':memory:' for a throwaway one); edits persist across restarts.",
    )
    sandbox_reset: bool = Field(
        False, description="With --sandbox: put the sandbox back to its seed data at start-up, discarding edits."
    )
    transport: Literal["stdio", "http"] = Field(
        "stdio", description="stdio for desktop clients; http for streamable HTTP at /mcp."
    )
    host: str = Field("127.0.0.1", description="Interface the HTTP transport binds to.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the HTTP transport.")
    stateless: bool = Field(
        False,
        description="HTTP only: no sessions, plain JSON responses (for load balancers and serverless). "
        "Clients older than 2026-07-28 cannot confirm deletes in this mode.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="HTTP only: Host headers accepted (DNS-rebinding protection); add your public name "
        "when deploying behind a proxy. Repeatable; the env var takes a JSON list.",
    )
    http_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP only: bearer tokens clients must send, as a JSON object of caller name to token, "
        'e.g. {"sales-agent": "..."}; the name is the caller in the audit log. Empty: no authentication.',
        json_schema_extra={"env_only": True},
    )
    allow_unauthenticated: bool = Field(
        False,
        description="HTTP only: serve beyond loopback (e.g. --host 0.0.0.0) without tokens or OAuth, so that "
        "anyone who can reach the port can call every tool. Refused at start-up without this.",
    )
    oauth_issuer: str | None = Field(
        None,
        description="HTTP only: accept OAuth 2.1 access tokens (JWTs) from this authorization server's issuer URL; "
        "its keys are found from its metadata unless --oauth-jwks-url is given.",
    )
    oauth_jwks_url: str | None = Field(
        None, description="HTTP only: the issuer's JWKS URL, when its metadata does not say where its keys are."
    )
    public_url: str | None = Field(
        None,
        description="HTTP only: this server's MCP endpoint as clients reach it: the OAuth resource and the "
        "audience tokens must carry. Default: http://HOST:PORT/mcp.",
    )
    caller_policies: dict[str, Literal["confirm", "deny", "allow"]] = Field(
        default_factory=dict,
        description="HTTP only: a delete policy per caller (token name or OAuth subject), replacing "
        "--delete-policy for that caller, e.g. ci-bot=deny (repeatable; the env var takes a JSON object).",
    )
    max_sessions: int = Field(100, ge=1, description="HTTP only: most open sessions in all.")
    max_sessions_per_caller: int = Field(
        10, ge=1, description="HTTP only: most open sessions one caller (token name or OAuth subject) may hold."
    )
    session_idle_minutes: float = Field(
        10.0, gt=0, le=1440, description="HTTP only: minutes without a request after which a session is closed."
    )
    header_timeout: float = Field(
        10.0, gt=0, le=300, description="HTTP only: seconds a client has to send a request's headers."
    )
    keep_alive_timeout: int = Field(
        5, ge=1, le=300, description="HTTP only: seconds an idle connection is kept open between requests."
    )
    max_connections: int = Field(
        200, ge=1, description="HTTP only: most connections served at once; more are answered 503."
    )
    allowed_origins: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_ORIGINS),
        description="HTTP only: browser Origin headers accepted. Repeatable; the env var takes a JSON list.",
    )
    metrics: bool = Field(
        False,
        description="HTTP only: serve Prometheus metrics at /metrics (counts by tool, outcome, status; no "
        "customer data). /healthz and /readyz are always served.",
    )
    shutdown_timeout: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="HTTP only: on SIGTERM, seconds the calls in flight have to finish before they are cut off; "
        "no new connections are taken meanwhile.",
    )
    timeout: float = Field(
        60.0, gt=0, le=600, description="Seconds one API call may take in all, retries and rate-limit waits included."
    )
    connect_timeout: float = Field(10.0, gt=0, le=120, description="Seconds to wait for a connection to the API.")
    read_timeout: float = Field(30.0, gt=0, le=600, description="Seconds to wait for the API to send data.")
    rate_per_minute: int = Field(480, ge=1, description="Most API requests a minute (the API's documented limit).")
    rate_per_hour: int = Field(4800, ge=1, description="Most API requests an hour (the API's documented limit).")
    max_rate_wait: float = Field(
        10.0, ge=0, description="Longest a call waits for the rate limit; longer, and it is refused with the wait."
    )
    max_response_bytes: int = Field(
        10_000_000, ge=1024, description="Largest API answer read; a larger one is refused, not loaded."
    )
    max_result_chars: int = Field(
        60_000,
        ge=1000,
        description="Largest tool result put in the model's context; a longer list is cut, with a note saying "
        "how to narrow it (fields, limit).",
    )
    delete_policy: Literal["confirm", "deny", "allow"] = Field(
        "confirm",
        description="confirm: the person types the sequence's name to delete it; deny: no deletes at all "
        "(delete_sequence is not offered); allow: delete without asking, for unattended automation.",
    )
    read_only: bool = Field(False, description="Offer only the read tools; refuse every write.")
    tools: list[ToolName] | None = Field(
        None, description="Offer only these tools (repeatable). Default: all that the other settings allow."
    )
    exclude_tools: list[ToolName] = Field(default_factory=list, description="Never offer these tools (repeatable).")
    max_deletes: int = Field(
        10, ge=0, description="Most deletes an hour, by all the processes sharing the state store (--state-url)."
    )
    protect_tag: list[str] = Field(
        default_factory=list,
        description="Sequences with this tag cannot be deleted, nor their status, deleted flag or "
        "protecting tags changed, whatever the policy (repeatable).",
    )
    protect_status: list[str] = Field(
        default_factory=list,
        description="Sequences in this status (e.g. active) are protected the same way (repeatable).",
    )
    audit_log: str = Field(
        default_factory=lambda: data_file("audit.jsonl"),
        description="JSON-lines mirror of the audit records for log shippers (the records themselves, which "
        "restore_sequence reads, live in the state store); rotated as it grows.",
    )
    state_url: str = Field(
        default_factory=lambda: data_file("state.db"),
        description="Where the state shared by every process lives (rate and delete budgets, the audit "
        "records restore reads, used confirmations): a SQLite file, shared by the local processes of one user, "
        "or postgresql://user@host/db, shared by replicas on several machines.",
    )
    state_key: SecretStr | None = Field(
        None,
        description="Key that seals the state of a confirmation between its rounds, shared by HTTP replicas "
        "so one can finish what another began. Default: a random key per process.",
        json_schema_extra={"env_only": True},
    )
    state_key_file: str | None = Field(
        None, description="File holding the state key (the flag form of MCP_SEQUENCES_STATE_KEY)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level; logs always go to stderr."
    )

    @field_validator("base_url")
    @classmethod
    def _api_root(cls, url: str) -> str:
        """A URL the API's paths can be appended to; the value itself is not echoed (it may hold credentials)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_BASE_URL}")
        if parts.path.rstrip("/").endswith(API_PATH):
            raise ValueError(f"must be the API's root, without {API_PATH} (the server appends it): {DEFAULT_BASE_URL}")
        return url

    @model_validator(mode="after")
    def _reset_needs_sandbox(self) -> Settings:
        if self.sandbox_reset and not self.sandbox:
            raise ValueError("--sandbox-reset resets the sandbox, so it needs --sandbox")
        return self

    @model_validator(mode="after")
    def _whole_sign_in(self) -> Settings:
        if (self.email is None) != (self.password is None):
            raise ValueError("sign-in needs both ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD")
        return self

    @field_validator("caller_policies", mode="before")
    @classmethod
    def _policies_from_flags(cls, value: Any) -> Any:
        """Flags give NAME=POLICY, once per caller; the environment gives a JSON object."""
        if isinstance(value, list):
            pairs = [item.partition("=") for item in value]
            if any(not sep or not name for name, sep, _ in pairs):
                raise ValueError("give each caller's policy as NAME=POLICY, e.g. ci-bot=deny")
            return {name: policy for name, _, policy in pairs}
        return value

    @field_validator("oauth_issuer", "oauth_jwks_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _one_kind_of_caller(self) -> Settings:
        if self.oauth_issuer and self.http_tokens:
            raise ValueError("give either MCP_SEQUENCES_HTTP_TOKENS or --oauth-issuer, not both")
        if self.oauth_jwks_url and not self.oauth_issuer:
            raise ValueError("--oauth-jwks-url needs --oauth-issuer (tokens are checked against both)")
        return self

    @model_validator(mode="after")
    def _usable_state_key(self) -> Settings:
        """Fail at start-up, not at the first confirmation, on a missing or weak key."""
        if self.state_key is not None and self.state_key_file is not None:
            raise ValueError("give the state key either in MCP_SEQUENCES_STATE_KEY or in --state-key-file, not both")
        try:
            key = self.sealing_key()
        except OSError as exc:
            raise ValueError(f"cannot read --state-key-file {self.state_key_file}: {exc.strerror}") from exc
        if key is not None and len(key.encode()) < MIN_STATE_KEY_BYTES:
            raise ValueError(f"the state key must be at least {MIN_STATE_KEY_BYTES} bytes (e.g. openssl rand -hex 32)")
        return self

    @property
    def lacks_credentials(self) -> bool:
        """Every call to the real API would fail: no key, no sign-in, and not the sandbox."""
        return not self.sandbox and self.api_key is None and self.email is None

    def sealing_key(self) -> str | None:
        """The shared key for confirmation state, from the environment or its file."""
        if self.state_key_file is not None:
            return Path(self.state_key_file).read_text(encoding="utf-8").strip()
        return self.state_key.get_secret_value() if self.state_key is not None else None


def env_name(field: str) -> str:
    """The environment variable that sets a settings field, for `--help` and the README."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"
