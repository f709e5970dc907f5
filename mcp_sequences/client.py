"""The Sequences API over one shared `httpx.AsyncClient`: paths, ids, auth, limits and error mapping.

This module knows HTTP and nothing of MCP. It returns the API's JSON as parsed, untouched;
`shaping.py` turns that into the tools' result models. Pacing and retries live in transport.py;
here every call gets one deadline for all its attempts, and answers are read only up to a cap.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from mcp_sequences import __version__
from mcp_sequences.auth import SignInAuth, SignInError
from mcp_sequences.errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    InvalidIdError,
    OutcomeUnknownError,
    ResponseTooLargeError,
    SequencesError,
    SignInFailedError,
    ThrottledError,
    error_for_status,
)
from mcp_sequences.operations.metrics import MeteredTransport, Metrics
from mcp_sequences.rate import RateLimiter
from mcp_sequences.settings import Settings
from mcp_sequences.store import SQLiteStore, Store, fingerprint
from mcp_sequences.transport import (
    DEADLINE,
    DEFAULT_RETRY,
    IDEMPOTENT_METHODS,
    PacedTransport,
    PacingExceeded,
    RetryPolicy,
    RetryTransport,
)

SEQUENCES = "/api/v2/sequences"
ACTIVITY = f"{SEQUENCES}/activity"
# Paths that name no record: a 404 on them says the base URL is wrong, not that something is missing.
FIXED_PATHS = frozenset({SEQUENCES, ACTIVITY})
ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_ID_RE = re.compile(ID_PATTERN)
RESERVED_IDS = frozenset({"activity", "deleted"})
MAX_CONNECTIONS = 20


def check_id(sequence_id: str) -> str:
    """Refuse any id that could leave the /sequences/{id} path (`/`, `..`, `?`, `#`, `%`, spaces),
    or name another endpoint under it (/sequences/activity, /sequences/deleted/...): in any case,
    since the API's router may not care (`Deleted`, `ACTIVITY`)."""
    if sequence_id.casefold() in RESERVED_IDS:
        raise InvalidIdError(f"{sequence_id!r} names an endpoint of the API, not a sequence; list_sequences shows ids.")
    if not _ID_RE.fullmatch(sequence_id):
        raise InvalidIdError(
            f"Invalid sequence id {sequence_id[:80]!r}: ids are 1-64 letters, digits, '-' or '_'. "
            "list_sequences shows the ids of existing sequences."
        )
    return sequence_id


def make_http_client(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    store: Store | None = None,
    metrics: Metrics | None = None,
) -> httpx.AsyncClient:
    """The process's one upstream client: pooled, paced, (metered,) retried, bounded, authenticated.

    Pacing counts in `store`, shared by every process using the same credential; without one
    (the `check` command, tests of the client alone) it counts in this process only.
    """
    network = transport or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=MAX_CONNECTIONS))
    store = store or SQLiteStore.memory()
    limiter = RateLimiter(store, credential_key(settings), settings.rate_per_minute, settings.rate_per_hour)
    attempts: httpx.AsyncBaseTransport = PacedTransport(network, limiter, settings.max_rate_wait)
    if metrics is not None:
        attempts = MeteredTransport(attempts, metrics)
    headers = {"Accept": "application/json", "User-Agent": f"mcp-sequences/{__version__}"}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    return httpx.AsyncClient(
        base_url=settings.base_url,
        headers=headers,
        auth=_sign_in(settings),
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        transport=RetryTransport(attempts, retry),
    )


def credential_key(settings: Settings) -> str:
    """Names the API account a budget belongs to, by a hash: the key or password is never stored."""
    secret = settings.api_key or settings.password
    return fingerprint(settings.base_url, settings.email or "", secret.get_secret_value() if secret else "")


def _sign_in(settings: Settings) -> httpx.Auth | None:
    """Sign-in is used only when there is no API key to send."""
    if settings.api_key is not None or settings.email is None or settings.password is None:
        return None
    return SignInAuth(settings.email, settings.password.get_secret_value())


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
    return Call("POST", ACTIVITY, "the sequence activity", body=body)


class SequencesClient:
    """Sends `Call`s. Reads have shortcuts; writes go through tools/guarded.py, which sends the Call."""

    def __init__(self, http: httpx.AsyncClient, *, deadline: float, max_bytes: int) -> None:
        self._http = http
        self._deadline = deadline
        self._max_bytes = max_bytes

    @classmethod
    def from_settings(cls, http: httpx.AsyncClient, settings: Settings) -> SequencesClient:
        return cls(http, deadline=settings.timeout, max_bytes=settings.max_response_bytes)

    async def list(self, params: dict[str, Any]) -> Any:
        return await self.send(list_call(params))

    async def get(self, sequence_id: str) -> Any:
        return await self.send(get_call(sequence_id))

    async def send(self, call: Call) -> Any:
        """One call, every attempt of it within one deadline; the answer parsed, or a SequencesError."""
        deadline = time.monotonic() + self._deadline
        try:
            with anyio.fail_after(self._deadline):
                response, body = await self._exchange(call, deadline)
        except TimeoutError as exc:
            if call.method not in IDEMPOTENT_METHODS:
                raise _unknown_outcome(call) from exc
            raise APITimeoutError(
                f"The API did not answer {call.method} {call.subject} within {self._deadline:g} s, retries "
                "included; try again later, or narrow the request (fields, limit)."
            ) from exc
        if not response.is_success:
            raise error_for_status(_with_body(response, body), call.subject, fixed_path=call.path in FIXED_PATHS)
        return _json(body, response, call.subject)

    async def _exchange(self, call: Call, deadline: float) -> tuple[httpx.Response, bytes]:
        """Send and read the answer's body (up to the cap), mapping transport failures to our errors."""
        request = self._http.build_request(
            call.method, call.path, json=call.body, params=call.params, extensions={DEADLINE: deadline}
        )
        try:
            response = await self._http.send(request, stream=True)
            try:
                return response, await _read_capped(response, self._max_bytes, call.subject)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise self._transport_failure(call, exc) from exc
        except httpx.RequestError as exc:  # an undecodable body, a redirect loop
            raise APIResponseError(
                f"The API's answer for {call.subject} could not be read ({type(exc).__name__})."
            ) from exc
        except PacingExceeded as exc:
            raise ThrottledError(str(exc)) from exc
        except SignInError as exc:
            raise SignInFailedError(f"Could not sign in to the API: {exc}.") from exc

    def _transport_failure(self, call: Call, exc: httpx.TransportError) -> SequencesError:
        """Name the failure; a create that may have arrived must not be retried blindly."""
        never_arrived = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        if call.method not in IDEMPOTENT_METHODS and not never_arrived:
            return _unknown_outcome(call)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"The API did not answer in time ({call.method} {call.subject}); try again, or narrow the request."
            )
        return APIConnectionError(
            f"Could not reach the API at {self._http.base_url.copy_with(userinfo=b'')} "
            f"({type(exc).__name__}); check ICLOUDREADY_BASE_URL and the network, then try again."
        )


def _unknown_outcome(call: Call) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"{call.method} {call.subject} was sent, but no answer came back (the connection broke or time ran "
        "out): it may or may not have been done. Check first (list_sequences with q, or get_sequence) "
        "before trying again, or it may be done twice."
    )


async def _read_capped(response: httpx.Response, max_bytes: int, subject: str) -> bytes:
    """The response's (decoded) body, refused past `max_bytes` rather than loaded whole."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(_too_large(subject, int(declared), max_bytes))
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLargeError(_too_large(subject, None, max_bytes))
    return bytes(body)


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A streamed response as a complete one, for the error mapping that reads its text.

    Only failures need it: building a Response costs more than parsing a small answer.
    """
    # Decoded already: the copy must not claim an encoding its content no longer has.
    headers = [(key, value) for key, value in response.headers.items() if key.lower() != "content-encoding"]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


def _too_large(subject: str, size: int | None, max_bytes: int) -> str:
    said = f"{size:,} bytes" if size is not None else f"more than {max_bytes:,} bytes"
    return (
        f"The API's answer for {subject} is {said}, over this server's limit of {max_bytes:,}; "
        "ask for less: a smaller limit, or only some fields (fields='id,name,status')."
    )


def _item(sequence_id: str) -> str:
    return f"{SEQUENCES}/{check_id(sequence_id)}"


def _subject(sequence_id: str) -> str:
    return f"sequence {sequence_id!r}"


def _json(body: bytes, response: httpx.Response, subject: str) -> Any:
    """Parse a success body; an empty one (204, or 200 with nothing) is None."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        kind = response.headers.get("content-type", "unknown content type")
        raise APIResponseError(
            f"The API answered {subject} with {kind} that is not valid JSON (cut off, or not the API); "
            "try again, and if it persists check that ICLOUDREADY_BASE_URL points at the API."
        ) from exc
