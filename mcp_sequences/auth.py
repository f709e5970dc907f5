"""Authentication to the API: a fixed API key, or the API's sign-in (email and password -> token).

The sign-in token lives only in this object's memory. It is fetched on first use, and fetched
again once when the API answers 401 (an expired token); a second 401 is the caller's to report.
Neither the password nor the token is ever logged or put in an error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx

SIGNIN_PATH = "/api/v2/signin"
TOKEN_KEYS = ("token", "accessToken", "access_token", "jwt", "idToken")


class SignInError(Exception):
    """Sign-in did not produce a token; the message says why, without the credentials."""


class SignInAuth(httpx.Auth):
    """Bearer tokens from POST /api/v2/signin, renewed once on a 401."""

    def __init__(self, email: str, password: str) -> None:
        self._credentials = {"email": email, "password": password}
        self._token: str | None = None

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # Only the sign-in answers are read here: API responses stay streamed (the size cap needs that).
        if self._token is None:
            await self._accept((yield self._signin(request)))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:  # expired: one fresh token, one more try
            await response.aread()  # httpx reads it after the flow moves on; closing it here would break that
            await self._accept((yield self._signin(request)))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _signin(self, request: httpx.Request) -> httpx.Request:
        url = request.url.copy_with(path=_signin_path(request.url), query=None)
        return httpx.Request("POST", url, json=self._credentials, headers={"Accept": "application/json"})

    async def _accept(self, response: httpx.Response) -> None:
        await response.aread()
        if response.status_code in (400, 401, 403, 422):
            raise SignInError(
                f"the API refused the sign-in (HTTP {response.status_code}): "
                "check ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD"
            )
        if not response.is_success:
            raise SignInError(f"sign-in failed with HTTP {response.status_code}; try again later")
        token = _find_token(_json(response))
        if token is None:
            raise SignInError("the API's sign-in answer holds no token; check ICLOUDREADY_BASE_URL")
        self._token = token


def _signin_path(url: httpx.URL) -> str:
    """Keep any path prefix of the base URL (a tenant or gateway path) in front of /api/v2."""
    prefix, _, _ = url.path.partition("/api/v2/")
    return prefix.rstrip("/") + SIGNIN_PATH


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise SignInError("the API's sign-in answer is not JSON; check ICLOUDREADY_BASE_URL") from exc


def _find_token(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in TOKEN_KEYS:
        if isinstance(body.get(key), str) and body[key]:
            return body[key]
    nested = body.get("data")
    return _find_token(nested) if isinstance(nested, dict) else None
