"""Tool schemas are portable, fully described, and change only on purpose (snapshots)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_sequences.schema import portable

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots"
# UPDATE_SNAPSHOTS=1 rewrites them; review the diff before committing it.
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

ANNOTATIONS = {  # name: (readOnly, destructive, idempotent), as the tool table promises
    "list_sequences": (True, None, None),  # destructive and idempotent mean nothing for a read-only tool
    "get_sequence": (True, None, None),
    "create_sequence": (False, False, False),
    "update_sequence": (False, True, True),
    "patch_sequence": (False, False, True),
    "delete_sequence": (False, True, True),
    "create_sequence_activity": (False, False, False),
    "restore_sequence": (False, False, False),
}
# The MCP spec's defaults for hints a tool leaves out.
DEFAULT_HINTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}
# Property names that say all a model needs; every other property is described where it is offered,
# or (update and patch) on create_sequence, which their descriptions name.
SELF_EXPLANATORY = {"id", "name", "code", "tags", "maxContacts", "template", "order", "limit", "page", "dry_run"}
SAID_ON_CREATE = ("update_sequence", "patch_sequence")


@pytest.fixture
async def tools(client: Client) -> dict[str, dict[str, Any]]:
    listed = await client.list_tools()
    return {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools}


def subschemas(node: Any) -> list[Any]:
    """Every value anywhere below `node`, for checks that must hold throughout."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found += subschemas(child)
    return found


def boolean_subschemas(schema: dict[str, Any]) -> list[Any]:
    """Bare `true` where a schema belongs: some clients' validators reject it."""
    found = []
    for node in subschemas(schema):
        if not isinstance(node, dict):
            continue
        found += [key for key in ("additionalProperties", "items", "not", "contains") if node.get(key) is True]
        found += [key for key, sub in node.get("properties", {}).items() if sub is True]
        found += [key for key in ("anyOf", "allOf", "oneOf") if any(sub is True for sub in node.get(key, []))]
    return found


def described_properties(schema: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (name, "description" in prop or "enum" in prop)  # an enum's values say what it takes
        for node in subschemas(schema)
        if isinstance(node, dict) and isinstance(node.get("properties"), dict)
        for name, prop in node["properties"].items()
    ]


async def test_the_tools_and_their_annotations(tools: dict[str, dict[str, Any]]) -> None:
    assert list(tools) == list(ANNOTATIONS)
    for name, (read_only, destructive, idempotent) in ANNOTATIONS.items():
        hints = DEFAULT_HINTS | tools[name].get("annotations", {})
        assert hints["readOnlyHint"] is read_only and hints["openWorldHint"] is True, name
        if not read_only:
            assert (hints["destructiveHint"], hints["idempotentHint"]) == (destructive, idempotent), name
        assert tools[name]["title"] and len(tools[name]["description"]) > 50


@pytest.mark.parametrize("kind", ["inputSchema", "outputSchema"])
async def test_schemas_are_portable(tools: dict[str, dict[str, Any]], kind: str) -> None:
    for name, tool in tools.items():
        schema = tool[kind]
        assert re.fullmatch(r"[a-z_]{1,64}", name)
        assert schema["type"] == "object", name
        text = json.dumps(schema)
        assert "$ref" not in text and "$defs" not in text, name
        assert boolean_subschemas(schema) == [], name


async def test_every_input_property_is_described_once(tools: dict[str, dict[str, Any]]) -> None:
    """Described where offered, or on create_sequence for update and patch, unless the name says it all."""
    undocumented = [
        f"{name}.{prop}"
        for name, tool in tools.items()
        if name not in SAID_ON_CREATE
        for prop, ok in described_properties(tool["inputSchema"])
        if not ok and prop not in SELF_EXPLANATORY
    ]
    assert undocumented == []
    create = tools["create_sequence"]["inputSchema"]["properties"]
    for name in SAID_ON_CREATE:
        assert "create_sequence" in tools[name]["description"]
        shared = set(tools[name]["inputSchema"]["properties"]) - {"id", "dry_run"}
        assert shared <= set(create)


async def test_nested_keys_are_listed_in_their_property_description(tools: dict[str, dict[str, Any]]) -> None:
    """Sub-objects cost a schema per key; their keys are named in one line instead (the server validates them)."""
    create = tools["create_sequence"]["inputSchema"]["properties"]
    assert "subject" in create["steps"]["description"] and "delayDays" in create["steps"]["description"]
    assert "timezone" in create["schedule"]["description"] and "email" in create["owner"]["description"]


@pytest.mark.parametrize("name", list(ANNOTATIONS))
async def test_tool_schema_snapshot(tools: dict[str, dict[str, Any]], name: str) -> None:
    path = SNAPSHOTS / f"{name}.json"
    current = json.dumps(tools[name], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE:
        path.write_text(current, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == current, f"{name} schema changed: rerun with UPDATE_SNAPSHOTS=1"


def test_portable_inlines_references_and_keeps_field_docs() -> None:
    schema = {
        "$defs": {
            "Owner": {
                "type": "object",
                "title": "Owner",
                "properties": {"id": {"type": "string"}},
                "additionalProperties": True,
            }
        },
        "properties": {
            "owner": {"$ref": "#/$defs/Owner", "description": "who owns it"},
            "title": {"type": "string", "title": "Title"},
        },
        "title": "Args",
    }
    assert portable(schema, "input") == {
        "type": "object",
        "properties": {
            "owner": {"type": "object", "properties": {"id": {"type": "string"}}, "description": "who owns it"},
            "title": {"type": "string"},
        },
    }
