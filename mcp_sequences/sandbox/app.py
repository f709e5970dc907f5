"""Starlette app serving a local implementation of the Sequences REST API.

Meant to be called in-process through ``httpx.ASGITransport`` (or ``SandboxTransport``,
which adds network faults), so the store is opened when the app is created (that
transport runs no lifespan). Every request, even a refused one, is journaled so tests
can assert on what the MCP server actually sent upstream; sign-in passwords are not.

Requests authenticate with the API key or with a token from ``POST /api/v2/signin``,
the API's documented alternative. Faults queued on ``app.state.faults`` apply after the
journal and auth check, before the routes (see ``faults``).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultMiddleware, FaultPlan
from .seed import SEED_SEQUENCES
from .shapes import Shape, ShapeMiddleware
from .store import Record, SequenceStore

SANDBOX_API_KEY = "sandbox"
SANDBOX_EMAIL = "demo@sandbox.test"
SANDBOX_PASSWORD = "sandbox-password"
SIGNIN_PATH = "/api/v2/signin"
TOKEN_TTL = 3600  # seconds, the expiresIn the sign-in answer announces
REDACTED = "***"
# The journal is for tests and demos; a sandbox left running keeps only the most recent requests.
JOURNAL_LIMIT = 10_000
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_SORT = "createdAt"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received; body is parsed JSON, raw text, or None if empty."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class ApiError(Exception):
    """An error answered as the API's JSON shape: {"message", "errors"?}."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def error_response(
    status: int,
    message: str,
    errors: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    content: dict[str, Any] = {"message": message}
    if errors:
        content["errors"] = errors
    return JSONResponse(content, status_code=status, headers=headers)


def invalid_fields(errors: dict[str, str]) -> ApiError:
    """A 422 naming every bad field, in the message too, so a client showing only that is still clear."""
    message = "; ".join(f"{field} {problem}" for field, problem in errors.items())
    return ApiError(422, message, errors)


# --- JSON parsing -----------------------------------------------------------


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {token}")
    return value


def parse_json(raw: str | bytes) -> Any:
    """Parse JSON, refusing what JSONResponse could not render back.

    NaN/Infinity and lone surrogates would otherwise be stored and turn a
    later read into a 500.
    """
    value = json.loads(raw, parse_constant=_finite_float, parse_float=_finite_float)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError on lone surrogates
    return value


def _try_parse_json(raw: str | bytes) -> tuple[bool, Any]:
    try:
        return True, parse_json(raw)
    except (ValueError, RecursionError):
        return False, None


async def read_object(request: Request) -> Record:
    ok, body = _try_parse_json(await request.body())
    if not ok:
        raise ApiError(400, "Request body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


# --- Sequence validation ----------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_count(value: Any) -> bool:
    """A whole number >= 0; as digits too, since the `alt` shape answers with them."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
        isinstance(value, str) and value.isdigit()
    )


def _list_of(item_type: type) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(isinstance(i, item_type) for i in value)


def _instance_of(kind: type) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, kind)


def _is_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


_STRING = (_instance_of(str), "a string")
_OBJECT = (_instance_of(dict), "an object")
_OBJECTS = (_list_of(dict), "an array of objects")
# What this API itself may answer with (see shapes.py), it accepts back.
_OBJECT_OR_ID = (lambda value: isinstance(value, dict) or _is_id(value), "an object or an id")
_OBJECTS_OR_IDS = (
    lambda value: isinstance(value, list) and all(isinstance(item, dict) or _is_id(item) for item in value),
    "an array of objects or ids",
)

# Documented fields and their cheap type checks; other fields pass through.
FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (_is_text, "a non-empty string"),
    "code": _STRING,
    "type": _STRING,
    "priority": _STRING,
    "status": _STRING,
    "template": _STRING,
    "startDate": _STRING,
    "endDate": _STRING,
    "deleted": _STRING,
    "schedule": (lambda value: isinstance(value, dict | str), "an object or a text"),
    "owner": _OBJECT_OR_ID,
    "emailFrom": _OBJECT,
    "maxContacts": (_is_count, "an integer >= 0"),
    "tags": (_list_of(str), "an array of strings"),
    "steps": _OBJECTS,
    "contacts": _OBJECTS_OR_IDS,
}


def validate_sequence(body: Record, *, partial: bool) -> None:
    """Reject bad documented fields; a full write also requires a name.

    Null clears any field except name, which every sequence must keep.
    """
    if not partial and not _is_text(body.get("name")):
        raise ApiError(422, "name is required", {"name": "required"})
    errors = {}
    for field, (is_valid, expected) in FIELD_RULES.items():
        value = body.get(field)
        cleared = value is None and field != "name"
        if field in body and not cleared and not is_valid(value):
            errors[field] = f"must be {expected}"
    if errors:
        raise invalid_fields(errors)


# --- Listing: query parameters, filtering, sorting, paging ------------------


@dataclass(frozen=True)
class ListQuery:
    """A validated GET /sequences query; search is already casefolded."""

    limit: int
    page: int
    descending: bool
    sort_by: str
    fields: tuple[str, ...]
    search: str
    filters: Mapping[str, Any]

    def matches(self, record: Record) -> bool:
        if not all(_matches(_at(record, key), value) for key, value in self.filters.items()):
            return False
        return not self.search or any(self.search in text.casefold() for text in _searchable(record))


def _at(record: Record, path: str) -> Any:
    """A dotted path into a record (owner.email), as document stores read filters."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _matches(value: Any, wanted: Any) -> bool:
    """Exact match, or, for an array, holding the value (tags: "vip" matches ["vip", "q1"])."""
    return value == wanted or (isinstance(value, list) and not isinstance(wanted, list) and wanted in value)


def _int_param(params: Mapping[str, str], name: str, default: int, maximum: int | None) -> int:
    allowed = f"an integer between 1 and {maximum}" if maximum is not None else "an integer >= 1"
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value: int | None = int(raw)
    except ValueError:
        value = None
    if value is None or value < 1 or (maximum is not None and value > maximum):
        raise ApiError(422, f"{name} must be {allowed}, got {raw!r}", {name: f"must be {allowed}"})
    return value


def _order_param(params: Mapping[str, str]) -> bool:
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        message = f"order must be 'asc' or 'desc', got {order!r}"
        raise ApiError(422, message, {"order": "must be asc or desc"})
    return order == "desc"


def _filters_param(params: Mapping[str, str]) -> Mapping[str, Any]:
    raw = params.get("p")
    if not raw:
        return {}
    ok, filters = _try_parse_json(raw)
    if not ok or not isinstance(filters, dict):
        message = 'p must be a JSON object of exact-match field filters, e.g. {"status":"active"}'
        raise ApiError(422, message, {"p": "must be a JSON object"})
    return filters


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    fields = (params.get("fields") or "").split(",")
    return ListQuery(
        limit=_int_param(params, "limit", DEFAULT_LIMIT, MAX_LIMIT),
        page=_int_param(params, "page", 1, None),
        descending=_order_param(params),
        sort_by=params.get("sortBy") or DEFAULT_SORT,
        fields=tuple(field.strip() for field in fields if field.strip()),
        search=(params.get("q") or "").strip().casefold(),
        filters=_filters_param(params),
    )


def _searchable(record: Record) -> list[str]:
    """The texts q searches: name, code, status, owner name/email and tags."""
    owner = record.get("owner") if isinstance(record.get("owner"), dict) else {}
    tags = record.get("tags") if isinstance(record.get("tags"), list) else []
    texts = [
        record.get("name"),
        record.get("code"),
        record.get("status"),
        owner.get("name"),
        owner.get("email"),
        *tags,
    ]
    return [text for text in texts if isinstance(text, str)]


def _sort_key(value: Any) -> tuple[int, Any]:
    """Order values of mixed JSON types without TypeError: numbers, strings, the rest."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def sort_records(records: list[Record], field: str, descending: bool) -> list[Record]:
    """Sort by field, ties by insertion order; missing values last either way."""
    present = [(index, r) for index, r in enumerate(records) if r.get(field) is not None]
    missing = [r for r in records if r.get(field) is None]
    present.sort(key=lambda pair: (_sort_key(pair[1][field]), pair[0]), reverse=descending)
    return [r for _, r in present] + missing


def project(record: Record, fields: tuple[str, ...]) -> Record:
    if not fields:
        return record
    return {key: record[key] for key in dict.fromkeys(("id", *fields)) if key in record}


# --- Endpoints --------------------------------------------------------------


def _store(request: Request) -> SequenceStore:
    return request.app.state.store


def _not_found(seq_id: str) -> ApiError:
    return ApiError(404, f"Sequence {seq_id} not found")


def _found(record: Record | None, seq_id: str) -> Record:
    if record is None:
        raise _not_found(seq_id)
    return record


async def list_sequences(request: Request) -> JSONResponse:
    query = parse_list_query(request.query_params)
    matches = [r for r in _store(request).list_sequences() if query.matches(r)]
    ordered = sort_records(matches, query.sort_by, query.descending)
    start = (query.page - 1) * query.limit
    data = [project(r, query.fields) for r in ordered[start : start + query.limit]]
    return JSONResponse({"data": data, "total": len(matches), "page": query.page, "limit": query.limit})


async def create_sequence(request: Request) -> JSONResponse:
    body = await read_object(request)
    validate_sequence(body, partial=False)
    defaults = {"status": "draft", "deleted": "false", "steps": [], "contacts": [], "tags": []}
    fields = {**body, **{key: value for key, value in defaults.items() if key not in body}}
    return JSONResponse(_store(request).create_sequence(fields), status_code=201)


async def get_sequence(request: Request) -> JSONResponse:
    seq_id = request.path_params["id"]
    return JSONResponse(_found(_store(request).get_sequence(seq_id), seq_id))


async def replace_sequence(request: Request) -> JSONResponse:
    seq_id = request.path_params["id"]
    body = await read_object(request)
    validate_sequence(body, partial=False)
    return JSONResponse(_found(_store(request).replace_sequence(seq_id, body), seq_id))


async def update_sequence(request: Request) -> JSONResponse:
    seq_id = request.path_params["id"]
    body = await read_object(request)
    validate_sequence(body, partial=True)
    return JSONResponse(_found(_store(request).update_sequence(seq_id, body), seq_id))


async def delete_sequence(request: Request) -> JSONResponse:
    seq_id = request.path_params["id"]
    if not _store(request).delete_sequence(seq_id):
        raise _not_found(seq_id)
    return JSONResponse({"id": seq_id, "deleted": True})


async def create_activity(request: Request) -> JSONResponse:
    body = await read_object(request)
    if "sequenceId" in body:
        seq_id = body["sequenceId"]
        if not isinstance(seq_id, str):
            raise ApiError(422, "sequenceId must be a string", {"sequenceId": "must be a string"})
        _found(_store(request).get_sequence(seq_id), seq_id)
    return JSONResponse(_store(request).create_activity(body), status_code=201)


# --- Sign-in -----------------------------------------------------------------


class Sessions:
    """Bearer tokens issued by sign-in, each accepted for `ttl` seconds like the API key."""

    def __init__(self, ttl: float = TOKEN_TTL) -> None:
        self.ttl = ttl
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        self._expiry[token] = time.monotonic() + self.ttl
        return token

    def valid(self, token: str) -> bool:
        expiry = self._expiry.get(token)
        return expiry is not None and time.monotonic() < expiry

    def expire_all(self) -> None:
        """End every session now, so tests need not wait an hour to see an expired token refused."""
        self._expiry.clear()


async def signin(request: Request) -> JSONResponse:
    body = await read_object(request)
    errors = {field: "must be a non-empty string" for field in ("email", "password") if not _is_text(body.get(field))}
    if errors:
        raise invalid_fields(errors)
    expected = request.app.state.users.get(body["email"])
    # Constant-time, as a real API would; bytes because compare_digest refuses non-ASCII str.
    if expected is None or not secrets.compare_digest(expected.encode(), body["password"].encode()):
        raise ApiError(401, "Invalid email or password")
    return JSONResponse({"token": request.app.state.tokens.issue(), "expiresIn": TOKEN_TTL})


# --- Errors, journal and auth -----------------------------------------------


async def handle_api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.errors)


async def handle_http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    """Routing 404/405 answered in the API's JSON shape (keeps the Allow header)."""
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to the app once, then defers."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if not pending:
            return await receive()
        pending = False
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _is_signin(path: str) -> bool:
    return path.rstrip("/") == SIGNIN_PATH


def _journal_body(path: str, body: bytes) -> Any:
    """The body as journaled; a sign-in's password is never kept, even in a body that does not parse."""
    if not body:
        return None
    ok, parsed = _try_parse_json(body)
    if not _is_signin(path):
        return parsed if ok else body.decode("utf-8", errors="replace")
    if ok and isinstance(parsed, dict):
        return {**parsed, "password": REDACTED} if "password" in parsed else parsed
    return REDACTED


class JournalAuthMiddleware:
    """Journal every HTTP request, then refuse those without the API key or a live token (sign-in needs neither)."""

    def __init__(self, app: ASGIApp, journal: deque[RecordedRequest], api_key: str, sessions: Sessions) -> None:
        self.app = app
        self.journal = journal
        self.api_key = api_key
        self.sessions = sessions

    def _authorized(self, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme == "Bearer" and (token == self.api_key or self.sessions.valid(token))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = Request(scope)
        path = request.url.path
        self.journal.append(
            RecordedRequest(
                method=request.method,
                path=path,
                query=dict(request.query_params),
                body=_journal_body(path, body),
            )
        )
        if not (_is_signin(path) or self._authorized(request.headers.get("authorization"))):
            await error_response(401, "Invalid or missing API key")(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


# --- App --------------------------------------------------------------------


def create_sandbox_app(
    db_path: str | os.PathLike[str] = ":memory:",
    api_key: str = SANDBOX_API_KEY,
    *,
    seed: bool = True,
    reset: bool = False,
    users: Mapping[str, str] | None = None,
) -> Starlette:
    """Build the sandbox; seeds only an empty database so a file keeps user edits, unless `reset`.

    `users` maps the emails that may sign in to their passwords (default: the demo user).
    """
    store = SequenceStore(db_path)
    if seed:
        store.seed(SEED_SEQUENCES, reset=reset)
    journal: deque[RecordedRequest] = deque(maxlen=JOURNAL_LIMIT)
    tokens = Sessions()
    faults = FaultPlan()
    shape = Shape()
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(JournalAuthMiddleware, journal=journal, api_key=api_key, sessions=tokens),
            Middleware(FaultMiddleware, plan=faults),
            Middleware(ShapeMiddleware, shape=shape),
        ],
        exception_handlers={ApiError: handle_api_error, HTTPException: handle_http_error},
    )
    app.state.store = store
    app.state.journal = journal
    app.state.tokens = tokens
    app.state.faults = faults
    app.state.shape = shape
    app.state.users = dict(users if users is not None else {SANDBOX_EMAIL: SANDBOX_PASSWORD})
    return app


ROUTES = [
    Route(SIGNIN_PATH, signin, methods=["POST"]),
    Route("/api/v2/sequences", list_sequences, methods=["GET"]),
    Route("/api/v2/sequences", create_sequence, methods=["POST"]),
    Route("/api/v2/sequences/activity", create_activity, methods=["POST"]),
    Route("/api/v2/sequences/deleted/{id}", delete_sequence, methods=["DELETE"]),
    Route("/api/v2/sequences/{id}", get_sequence, methods=["GET"]),
    Route("/api/v2/sequences/{id}", replace_sequence, methods=["PUT"]),
    Route("/api/v2/sequences/{id}", update_sequence, methods=["PATCH"]),
]
