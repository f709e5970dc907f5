"""MCP prompts loaded from Markdown files, so that writing a prompt needs no Python.

A prompt file is `prompts/<name>.md`: TOML front matter between `+++` lines (title, description,
and one table per argument), then the message text, where `{argument}` stands for its value:

    +++
    title = "Review a sequence"
    description = "..."
    [arguments.sequence_id]
    description = "..."
    required = true
    +++
    Review sequence {sequence_id} ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FENCE = "+++"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def prompts_dir() -> Path:
    """The wheel ships prompts inside the package; a source checkout keeps them at the root."""
    packaged = Path(__file__).with_name("prompts")
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "prompts"


def load_prompts(folder: Path | None = None) -> list[Prompt]:
    return [parse_prompt(path) for path in sorted((folder or prompts_dir()).glob("*.md"))]


def parse_prompt(path: Path) -> Prompt:
    meta, template = _split(path)
    specs: dict[str, dict[str, Any]] = meta.get("arguments", {})
    undeclared = set(_PLACEHOLDER.findall(template)) - set(specs)
    if undeclared:
        raise ValueError(f"{path.name}: placeholders without an [arguments] entry: {sorted(undeclared)}")

    def render(**given: str) -> list[UserMessage]:
        values = {name: given.get(name) or spec.get("default", "") for name, spec in specs.items()}
        return [UserMessage(_PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template))]

    return Prompt(
        name=path.stem,
        title=meta.get("title"),
        description=meta["description"],
        arguments=[
            PromptArgument(name=name, description=spec.get("description"), required=spec.get("required", False))
            for name, spec in specs.items()
        ],
        fn=render,
    )


def _split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(f"\n{FENCE}\n")
    if not text.startswith(FENCE + "\n") or not sep:
        raise ValueError(f"{path.name}: expected TOML front matter between {FENCE} lines")
    return tomllib.loads(head.removeprefix(FENCE + "\n")), rest.lstrip("\n")
