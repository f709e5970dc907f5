"""The `mcp-sequences` command: flags built from the settings model, then serve.

Each flag's help is its settings field's description plus the env var that also sets it, so
`--help`, the env vars and the defaults cannot drift apart.
"""

from __future__ import annotations

import argparse
import logging
import sys
import typing
from collections.abc import Sequence

import anyio
from pydantic import ValidationError

from mcp_sequences import __version__
from mcp_sequences.settings import Settings, env_name

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXAMPLES = """\
commands:
  mcp-sequences [flags]          serve MCP (stdio unless --transport http)
  mcp-sequences check [flags]    check the configuration: one call to the API, a verdict, exit 0 or 1

examples:
  mcp-sequences --sandbox                         try it: local sandbox data, no key, no network
  ICLOUDREADY_API_KEY=... mcp-sequences           the real API, over stdio (what desktop clients launch)
  mcp-sequences --sandbox --transport http --port 8000   streamable HTTP at http://127.0.0.1:8000/mcp
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-sequences",
        description="MCP server for the iCloudReady CRM Sequences API. "
        "Every flag can also be set by the environment variable shown.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    env_only = []
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("env_only"):
            env_only.append(f"  {env_name(name)}  {field.description}")
            continue
        help_text = f"{field.description} [env: {env_name(name)}]" + _default_note(field)
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text, **_argument_kind(field))
    parser.epilog = "\n".join(
        [EXAMPLES, "secrets, from the environment only (never flags, which show in process lists):", *env_only]
    )
    return parser


def _argument_kind(field: typing.Any) -> dict[str, typing.Any]:
    """How argparse reads a field: a switch, a repeatable option, a choice, or a plain value."""
    kind: dict[str, typing.Any] = {"default": argparse.SUPPRESS}
    if field.annotation is bool:
        return kind | {"action": "store_true"}
    if typing.get_origin(field.annotation) in (list, dict):
        return kind | {"action": "append", "metavar": "VALUE"}
    if typing.get_origin(field.annotation) is typing.Literal:
        return kind | {"choices": typing.get_args(field.annotation)}
    return kind | {"metavar": "VALUE"}


def _default_note(field: typing.Any) -> str:
    default = field.get_default(call_default_factory=True)
    return "" if default in (None, False, [], {}) else f" (default: {default})"


def run_check(settings: Settings) -> None:
    """Print the verdict on stdout (this is a command, not the stdio server) and exit 0 or 1."""
    from mcp_sequences.check import check

    works, verdict = anyio.run(check, settings)
    sys.stdout.write(verdict + "\n")
    raise SystemExit(0 if works else 1)


def load_settings(argv: Sequence[str] | None = None) -> Settings:
    """Flags given on the command line override the environment; bad values exit with code 2."""
    parser = build_parser()
    given = vars(parser.parse_args(argv))
    try:
        return Settings(**given)
    except ValidationError as exc:
        parser.error("; ".join(_problem(err) for err in exc.errors(include_url=False)))


def _problem(err: typing.Any) -> str:
    message = err["msg"].removeprefix("Value error, ")
    return f"{_setting_name(err['loc'])}: {message}" if err["loc"] else message


def _setting_name(loc: tuple[typing.Any, ...]) -> str:
    """Name a bad setting both ways, since it may have come from a flag or from the environment."""
    field = str(loc[0]) if loc else ""
    if field not in Settings.model_fields:
        return field
    return f"--{field.replace('_', '-')} / {env_name(field)}"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    checking = args[:1] == ["check"]
    settings = load_settings(args[1:] if checking else args)
    # Before the SDK configures logging: everything to stderr, stdout stays the protocol's.
    logging.basicConfig(stream=sys.stderr, level=settings.log_level, format=LOG_FORMAT)
    if checking:
        run_check(settings)
    # Imported here so that --help and flag errors answer without loading the MCP SDK (~0.6 s).
    from mcp_sequences.server import serve

    serve(settings)
