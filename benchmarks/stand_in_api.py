"""A stand-in for the Sequences API on 127.0.0.1, fast enough never to be what a benchmark measures.

Plain asyncio and HTTP/1.1 keep-alive, no framework: it parses a request line, headers and a
Content-Length body, and keeps sequences in a dict. It serves what the tools call (list, get,
create, replace, patch, delete) and `GET /_stats`: requests counted per second, so a benchmark can
find the peak combined rate that reached "the API" from every replica.

Run: python benchmarks/stand_in_api.py [--port N]; it prints `listening on PORT` once it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEQUENCES = "/api/v2/sequences"
SEEDED = 50


def seed() -> dict[str, dict[str, Any]]:
    return {
        f"seq-{n}": {"_id": f"seq-{n}", "name": f"Sequence {n}", "status": "active", "tags": []} for n in range(SEEDED)
    }


class API:
    """The records and the request counts; each method returns (status, JSON body)."""

    def __init__(self) -> None:
        self.records = seed()
        self.per_second: Counter[int] = Counter()
        self.created = 0

    def answer(self, method: str, target: str, body: bytes) -> tuple[int, Any]:
        url = urlsplit(target)
        if url.path == "/_stats":
            return 200, {"per_second": self.per_second, "total": sum(self.per_second.values())}
        self.per_second[int(time.time())] += 1
        if url.path == SEQUENCES:
            return self._collection(method, url.query, body)
        if url.path.startswith(SEQUENCES + "/deleted/") and method == "DELETE":
            gone = self.records.pop(url.path.rsplit("/", 1)[1], None)
            return (200, gone) if gone else (404, {"message": "not found"})
        if url.path.startswith(SEQUENCES + "/"):
            return self._item(method, url.path.rsplit("/", 1)[1], body)
        return 404, {"message": "no such endpoint"}

    def _collection(self, method: str, query: str, body: bytes) -> tuple[int, Any]:
        if method == "POST":
            self.created += 1
            record = json.loads(body) | {"_id": f"new-{self.created}"}
            self.records[record["_id"]] = record
            return 201, record
        limit = int(parse_qs(query).get("limit", ["20"])[0])
        items = list(self.records.values())
        return 200, {"data": items[:limit], "total": len(items), "page": 1, "limit": limit}

    def _item(self, method: str, sequence_id: str, body: bytes) -> tuple[int, Any]:
        record = self.records.get(sequence_id)
        if record is None:
            return 404, {"message": "not found"}
        if method in ("PUT", "PATCH"):
            change = json.loads(body)
            record = change | {"_id": sequence_id} if method == "PUT" else record | change
            self.records[sequence_id] = record
        return 200, record


class Connection(asyncio.Protocol):
    """One keep-alive connection: answers each complete request in the buffer, in order."""

    def __init__(self, api: API) -> None:
        self.api = api
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (request := self._next_request()) is not None:
            status, payload = self.api.answer(*request)
            content = json.dumps(payload).encode()
            head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
            self.transport.write(head.encode() + content)  # type: ignore[attr-defined]

    def _next_request(self) -> tuple[str, str, bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        length = next((int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"), 0)
        if len(self.buffer) < end + 4 + length:
            return None
        body, self.buffer = self.buffer[end + 4 : end + 4 + length], self.buffer[end + 4 + length :]
        method, target, _ = lines[0].split(" ", 2)
        return method, target, body


async def serve(port: int) -> None:
    api = API()
    server = await asyncio.get_running_loop().create_server(lambda: Connection(api), "127.0.0.1", port)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
