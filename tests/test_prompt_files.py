"""Prompts come from prompts/*.md and reach clients with their descriptions and arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from mcp_sequences.prompt_files import load_prompts, parse_prompt, prompts_dir

pytestmark = pytest.mark.anyio


def test_the_shipped_prompts_parse_and_declare_their_arguments() -> None:
    prompts = load_prompts()
    assert len(prompts) >= 3
    for prompt in prompts:
        assert prompt.description and prompt.title and prompt.arguments, prompt.name
        assert all(argument.description for argument in prompt.arguments), prompt.name


async def test_a_client_lists_and_renders_them(client: Client) -> None:
    listed = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(listed) == {path.stem for path in prompts_dir().glob("*.md")}
    assert [a.name for a in listed["review_sequence"].arguments if a.required] == ["sequence_id"]
    rendered = await client.get_prompt("review_sequence", {"sequence_id": "abc123"})
    text = rendered.messages[0].content.text
    assert "get_sequence with id abc123" in text and "Focus: everything" in text


def test_placeholders_must_be_declared(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_text('+++\ndescription = "d"\n+++\nHello {who}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="who"):
        parse_prompt(path)


def test_json_braces_in_a_prompt_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "braces.md"
    path.write_text(
        '+++\ndescription = "d"\n[arguments.id]\ndescription = "x"\nrequired = true\n+++\n'
        'Send {"status": "paused"} to {id}\n',
        encoding="utf-8",
    )
    assert parse_prompt(path).fn(id="7")[0].content.text == 'Send {"status": "paused"} to 7\n'
