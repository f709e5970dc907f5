"""Make pydantic's JSON Schemas portable across MCP clients and the models behind them.

Gemini, OpenAI strict mode and Cursor reject or mangle `$ref`/`$defs`, and some validators choke
on boolean subschemas. pydantic emits both, so every tool schema passes through `portable()`:
references are inlined, `additionalProperties: true` (the default anyway) is dropped, and the
titles pydantic derives from field names (which only repeat the name) are removed to keep
tools/list small.
"""

from __future__ import annotations

from typing import Any

_REF_PREFIX = "#/$defs/"
# Keys whose value is a mapping of names to subschemas, not a subschema itself.
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def portable(schema: dict[str, Any]) -> dict[str, Any]:
    """A self-contained copy of `schema`: no $ref, no $defs, no boolean subschemas."""
    defs = schema.get("$defs", {})
    result = _clean(schema, defs, depth=0)
    result.setdefault("type", "object")
    return result


def _clean(node: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    if depth > 32:
        raise ValueError("schema nests too deeply to inline (a recursive model?)")
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        # Siblings of $ref (a field's description, default) win over the definition's own.
        target = defs[ref.removeprefix(_REF_PREFIX)]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "title") or (key == "additionalProperties" and value is True):
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {name: _clean(sub, defs, depth + 1) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_clean(sub, defs, depth + 1) for sub in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            out[key] = _clean(value, defs, depth + 1)
        else:
            out[key] = value
    return out
