"""upstream_message and error_for_status on bare `httpx.Response`s."""

from __future__ import annotations

import httpx
import pytest

from mcp_sequences.errors import (
    MAX_UPSTREAM_MESSAGE_CHARS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    InvalidIdError,
    SequencesError,
    error_for_status,
    upstream_message,
)

LONG = "x" * (MAX_UPSTREAM_MESSAGE_CHARS + 100)


def text_response(text: str, content_type: str = "text/plain") -> httpx.Response:
    return httpx.Response(400, text=text, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(httpx.Response(400, json={"message": "Name is required"}), "Name is required", id="message"),
        pytest.param(httpx.Response(401, json={"error": "Unauthorized"}), "Unauthorized", id="error"),
        pytest.param(httpx.Response(404, json={"detail": "Not found."}), "Not found.", id="detail"),
        pytest.param(
            httpx.Response(422, json={"errors": {"name": "required"}}), '{"name":"required"}', id="errors-dict"
        ),
        pytest.param(
            httpx.Response(422, json={"errors": ["name is required", "code is taken"]}),
            '["name is required","code is taken"]',
            id="errors-list",
        ),
        pytest.param(
            httpx.Response(422, json={"message": "Validation failed", "errors": {"code": "taken"}}),
            'Validation failed; {"code":"taken"}',
            id="message-and-errors",
        ),
        pytest.param(
            httpx.Response(400, json={"error": {"code": 7, "text": "é"}}), '{"code":7,"text":"é"}', id="nested"
        ),
        pytest.param(httpx.Response(400, json={"statusCode": 400, "message": ""}), None, id="no-known-key"),
        pytest.param(httpx.Response(400, json="Bad sort field"), "Bad sort field", id="json-string"),
        pytest.param(text_response("  Service Unavailable\n"), "Service Unavailable", id="plain-text"),
        pytest.param(
            text_response("<!DOCTYPE html><html><body><h1>502</h1></body></html>", "text/html"), None, id="html"
        ),
        pytest.param(text_response("\n  <html><body>oops</body></html>", "text/html"), None, id="html-indented"),
        pytest.param(httpx.Response(500, content=b""), None, id="empty"),
        pytest.param(httpx.Response(500, content=b" \n "), None, id="whitespace"),
    ],
)
def test_upstream_message(response: httpx.Response, expected: str | None) -> None:
    assert upstream_message(response) == expected


@pytest.mark.parametrize(
    "response",
    [httpx.Response(400, json={"message": LONG}), text_response(LONG)],
    ids=["json", "plain-text"],
)
def test_long_upstream_message_is_clipped(response: httpx.Response) -> None:
    assert upstream_message(response) == "x" * MAX_UPSTREAM_MESSAGE_CHARS + "…"


def test_message_of_exactly_the_limit_is_not_clipped() -> None:
    text = "y" * MAX_UPSTREAM_MESSAGE_CHARS

    assert upstream_message(httpx.Response(400, json={"message": text})) == text


@pytest.mark.parametrize("status", [402, 405, 410, 418, 451])
def test_unmapped_4xx_is_a_plain_status_error(status: int) -> None:
    error = error_for_status(httpx.Response(status, json={"message": "nope"}), "sequence 'abc'")

    assert type(error) is APIStatusError
    assert error.status_code == status
    assert str(error) == f"HTTP {status} for sequence 'abc'. The API refused the request. The API said: \"nope\"."


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 599])
def test_any_5xx_is_an_internal_server_error(status: int) -> None:
    error = error_for_status(httpx.Response(status), "the sequence list")

    assert type(error) is InternalServerError
    assert error.status_code == status
    assert error.upstream_message is None
    assert "The API said" not in str(error)


@pytest.mark.parametrize(
    ("child", "parents"),
    [
        (InvalidIdError, (SequencesError, ValueError)),
        (APITimeoutError, (APIConnectionError, SequencesError)),
        (InternalServerError, (APIStatusError, SequencesError)),
    ],
)
def test_exception_tree(child: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    assert all(issubclass(child, parent) for parent in parents)
