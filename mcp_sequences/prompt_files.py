"""MCP prompts loaded from Markdown files, so that writing a prompt needs no Python.

A prompt file is `prompts/<name>.md`: TOML front matter between `+++` lines (title, description,
and one table per argument), then the message text, where `{argument}` stands for its value:

    +++
    title = "Review a sequence"
    description = "..."
    [arguments.sequence_id]
    description = "..."
    required = true
    type = "sequence_id"      # or "integer" (with minimum/maximum), default "string"
    +++
    Review sequence {sequence_id} ...

Arguments arrive as strings; each is checked against its declared type before anything is
rendered, and a missing, unknown or malformed one is an invalid-params error that names it, in
both protocol eras (the SDK's own check said "Internal server error" on 2026-07-28).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

from mcp import MCPError
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument, UserMessage
from mcp.types import INVALID_PARAMS
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from mcp_sequences.client import ID_PATTERN
from mcp_sequences.models import checked
from mcp_sequences.toolkit import problem_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FENCE = "+++"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
SEQUENCE_ID = "sequence_id"
TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    SEQUENCE_ID: Annotated[str, checked(ID_PATTERN, "a sequence id: 1-64 letters, digits, '-' or '_'")],
}


class FilePrompt(Prompt):
    """A prompt whose arguments are checked against the types its file declares before it renders."""

    arguments_model: type[BaseModel]
    argument_types: dict[str, str]

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> list[Message]:
        try:
            values = self.arguments_model.model_validate(arguments or {})
        except ValidationError as exc:
            lines = problem_lines(exc, self.arguments_model, noun="argument")
            raise MCPError(INVALID_PARAMS, "\n".join([f"Invalid arguments for prompt {self.name}:", *lines])) from None
        return self.fn(**values.model_dump())

    def sequence_arguments(self) -> list[str]:
        """The arguments that name a sequence (clients can complete them from the API)."""
        return [name for name, kind in self.argument_types.items() if kind == SEQUENCE_ID]


def unknown_prompt(name: str, known: list[str]) -> MCPError:
    return MCPError(INVALID_PARAMS, f"Unknown prompt {name[:80]!r}; the prompts are: {', '.join(known)}")


def prompts_dir() -> Path:
    """The wheel ships prompts inside the package; a source checkout keeps them at the root."""
    packaged = Path(__file__).with_name("prompts")
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "prompts"


def load_prompts(folder: Path | None = None) -> list[FilePrompt]:
    return [parse_prompt(path) for path in sorted((folder or prompts_dir()).glob("*.md"))]


def parse_prompt(path: Path) -> FilePrompt:
    meta, template = _split(path)
    specs: dict[str, dict[str, Any]] = meta.get("arguments", {})
    undeclared = set(_PLACEHOLDER.findall(template)) - set(specs)
    if undeclared:
        raise ValueError(f"{path.name}: placeholders without an [arguments] entry: {sorted(undeclared)}")

    def render(**values: Any) -> list[Message]:
        return [UserMessage(_PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template))]

    return FilePrompt(
        name=path.stem,
        title=meta.get("title"),
        description=meta["description"],
        arguments=[
            PromptArgument(name=name, description=spec.get("description"), required=spec.get("required", False))
            for name, spec in specs.items()
        ],
        fn=render,
        arguments_model=_arguments_model(path, specs),
        argument_types={name: spec.get("type", "string") for name, spec in specs.items()},
    )


def _arguments_model(path: Path, specs: dict[str, dict[str, Any]]) -> type[BaseModel]:
    """The declared arguments as a model: types, bounds, defaults; any other name is refused."""
    fields: dict[str, Any] = {}
    for name, spec in specs.items():
        kind = spec.get("type", "string")
        if kind not in TYPES:
            raise ValueError(f"{path.name}: argument {name} has type {kind!r}; known: {sorted(TYPES)}")
        annotation = Annotated[TYPES[kind], Field(ge=spec.get("minimum"), le=spec.get("maximum"))]
        if "default" in spec:  # a default of the wrong type is the author's mistake: found at start-up
            TypeAdapter(annotation).validate_python(spec["default"])
        fields[name] = (annotation, ... if spec.get("required") else spec.get("default", ""))
    config = ConfigDict(extra="forbid")
    return create_model(f"{path.stem}_arguments", __config__=config, **fields)


def _split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(f"\n{FENCE}\n")
    if not text.startswith(FENCE + "\n") or not sep:
        raise ValueError(f"{path.name}: expected TOML front matter between {FENCE} lines")
    return tomllib.loads(head.removeprefix(FENCE + "\n")), rest.lstrip("\n")
