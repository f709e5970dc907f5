"""Make API text safe to show: no invisible, bidirectional or tag characters.

Sequence content is written by anyone with CRM access. Characters a reader cannot see (zero-width
spaces, Unicode tag characters) or that reorder what they see (bidi overrides) can hide
instructions from the person while the model still reads them, or make a name look like another
in a confirmation. They are removed from everything the model and the person are shown (the set
GitHub's MCP server strips); the audit log and restore keep the record exactly as the API sent it.
"""

from __future__ import annotations

import re
from typing import Any

INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")


def clean_text(text: str) -> str:
    return INVISIBLE.sub("", text)


def clean(value: Any) -> Any:
    """A copy of a JSON value with every string (keys too) cleaned; iterative, since it may be hostile."""
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        source, parent, slot = stack.pop()
        if isinstance(source, dict):
            keys = [clean_text(key) if isinstance(key, str) else key for key in source]
            copy: Any = dict.fromkeys(keys)  # keys first, so the copy keeps the API's order
            parent[slot] = copy
            stack.extend(zip(source.values(), [copy] * len(keys), keys, strict=True))
        elif isinstance(source, list):
            copy = [None] * len(source)
            parent[slot] = copy
            stack.extend((item, copy, index) for index, item in enumerate(source))
        else:
            parent[slot] = clean_text(source) if isinstance(source, str) else source
    return root[0]
