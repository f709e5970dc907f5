"""Make pydantic's JSON Schemas portable across MCP clients and the models behind them.

Gemini, OpenAI strict mode and Cursor reject or mangle `$ref`/`$defs`, and some validators choke
on boolean subschemas. pydantic emits both, so every tool schema passes through `portable()`:
references are inlined, `additionalProperties: true` (the default anyway) is dropped, and the
titles pydantic derives from field names (which only repeat the name) are removed.

Optional fields are where most of the bytes go (`anyOf: [X, {type: null}], default: null`):
an input just leaves the field out, and results leave out what they do not have, so both
advertise X alone. Output schemas carry no descriptions or defaults: clients validate with them,
models do not read them, and every token in the catalogue is paid for by the user.
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
def model_schema(model: type[BaseModel], role: Role, undescribed: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The portable schema of a model, built once per process (pydantic takes ~10 ms a model).

    `undescribed` names properties described on another tool (said once, referred to).
    """
    mode = "validation" if role == "input" else "serialization"
    schema = portable(model.model_json_schema(by_alias=True, mode=mode), role)
    properties = schema.get("properties", {})
    for name, node in properties.items():
        if role == "output" or name in undescribed:
            properties[name] = brief(node)
        elif _nested_object(node):
            properties[name] = outline(node)
    return schema


def outline(node: dict[str, Any]) -> dict[str, Any]:
    """A property holding objects, its keys listed in its description instead of a schema per key.

    A key's schema costs a model about six tokens before it says anything; "Keys: subject, delayDays
    (days after the previous step)" says what a model needs in a third of that. The server still
    validates every key's type.
    """
    objects = [arm for arm in _arms(node) if "properties" in arm]
    keys = ", ".join(
        f"{key} ({sub['description'].rstrip('.')})" if sub.get("description") else key
        for key, sub in objects[0]["properties"].items()
    )
    said = node.get("description") or "Keys: {keys}"  # a description places the keys where it says {keys}
    return brief(node) | {"description": said.replace("{keys}", "{" + keys + "}")}


def _arms(node: dict[str, Any]) -> list[dict[str, Any]]:
    inner = node.get("items", node) if node.get("type") == "array" else node
    return inner.get("anyOf", [inner]) if isinstance(inner, dict) else []


def _nested_object(node: dict[str, Any]) -> bool:
    return any("properties" in arm for arm in _arms(node))


def brief(node: dict[str, Any]) -> dict[str, Any]:
    """Only the type of a property, one level down: what validation needs and a reader sees at once.

    Output properties (clients check the shape; models do not read output schemas) and input
    properties described on another tool are stated this way.
    """
    if "anyOf" in node:
        arms = [brief(arm) for arm in node["anyOf"]]
        plain = all(set(arm) == {"type"} and isinstance(arm["type"], str) for arm in arms)
        return {"type": sorted({arm["type"] for arm in arms})} if plain else {"anyOf": arms}
    short = {key: node[key] for key in ("type", "enum") if key in node}
    if isinstance(node.get("items"), dict) and node["items"]:
        short["items"] = {key: value for key, value in brief(node["items"]).items() if key != "items"}
    return short


def portable(schema: dict[str, Any], role: Role) -> dict[str, Any]:
    """A self-contained copy of `schema`: no $ref, no $defs, no boolean subschemas."""
    defs = schema.get("$defs", {})
    result = _clean(schema, defs, role, depth=0)
    result.setdefault("type", "object")
    result.pop("description", None)  # the model's docstring: the tool's description says it for the reader
    return result


def _undescribed(node: Any) -> Any:
    """The same schema without descriptions, at any depth (a property named "description" stays)."""
    if isinstance(node, list):
        return [_undescribed(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _undescribed(value) for key, value in node.items() if not (key == "description" and isinstance(value, str))
    }


def _clean(node: dict[str, Any], defs: dict[str, Any], role: Role, depth: int) -> dict[str, Any]:
    if depth > 32:
        raise ValueError("schema nests too deeply to inline (a recursive model?)")
    node = _optional(_resolve(node, defs), defs, role)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "title") or (key == "additionalProperties" and value is True):
            continue
        if key == "default" and value is False:  # a switch left out is off; saying so costs every reader
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
    if not (isinstance(arms, list) and {"type": "null"} in arms and node.get("default", 0) is None):
        return node
    rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
    kept = [arm for arm in arms if arm != {"type": "null"}]
    return {**_resolve(kept[0], defs), **rest} if len(kept) == 1 else {**rest, "anyOf": kept}
