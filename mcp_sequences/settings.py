"""One settings model for the whole server: command-line flags over environment variables over defaults.

Every field documents itself; `cli.py` builds `--help` from these descriptions, so a flag, its env
var and its default are written down once, here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MCP_SEQUENCES_"
DEFAULT_BASE_URL = "https://api.icloud-ready.com"
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


def default_sandbox_db() -> str:
    """The sandbox keeps its data in the user's own data folder, so edits survive restarts."""
    return str(Path(platformdirs.user_data_dir("mcp-sequences")) / "sandbox.db")


class Settings(BaseSettings):
    """How the server reaches the API and how clients reach the server."""

    # populate_by_name: flags and tests set fields by name; the env var names of the two API fields
    # are the vendor's own (ICLOUDREADY_*), the rest carry our prefix.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True, populate_by_name=True)

    base_url: str = Field(
        DEFAULT_BASE_URL,
        validation_alias="ICLOUDREADY_BASE_URL",
        description="Base URL of the iCloudReady API (the /api/v2/... paths are appended).",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias="ICLOUDREADY_API_KEY",
        description="Bearer API key for the iCloudReady API. Environment only, never a flag, "
        "so it does not show in process listings.",
        json_schema_extra={"env_only": True},
    )
    sandbox: bool = Field(
        False,
        description="Serve against the built-in SQLite sandbox instead of the real API: no key, no network.",
    )
    sandbox_db: str = Field(
        default_factory=default_sandbox_db,
        description="SQLite file of the sandbox (':memory:' for a throwaway one).",
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
    allowed_origins: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_ORIGINS),
        description="HTTP only: browser Origin headers accepted. Repeatable; the env var takes a JSON list.",
    )
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds an upstream API call may take.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level; logs always go to stderr."
    )


def env_name(field: str) -> str:
    """The environment variable that sets a settings field, for `--help` and the README."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"
