"""SequencesClient against an `httpx.MockTransport`: paths, headers, id checks and error mapping.

Each test builds the real client with `make_http_client(settings, transport=...)`; the handler
records every request that reaches the transport and answers with a canned response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mcp_sequences.client import (
    Call,
    SequencesClient,
    activity_call,
    create_call,
    delete_call,
    get_call,
    list_call,
    make_http_client,
    patch_call,
    replace_call,
)
from mcp_sequences.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidIdError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    UnprocessableEntityError,
)
from mcp_sequences.settings import Settings
from mcp_sequences.transport import RetryPolicy

pytestmark = pytest.mark.anyio

KEY = "sk-test-7f3a9c41e2"
NO_WAIT = RetryPolicy(base_delay=0.0)  # retries happen here, without the waits between them
BASE_URL = "https://crm.test"
SEQ_ID = "6650b0000000000000000001"
PARAMS = {
    "limit": "20",
    "page": "2",
    "q": "onboarding",
    "sortBy": "createdAt",
    "order": "desc",
    "fields": "id,name,status",
    "p": '{"status":"active"}',
}
BODY = {"name": "Onboarding", "steps": [{"order": 1, "type": "email", "delayDays": 0}], "tags": ["q3"]}

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Upstream:
    """A MockTransport handler that records requests and answers with `respond`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.respond: Handler = lambda request: httpx.Response(200, json={"id": SEQ_ID, "ok": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def last(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


def make_api(upstream: Upstream, api_key: str | None = KEY, base_url: str = BASE_URL) -> SequencesClient:
    settings = Settings(api_key=api_key, base_url=base_url)
    http = make_http_client(settings, transport=httpx.MockTransport(upstream), retry=NO_WAIT)
    return SequencesClient.from_settings(http, settings)


@pytest.fixture
def api(upstream: Upstream) -> SequencesClient:
    return make_api(upstream)


def answer(status: int, **kwargs: Any) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)


def assert_no_key(exc: BaseException) -> None:
    assert KEY not in str(exc)
    assert KEY not in repr(exc)


# --- Methods and paths ---------------------------------------------------------------------

# (call, method, path, JSON body or None)
ENDPOINTS = [
    pytest.param(list_call(PARAMS), "GET", "/api/v2/sequences", None, id="list"),
    pytest.param(get_call(SEQ_ID), "GET", f"/api/v2/sequences/{SEQ_ID}", None, id="get"),
    pytest.param(create_call(BODY), "POST", "/api/v2/sequences", BODY, id="create"),
    pytest.param(replace_call(SEQ_ID, BODY), "PUT", f"/api/v2/sequences/{SEQ_ID}", BODY, id="replace"),
    pytest.param(patch_call(SEQ_ID, BODY), "PATCH", f"/api/v2/sequences/{SEQ_ID}", BODY, id="patch"),
    pytest.param(delete_call(SEQ_ID), "DELETE", f"/api/v2/sequences/deleted/{SEQ_ID}", None, id="delete"),
    pytest.param(activity_call(BODY), "POST", "/api/v2/sequences/activity", BODY, id="activity"),
]


@pytest.mark.parametrize(("call", "method", "path", "body"), ENDPOINTS)
async def test_each_method_sends_its_method_path_and_body(
    api: SequencesClient, upstream: Upstream, call: Call, method: str, path: str, body: dict | None
) -> None:
    result = await api.send(call)

    request = upstream.last
    assert (request.method, request.url.host, request.url.path) == (method, "crm.test", path)
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == body
    assert result == {"id": SEQ_ID, "ok": True}  # the parsed JSON, untouched


async def test_list_passes_query_params_through_exactly(api: SequencesClient, upstream: Upstream) -> None:
    await api.list(PARAMS)

    assert upstream.last.url.params.multi_items() == list(PARAMS.items())


async def test_other_methods_send_no_query_string(api: SequencesClient, upstream: Upstream) -> None:
    await api.get(SEQ_ID)

    assert upstream.last.url.query == b""


# --- Headers and base URL ------------------------------------------------------------------


async def test_headers_carry_bearer_key_accept_and_user_agent(api: SequencesClient, upstream: Upstream) -> None:
    await api.get(SEQ_ID)

    headers = upstream.last.headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("mcp-sequences/")


async def test_no_authorization_header_without_api_key(upstream: Upstream) -> None:
    await make_api(upstream, api_key=None).get(SEQ_ID)

    assert "Authorization" not in upstream.last.headers


@pytest.mark.parametrize("base_url", ["https://crm.test/tenant", "https://crm.test/tenant/"])
async def test_base_url_path_prefix_is_kept(upstream: Upstream, base_url: str) -> None:
    await make_api(upstream, base_url=base_url).send(delete_call(SEQ_ID))

    assert upstream.last.url.path == f"/tenant/api/v2/sequences/deleted/{SEQ_ID}"


# --- Id checks -----------------------------------------------------------------------------

ID_CALLS = [
    pytest.param(lambda api, id_: api.get(id_), id="get"),
    pytest.param(lambda api, id_: api.send(replace_call(id_, BODY)), id="replace"),
    pytest.param(lambda api, id_: api.send(patch_call(id_, BODY)), id="patch"),
    pytest.param(lambda api, id_: api.send(delete_call(id_)), id="delete"),
]
BAD_IDS = [
    pytest.param("abc/def", id="slash"),
    pytest.param("..", id="dotdot"),
    pytest.param("abc?x=1", id="query"),
    pytest.param("abc#frag", id="fragment"),
    pytest.param("abc%2Fdef", id="encoded-slash"),
    pytest.param("abc def", id="space"),
    pytest.param("", id="empty"),
    pytest.param("a" * 65, id="65-chars"),
    pytest.param("séquence", id="unicode"),
    pytest.param("abc\n", id="trailing-newline"),
    pytest.param("activity", id="names-the-activity-endpoint"),
    pytest.param("deleted", id="names-the-delete-endpoint"),
    pytest.param("ACTIVITY", id="names-the-activity-endpoint-in-capitals"),
    pytest.param("Deleted", id="names-the-delete-endpoint-capitalised"),
]
GOOD_IDS = ["6650b0000000000000000001", "abc-DEF_123", "7", "a" * 64]


@pytest.mark.parametrize("call", ID_CALLS)
@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_unsafe_ids_are_refused_before_any_request(
    api: SequencesClient, upstream: Upstream, call, bad_id: str
) -> None:
    with pytest.raises(InvalidIdError) as caught:
        await call(api, bad_id)

    assert upstream.requests == []
    assert "list_sequences" in str(caught.value)
    assert_no_key(caught.value)


@pytest.mark.parametrize("call", ID_CALLS)
@pytest.mark.parametrize("good_id", GOOD_IDS)
async def test_safe_ids_are_sent_in_the_path(api: SequencesClient, upstream: Upstream, call, good_id: str) -> None:
    await call(api, good_id)

    assert upstream.last.url.path.endswith(f"/{good_id}")


# --- Error statuses ------------------------------------------------------------------------

STATUS_ERRORS = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
]


@pytest.mark.parametrize(("status", "error_class"), STATUS_ERRORS)
async def test_error_statuses_map_to_their_classes(
    api: SequencesClient, upstream: Upstream, status: int, error_class: type[APIStatusError]
) -> None:
    upstream.respond = answer(status, json={"message": "upstream says no"})

    with pytest.raises(APIStatusError) as caught:
        await api.send(patch_call(SEQ_ID, BODY))

    assert type(caught.value) is error_class
    assert caught.value.status_code == status
    assert str(caught.value).startswith(f"HTTP {status} for sequence {SEQ_ID!r}.")
    assert_no_key(caught.value)


async def test_422_message_quotes_the_upstream_message(api: SequencesClient, upstream: Upstream) -> None:
    upstream.respond = answer(422, json={"message": "steps[0].delayDays must be >= 0"})

    with pytest.raises(UnprocessableEntityError, match=r'The API said: "steps\[0\]\.delayDays must be >= 0"'):
        await api.send(create_call(BODY))


async def test_401_message_points_at_the_api_key(api: SequencesClient, upstream: Upstream) -> None:
    upstream.respond = answer(401, json={"error": "Unauthorized"})

    with pytest.raises(AuthenticationError, match="ICLOUDREADY_API_KEY") as caught:
        await api.list({})
    assert_no_key(caught.value)


async def test_404_message_names_the_id_and_list_sequences(api: SequencesClient, upstream: Upstream) -> None:
    upstream.respond = answer(404, text="")

    with pytest.raises(NotFoundError) as caught:
        await api.get(SEQ_ID)

    assert SEQ_ID in str(caught.value)
    assert "list_sequences" in str(caught.value)


# --- Transport failures and unreadable bodies ----------------------------------------------


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (httpx.ConnectError("connection refused"), APIConnectionError),
        (httpx.ReadTimeout("timed out"), APITimeoutError),
    ],
)
async def test_transport_failures_map_to_connection_errors(
    api: SequencesClient, upstream: Upstream, failure: httpx.TransportError, error_class: type[Exception]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    upstream.respond = fail

    with pytest.raises(APIConnectionError) as caught:
        await api.get(SEQ_ID)

    assert type(caught.value) is error_class
    assert caught.value.__cause__ is failure
    assert_no_key(caught.value)


async def test_html_success_body_is_a_response_error(api: SequencesClient, upstream: Upstream) -> None:
    page = "<!DOCTYPE html><html><body>Sign in</body></html>"
    upstream.respond = answer(200, text=page, headers={"Content-Type": "text/html"})

    with pytest.raises(APIResponseError, match="text/html") as caught:
        await api.list({})
    assert_no_key(caught.value)


@pytest.mark.parametrize(
    "response",
    [httpx.Response(204), httpx.Response(200, content=b""), httpx.Response(200, content=b"  \n")],
    ids=["204", "200-empty", "200-whitespace"],
)
async def test_empty_success_body_is_none(api: SequencesClient, upstream: Upstream, response: httpx.Response) -> None:
    upstream.respond = lambda request: response

    assert await api.send(delete_call(SEQ_ID)) is None


# --- Nothing passes for success that is not, and nothing secret gets out --------------------


async def test_a_redirect_is_an_error_not_a_success(api: SequencesClient, upstream: Upstream) -> None:
    """A proxy or SSO hop must not let delete_sequence report a delete that never happened."""
    upstream.respond = answer(302, headers={"Location": "https://login.crm.test/"})

    with pytest.raises(RedirectError, match="ICLOUDREADY_BASE_URL") as caught:
        await api.send(delete_call(SEQ_ID))
    assert caught.value.status_code == 302


async def test_an_upstream_that_echoes_the_key_is_redacted(api: SequencesClient, upstream: Upstream) -> None:
    upstream.respond = answer(401, json={"message": f"invalid key {KEY}"})

    with pytest.raises(AuthenticationError, match=r"invalid key \[redacted\]") as caught:
        await api.list({})
    assert_no_key(caught.value)


async def test_credentials_in_the_base_url_stay_out_of_errors(upstream: Upstream) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    upstream.respond = refuse
    api = make_api(upstream, base_url="https://user:hunter2@crm.test/tenant")

    with pytest.raises(APIConnectionError, match="https://crm.test/tenant") as caught:
        await api.get(SEQ_ID)
    assert "hunter2" not in str(caught.value)


async def test_an_undecodable_body_is_a_response_error(api: SequencesClient, upstream: Upstream) -> None:
    upstream.respond = answer(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    with pytest.raises(APIResponseError):
        await api.get(SEQ_ID)
