"""Make pydantic's JSON Schemas portable across MCP clients and the models behind them.

Gemini, OpenAI strict mode and Cursor reject or mangle `$ref`/`$defs`, and some validators choke
on boolean subschemas. pydantic emits both, so every tool schema passes through `portable()`:
references are inlined, `additionalProperties: true` (the default anyway) is dropped, and the
titles pydantic derives from field names (which only repeat the name) are removed.

Optional fields are where most of the bytes go (`anyOf: [X, {type: null}], default: null`):
an input just leaves the field out, so inputs advertise X alone; outputs may really hold null,
so they say `type: [X, "null"]`, which clients validate the same way in a third of the space.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

Role = Literal["input", "output"]

_REF_PREFIX = "#/$defs/"
# Keys whose value is a mapping of names to subschemas, not a subschema itself.
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


@cache
def model_schema(model: type[BaseModel], role: Role) -> dict[str, Any]:
    """The portable schema of a model, built once per process (pydantic takes ~10 ms a model)."""
    mode = "validation" if role == "input" else "serialization"
    return portable(model.model_json_schema(by_alias=True, mode=mode), role)


def portable(schema: dict[str, Any], role: Role) -> dict[str, Any]:
    """A self-contained copy of `schema`: no $ref, no $defs, no boolean subschemas."""
    defs = schema.get("$defs", {})
    result = _clean(schema, defs, role, depth=0)
    result.setdefault("type", "object")
    return result


def _clean(node: dict[str, Any], defs: dict[str, Any], role: Role, depth: int) -> dict[str, Any]:
    if depth > 32:
        raise ValueError("schema nests too deeply to inline (a recursive model?)")
    node = _optional(_resolve(node, defs), defs, role)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "title") or (key == "additionalProperties" and value is True):
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {name: _clean(sub, defs, role, depth + 1) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_clean(sub, defs, role, depth + 1) for sub in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            out[key] = _clean(value, defs, role, depth + 1)
        else:
            out[key] = value
    return out


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not (isinstance(ref, str) and ref.startswith(_REF_PREFIX)):
        return node
    # Siblings of $ref (a field's description, default) win over the definition's own.
    target = defs[ref.removeprefix(_REF_PREFIX)]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _optional(node: dict[str, Any], defs: dict[str, Any], role: Role) -> dict[str, Any]:
    """Rewrite pydantic's `X | None = None` (see the module docstring); leave anything else alone."""
    arms = node.get("anyOf")
    if not (isinstance(arms, list) and len(arms) == 2 and {"type": "null"} in arms and node.get("default", 0) is None):
        return node
    inner = _resolve(next(arm for arm in arms if arm != {"type": "null"}), defs)
    rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
    if role == "input":
        return {**inner, **rest}
    if not isinstance(inner.get("type"), str):
        return rest | {"anyOf": arms}  # no single type to widen: keep the union
    return {**inner, **rest, "type": [inner["type"], "null"]}
