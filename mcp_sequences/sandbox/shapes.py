"""Answer as another implementation of the same contract might: the same data, other shapes.

The Sequences API documents no response schema, so a server built against one guess breaks on
the next. `alt` sends what independent stand-ins of the API were seen to send: records wrapped
as {"success": true, "data": ...}, lists under "sequences" with a "count", `_id` for `id`,
contacts and owner as ids, `deleted` as a boolean, epoch-millisecond timestamps, numbers as
strings, a schedule written as text. Tests run the tools against both shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SHAPES = ("default", "alt")


@dataclass
class Shape:
    """Which shape the sandbox answers in; tests switch it at run time."""

    name: str = "default"


def _alt_record(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"_id": record.get("id")}
    for key, value in record.items():
        if key == "id":
            continue
        if key == "contacts" and isinstance(value, list):
            value = [item.get("id", item) if isinstance(item, dict) else item for item in value]
        elif key == "owner" and isinstance(value, dict):
            value = value.get("id", value)
        elif key == "deleted" and isinstance(value, str):
            value = value == "true"
        elif key in ("createdAt", "updatedAt") and isinstance(value, str):
            value = _epoch_ms(value)
        elif key == "maxContacts" and isinstance(value, int):
            value = str(value)
        elif key == "schedule" and isinstance(value, dict):
            value = " ".join(str(part) for part in value.values() if not isinstance(part, dict | list))
        out[key] = value
    return out


def _epoch_ms(text: str) -> Any:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return text


def reshape(shape: str, method: str, path: str, body: Any) -> Any:
    """The body of a successful answer in `shape`; errors and other paths are left alone."""
    if shape == "default" or not path.startswith("/api/v2/sequences") or not isinstance(body, dict):
        return body
    if method == "GET" and path == "/api/v2/sequences":
        return {"success": True, "sequences": [_alt_record(r) for r in body.get("data", [])], "count": body["total"]}
    if "/deleted/" in path or path.endswith("/activity"):
        return {"success": True, "data": body}
    return {"success": True, "data": _alt_record(body)}


class ShapeMiddleware:
    """Rewrite successful JSON answers into the shape the app's `Shape` names."""

    def __init__(self, app: ASGIApp, shape: Shape) -> None:
        self.app = app
        self.shape = shape

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.shape.name == "default":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if 200 <= start["status"] < 300 and body:
            body = json.dumps(reshape(self.shape.name, scope["method"], scope["path"], json.loads(body))).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
