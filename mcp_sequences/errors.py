"""Everything that can go wrong between a tool call and the Sequences API, as one exception tree.

    SequencesError                  base: str(error) is written for the model that called the tool
    ├── InvalidIdError              an id outside the safe character set; no request was made
    ├── ThrottledError              our own pacing under the API's rate limit would wait too long
    ├── SignInFailedError           email/password sign-in gave no token
    ├── APIConnectionError          the API could not be reached
    │   ├── APITimeoutError         ... or did not answer in time (one deadline for all attempts)
    │   └── OutcomeUnknownError     a create was sent, then the connection broke: done or not, unknown
    ├── APIResponseError            the API answered with a body we cannot read
    │   └── ResponseTooLargeError   ... or one over the size cap, refused unread
    └── APIStatusError              the API answered 3xx/4xx/5xx (`.status_code`)
        ├── RedirectError           3xx: not followed, so a login page or http->https hop cannot pass as success
        ├── BadRequestError         400
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        │   └── EndpointNotFoundError   ... on a path that always exists (the list): a wrong base URL
        ├── ConflictError           409
        ├── UnprocessableEntityError 422
        ├── RateLimitError          429
        └── InternalServerError     5xx

Each message says what happened and what to do next. None carries a header, and the bearer token
is cut out of any upstream text they quote, so the API key cannot leak through an error.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

# Upstream error text is quoted back to the model; keep its share of the context small.
MAX_UPSTREAM_MESSAGE_CHARS = 500


class SequencesError(Exception):
    """Base class: every error this package raises about the API."""


class InvalidIdError(SequencesError, ValueError):
    """An id that could change the request path; refused before any request."""


class ThrottledError(SequencesError):
    """This server holds back to stay under the API's rate limits, and the wait is too long."""


class SignInFailedError(SequencesError):
    """Signing in with ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD did not give a token."""


class APIConnectionError(SequencesError):
    """The API could not be reached (DNS, refused connection, TLS, reset)."""


class APITimeoutError(APIConnectionError):
    """The API did not answer within the configured timeout."""


class OutcomeUnknownError(APIConnectionError):
    """A request that is not safe to repeat reached the API and no answer came back."""


class APIResponseError(SequencesError):
    """The API answered with a success status but a body that is not the JSON we expect."""


class ResponseTooLargeError(APIResponseError):
    """The answer is larger than --max-response-bytes; it is refused before it fills memory."""


class APIStatusError(SequencesError):
    """The API answered with an error status; subclasses name the common ones."""

    hint = "The API refused the request."

    def __init__(self, status_code: int, upstream_message: str | None, subject: str) -> None:
        self.status_code = status_code
        self.upstream_message = upstream_message
        self.subject = subject
        super().__init__(self._describe())

    def _describe(self) -> str:
        said = f' The API said: "{self.upstream_message}".' if self.upstream_message else ""
        return f"HTTP {self.status_code} for {self.subject}. {self.hint}{said}"


class RedirectError(APIStatusError):
    hint = "The API redirected instead of answering; check ICLOUDREADY_BASE_URL (https, host and path)."


class BadRequestError(APIStatusError):
    hint = "The API rejected the request as malformed; check the arguments against the tool's schema."


class AuthenticationError(APIStatusError):
    hint = (
        "The API key was refused: check ICLOUDREADY_API_KEY, or ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD "
        "(and ICLOUDREADY_BASE_URL). Retrying will not help until that is fixed."
    )


class PermissionDeniedError(APIStatusError):
    hint = "The API key is valid but not allowed to do this; ask an administrator for access."


class NotFoundError(APIStatusError):
    hint = "It does not exist (or was deleted); list_sequences finds existing ids."


class EndpointNotFoundError(NotFoundError):
    hint = (
        "That path always exists on the API, so ICLOUDREADY_BASE_URL is probably wrong: it must be the API's "
        "root (e.g. https://api.icloud-ready.com, without /api/v2). Retrying will not help until it is fixed."
    )


class ConflictError(APIStatusError):
    hint = "It conflicts with the current state of the record; fetch it again with get_sequence and retry."


class UnprocessableEntityError(APIStatusError):
    hint = "The API rejected the values; fix the fields it names and call again."


class RateLimitError(APIStatusError):
    hint = "Too many requests: wait a minute before calling again."


class InternalServerError(APIStatusError):
    hint = "The API failed on its side; try again later, and if it persists the service may be down."


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_STATUS_RANGES: dict[int, type[APIStatusError]] = {3: RedirectError, 5: InternalServerError}


def error_for_status(response: httpx.Response, subject: str, *, fixed_path: bool = False) -> APIStatusError:
    """Map an error response to its exception class: the one place status codes are interpreted.

    `fixed_path`: the path names no record (the list, a create), so a 404 cannot mean "no such record".
    """
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or _STATUS_RANGES.get(status // 100, APIStatusError)
    if cls is NotFoundError and fixed_path:
        cls = EndpointNotFoundError
    error = cls(status, upstream_message(response), subject)
    wait = response.headers.get("Retry-After")
    if wait is not None and status in (429, 503):
        error.args = (f"{error} It asked to wait: Retry-After {wait[:40]}.",)
    return error


def upstream_message(response: httpx.Response) -> str | None:
    """The API's own explanation, from the usual JSON error keys or a short plain-text body.

    Servers do echo what they were sent ("invalid key sk-..."), so the request's bearer token is
    removed from whatever is quoted.
    """
    text = _explanation(response)
    token = _bearer_token(response)
    return text.replace(token, "[redacted]") if text and token else text


def _explanation(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        is_html = text.lstrip().startswith("<")
        return None if not text or is_html else _clip(text)
    if isinstance(body, dict):
        parts = [_flatten(body.get(key)) for key in ("message", "error", "detail", "errors")]
        text = "; ".join(part for part in parts if part)
        return _clip(text) if text else None
    return _clip(_flatten(body)) if body else None


def _bearer_token(response: httpx.Response) -> str | None:
    try:
        header = response.request.headers.get("Authorization", "")
    except RuntimeError:  # a response built by hand (tests, mocks) has no request
        return None
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _flatten(value: Any) -> str:
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _clip(text: str) -> str:
    if len(text) <= MAX_UPSTREAM_MESSAGE_CHARS:
        return text
    return text[:MAX_UPSTREAM_MESSAGE_CHARS] + "…"
