"""Sign-in, the API's alternative to a key: a token that works as a bearer until it expires.

The journal records sign-ins like any request, but never the password.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mcp_sequences.sandbox import (
    SANDBOX_API_KEY,
    SANDBOX_EMAIL,
    SANDBOX_PASSWORD,
    RecordedRequest,
    SandboxTransport,
    Sessions,
    create_sandbox_app,
)

pytestmark = pytest.mark.anyio

SIGNIN = "/api/v2/signin"
BASE = "/api/v2/sequences"
DEMO = {"email": SANDBOX_EMAIL, "password": SANDBOX_PASSWORD}


def connect(app: Starlette, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=SandboxTransport(app), base_url="http://sandbox", headers=headers)


@pytest.fixture
async def anonymous(sandbox: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(sandbox) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, credentials: dict[str, Any] = DEMO) -> str:
    response = await client.post(SIGNIN, json=credentials)
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def test_signin_issues_a_token_that_works_as_a_bearer(sandbox: Starlette, anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(SIGNIN, json=DEMO)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiresIn"} and body["expiresIn"] == 3600
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", body["token"])
    async with connect(sandbox, body["token"]) as signed_in:
        assert (await signed_in.get(BASE)).status_code == 200


async def test_each_signin_gets_its_own_token(anonymous: httpx.AsyncClient) -> None:
    assert await sign_in(anonymous) != await sign_in(anonymous)


async def test_signin_ignores_any_bearer_sent_with_it(sandbox: Starlette) -> None:
    async with connect(sandbox, "stale") as client:
        assert await sign_in(client)


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": SANDBOX_EMAIL, "password": "wrong"},
        {"email": "nobody@sandbox.test", "password": SANDBOX_PASSWORD},
        {"email": SANDBOX_EMAIL, "password": "sändbox"},
    ],
)
async def test_wrong_credentials_are_401(anonymous: httpx.AsyncClient, credentials: dict[str, str]) -> None:
    response = await anonymous.post(SIGNIN, json=credentials)
    assert (response.status_code, response.json()) == (401, {"message": "Invalid email or password"})


@pytest.mark.parametrize("content", [b"", b"{not json", b'["email"]'])
async def test_a_body_that_is_not_a_json_object_is_400(anonymous: httpx.AsyncClient, content: bytes) -> None:
    assert (await anonymous.post(SIGNIN, content=content)).status_code == 400


@pytest.mark.parametrize(
    ("credentials", "bad"),
    [
        ({"password": SANDBOX_PASSWORD}, {"email"}),
        ({"email": SANDBOX_EMAIL, "password": ""}, {"password"}),
        ({"email": 7, "password": None}, {"email", "password"}),
    ],
)
async def test_missing_or_mistyped_credentials_are_422_naming_them(
    anonymous: httpx.AsyncClient, credentials: dict[str, Any], bad: set[str]
) -> None:
    response = await anonymous.post(SIGNIN, json=credentials)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == bad
    assert all(field in response.json()["message"] for field in bad)


async def test_users_replace_the_demo_user() -> None:
    app = create_sandbox_app(users={"ada@example.test": "engine"})
    async with connect(app) as client:
        assert await sign_in(client, {"email": "ada@example.test", "password": "engine"})
        assert (await client.post(SIGNIN, json=DEMO)).status_code == 401
    app.state.store.close()


# --- Expiry -----------------------------------------------------------------


async def test_expired_tokens_are_refused_but_the_api_key_still_works(
    sandbox: Starlette, anonymous: httpx.AsyncClient
) -> None:
    token = await sign_in(anonymous)
    sandbox.state.tokens.expire_all()
    async with connect(sandbox, token) as expired, connect(sandbox, SANDBOX_API_KEY) as keyed:
        response = await expired.get(BASE)
        assert (response.status_code, response.json()) == (401, {"message": "Invalid or missing API key"})
        assert (await keyed.get(BASE)).status_code == 200
    async with connect(sandbox, await sign_in(anonymous)) as signed_in_again:
        assert (await signed_in_again.get(BASE)).status_code == 200


async def test_a_token_never_issued_is_refused(sandbox: Starlette) -> None:
    async with connect(sandbox, "made-up-token") as client:
        assert (await client.get(BASE)).status_code == 401


def test_tokens_lapse_after_their_ttl() -> None:
    lapsed, live = Sessions(ttl=0), Sessions()
    assert lapsed.valid(lapsed.issue()) is False
    assert live.valid(live.issue()) is True


# --- Journal ----------------------------------------------------------------


async def test_journal_keeps_the_email_but_never_the_password(sandbox: Starlette, anonymous: httpx.AsyncClient) -> None:
    await sign_in(anonymous)
    await anonymous.post(SIGNIN, json={"email": SANDBOX_EMAIL, "password": "guess"})
    assert list(sandbox.state.journal) == [
        RecordedRequest("POST", SIGNIN, {}, {"email": SANDBOX_EMAIL, "password": "***"}),
        RecordedRequest("POST", SIGNIN, {}, {"email": SANDBOX_EMAIL, "password": "***"}),
    ]


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (SIGNIN, b'{"email": "demo@sandbox.test", "password": "sandbox-password"'),
        (SIGNIN, b'["demo@sandbox.test", "sandbox-password"]'),
        (f"{SIGNIN}/", b'{"email": "demo@sandbox.test", "password": "sandbox-password"}'),
    ],
)
async def test_password_stays_out_of_the_journal_whatever_the_body(
    sandbox: Starlette, anonymous: httpx.AsyncClient, path: str, content: bytes
) -> None:
    await anonymous.post(path, content=content)
    assert len(sandbox.state.journal) == 1
    assert SANDBOX_PASSWORD not in repr(list(sandbox.state.journal))
