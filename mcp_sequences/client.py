"""The Sequences API over one shared `httpx.AsyncClient`: paths, ids, auth and error mapping.

This module knows HTTP and nothing of MCP. It returns the API's JSON as parsed, untouched;
`shaping.py` turns that into the tools' result models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from mcp_sequences import __version__
from mcp_sequences.errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    InvalidIdError,
    error_for_status,
)
from mcp_sequences.settings import Settings

SEQUENCES = "/api/v2/sequences"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)
MAX_CONNECTIONS = 20
CONNECT_TIMEOUT = 10.0


def check_id(sequence_id: str) -> str:
    """Refuse any id that could leave the /sequences/{id} path (`/`, `..`, `?`, `#`, `%`, spaces)."""
    if not _ID_RE.fullmatch(sequence_id):
        raise InvalidIdError(
            f"Invalid sequence id {sequence_id[:80]!r}: ids are 1-64 letters, digits, '-' or '_'. "
            "list_sequences shows the ids of existing sequences."
        )
    return sequence_id


def make_http_client(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The process's one upstream client: pooled connections, bounded timeouts, bearer auth."""
    headers = {"Accept": "application/json", "User-Agent": f"mcp-sequences/{__version__}"}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    return httpx.AsyncClient(
        base_url=settings.base_url,
        headers=headers,
        timeout=httpx.Timeout(settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout)),
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        transport=transport,
    )


@dataclass(frozen=True)
class Call:
    """One API request, described before it is sent: a dry run shows it, the audit log records it."""

    method: str
    path: str
    subject: str  # what the request is about, for error messages
    body: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


def list_call(params: dict[str, Any]) -> Call:
    return Call("GET", SEQUENCES, "the sequence list", params=params)


def get_call(sequence_id: str) -> Call:
    return Call("GET", _item(sequence_id), _subject(sequence_id))


def create_call(body: dict[str, Any]) -> Call:
    return Call("POST", SEQUENCES, "the new sequence", body=body)


def replace_call(sequence_id: str, body: dict[str, Any]) -> Call:
    return Call("PUT", _item(sequence_id), _subject(sequence_id), body=body)


def patch_call(sequence_id: str, body: dict[str, Any]) -> Call:
    return Call("PATCH", _item(sequence_id), _subject(sequence_id), body=body)


def delete_call(sequence_id: str) -> Call:
    # The documented delete path is /sequences/deleted/{id}, not /sequences/{id}.
    return Call("DELETE", f"{SEQUENCES}/deleted/{check_id(sequence_id)}", _subject(sequence_id))


def activity_call(body: dict[str, Any]) -> Call:
    return Call("POST", f"{SEQUENCES}/activity", "the sequence activity", body=body)


class SequencesClient:
    """Sends `Call`s; one shortcut per endpoint of the Sequences API."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def list(self, params: dict[str, Any]) -> Any:
        return await self.send(list_call(params))

    async def get(self, sequence_id: str) -> Any:
        return await self.send(get_call(sequence_id))

    async def create(self, body: dict[str, Any]) -> Any:
        return await self.send(create_call(body))

    async def replace(self, sequence_id: str, body: dict[str, Any]) -> Any:
        return await self.send(replace_call(sequence_id, body))

    async def patch(self, sequence_id: str, body: dict[str, Any]) -> Any:
        return await self.send(patch_call(sequence_id, body))

    async def delete(self, sequence_id: str) -> Any:
        return await self.send(delete_call(sequence_id))

    async def create_activity(self, body: dict[str, Any]) -> Any:
        return await self.send(activity_call(body))

    async def send(self, call: Call) -> Any:
        method, subject = call.method, call.subject
        try:
            response = await self._http.request(method, call.path, json=call.body, params=call.params)
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"The API did not answer in time ({method} {subject}); try again, or narrow the request."
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"Could not reach the API at {self._http.base_url.copy_with(userinfo=b'')} "
                f"({type(exc).__name__}); check ICLOUDREADY_BASE_URL and the network, then try again."
            ) from exc
        except httpx.RequestError as exc:  # an undecodable body, a redirect loop
            raise APIResponseError(f"The API's answer for {subject} could not be read ({type(exc).__name__}).") from exc
        if not response.is_success:
            raise error_for_status(response, subject)
        return _json(response, subject)


def _item(sequence_id: str) -> str:
    return f"{SEQUENCES}/{check_id(sequence_id)}"


def _subject(sequence_id: str) -> str:
    return f"sequence {sequence_id!r}"


def _json(response: httpx.Response, subject: str) -> Any:
    """Parse a success body; an empty one (204, or 200 with nothing) is None."""
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("content-type", "unknown content type")
        raise APIResponseError(
            f"The API answered {subject} with {kind} that is not JSON; "
            "check ICLOUDREADY_BASE_URL points at the API, not a web page."
        ) from exc
