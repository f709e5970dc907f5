"""Prompts come from prompts/*.md and reach clients with their descriptions and arguments."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS

from mcp_sequences.prompt_files import load_prompts, parse_prompt, prompts_dir
from tests.conftest import FIRST_ID

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


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        (
            "review_sequence",
            {},
            "Invalid arguments for prompt review_sequence:\n- sequence_id: required argument is missing",
        ),
        (
            "review_sequence",
            {"sequence_id": FIRST_ID, "tone": "kind"},
            "- tone: unknown argument; allowed arguments: sequence_id, focus",
        ),
        ("review_sequence", {"sequence_id": "../etc"}, "- sequence_id: must be a sequence id: 1-64 letters, digits"),
        (
            "clean_up_stale_sequences",
            {"older_than_days": "abc"},
            '- older_than_days: Input should be a valid integer, unable to parse string as an integer (got "abc")',
        ),
        (
            "clean_up_stale_sequences",
            {"older_than_days": "0"},
            "- older_than_days: Input should be greater than or equal to 1",
        ),
        (
            "design_sequence",
            {"goal": "demos", "max_steps": "99"},
            "- max_steps: Input should be less than or equal to 30",
        ),
        (
            "design_sequnce",
            {},
            "Unknown prompt 'design_sequnce'; the prompts are: clean_up_stale_sequences, design_sequence",
        ),
    ],
)
async def test_bad_prompt_requests_are_invalid_params_naming_the_argument_in_both_eras(
    client: Client, caplog: pytest.LogCaptureFixture, name: str, arguments: dict[str, str], message: str
) -> None:
    """The SDK said "Internal server error" on 2026-07-28 and logged a traceback; both eras now say what is wrong."""
    with caplog.at_level(logging.DEBUG), pytest.raises(MCPError) as refused:
        await client.get_prompt(name, arguments)
    assert refused.value.code == INVALID_PARAMS and message in refused.value.message
    assert not [record for record in caplog.records if record.exc_info]


async def test_typed_arguments_render_as_given_or_their_default(client: Client) -> None:
    default = await client.get_prompt("clean_up_stale_sequences", {})
    given = await client.get_prompt("clean_up_stale_sequences", {"older_than_days": "30"})
    assert "not updated for 90 days is stale" in default.messages[0].content.text
    assert "not updated for 30 days is stale" in given.messages[0].content.text


def test_an_unknown_argument_type_or_a_default_of_the_wrong_type_fails_at_load(tmp_path: Path) -> None:
    path = tmp_path / "typed.md"
    head = '+++\ndescription = "d"\n[arguments.n]\ndescription = "x"\n'
    path.write_text(head + 'type = "date"\n+++\n{n}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="argument n has type 'date'"):
        parse_prompt(path)
    path.write_text(head + 'type = "integer"\ndefault = "many"\n+++\n{n}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="valid integer"):
        parse_prompt(path)
