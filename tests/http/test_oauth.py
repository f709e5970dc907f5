"""OAuth 2.1 resource-server mode against a local identity provider issuing real signed tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_sequences.http.oauth import REFETCH_INTERVAL, KeySet, discovery_urls, signing_keys
from tests.conftest import FIRST_ID, Clock
from tests.http.conftest import INIT, MCP_HEADERS, Deployment, IdentityProvider, deployed, port_of, reserved
from tests.processes import serving

pytestmark = pytest.mark.anyio
READ = "sequences:read"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    with IdentityProvider().serving() as provider:
        yield provider


@pytest.fixture(scope="module")
def server(idp: IdentityProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    listener = reserved()
    public_url = f"http://127.0.0.1:{port_of(listener)}/mcp"
    with deployed(
        tmp_path_factory.mktemp("oauth"), listener, oauth_issuer=idp.issuer, public_url=public_url
    ) as deployment:
        yield deployment


def unpadded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with(secret: bytes, claims: dict[str, Any]) -> str:
    """The classic forgery: HMAC-signed with the issuer's *public* key as the secret (PyJWT will not make it)."""
    head = unpadded(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = unpadded(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{unpadded(signature)}"


def bad_tokens(idp: IdentityProvider, audience: str) -> dict[str, str]:
    claims = {"iss": idp.issuer, "sub": "mallory", "aud": audience, "exp": int(time.time()) + 600, "scope": READ}
    return {
        "expired": idp.token(audience, exp=int(time.time()) - 60),
        "wrong audience": idp.token("http://127.0.0.1:1/mcp"),
        "wrong issuer": idp.token(audience, iss="http://evil.example"),
        "unknown key": idp.token(audience, key=idp.other_key, kid="k9"),
        "right kid, wrong key": idp.token(audience, key=idp.other_key),
        "alg none": idp.token(audience, key="", algorithm="none"),
        "HS256 with the public key": hs256_with(idp.public_pem(), claims),
        "garbage": "not.a.jwt",
    }


def post(server: Deployment, token: str | None) -> httpx.Response:
    headers = MCP_HEADERS | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.post(server.url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})


def test_no_token_gets_401_pointing_at_the_metadata_and_no_error_code(server: Deployment) -> None:
    response = post(server, None)
    metadata = f"http://127.0.0.1:{server.settings.port}/.well-known/oauth-protected-resource/mcp"
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer resource_metadata="{metadata}"'


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong audience",
        "wrong issuer",
        "unknown key",
        "right kid, wrong key",
        "alg none",
        "HS256 with the public key",
        "garbage",
    ],
)
def test_a_token_that_does_not_verify_gets_401_invalid_token(
    server: Deployment, idp: IdentityProvider, case: str
) -> None:
    response = post(server, bad_tokens(idp, server.url)[case])
    challenge = response.headers["www-authenticate"]
    assert response.status_code == 401 and challenge.startswith('Bearer error="invalid_token"')
    assert 'resource_metadata="http://127.0.0.1:' in challenge


def test_a_token_without_the_read_scope_gets_403_naming_it(server: Deployment, idp: IdentityProvider) -> None:
    response = post(server, idp.token(server.url, scope="profile"))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="sequences:read"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
def test_protected_resource_metadata_names_the_resource_and_the_real_issuer(
    server: Deployment, idp: IdentityProvider, path: str
) -> None:
    metadata = httpx.get(f"http://127.0.0.1:{server.settings.port}{path}").json()
    assert metadata["resource"] == server.url
    assert metadata["authorization_servers"] == [f"{idp.issuer}/"] or metadata["authorization_servers"] == [idp.issuer]
    assert set(metadata["scopes_supported"]) == {"sequences:read", "sequences:write", "sequences:delete"}


def client(server: Deployment, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(server.url, http_client=http))


async def tool_names(server: Deployment, token: str) -> set[str]:
    async with client(server, token) as session:
        return {tool.name for tool in (await session.list_tools()).tools}


async def test_a_valid_token_is_served_audited_under_its_subject_and_never_sent_upstream(
    server: Deployment, idp: IdentityProvider
) -> None:
    token = idp.token(server.url, sub="bob@example.com")
    async with client(server, token) as session:
        result = await session.call_tool("patch_sequence", {"id": FIRST_ID, "priority": "low"})
    assert result.is_error is False
    assert [(line["tool"], line["caller"]) for line in server.audit()][-1] == ("patch_sequence", "bob@example.com")
    assert server.upstream.headers and all(token not in str(headers) for headers in server.upstream.headers)


@pytest.mark.parametrize(
    ("scope", "offered"),
    [
        (READ, {"list_sequences", "get_sequence"}),
        (
            f"{READ} sequences:write",
            {
                "list_sequences",
                "get_sequence",
                "create_sequence",
                "update_sequence",
                "patch_sequence",
                "create_sequence_activity",
                "restore_sequence",
            },
        ),
        (f"{READ} sequences:write sequences:delete", None),
    ],
)
async def test_tools_list_shows_only_what_the_scopes_allow(
    server: Deployment, idp: IdentityProvider, scope: str, offered: set[str] | None
) -> None:
    names = await tool_names(server, idp.token(server.url, scope=scope))
    assert names == offered if offered is not None else "delete_sequence" in names and len(names) == 8


async def test_a_call_beyond_the_scopes_is_refused_naming_the_missing_scope(
    server: Deployment, idp: IdentityProvider
) -> None:
    async with client(server, idp.token(server.url, scope=READ)) as session:
        result = await session.call_tool("patch_sequence", {"id": FIRST_ID, "priority": "low"})
    assert result.is_error is True and "sequences:write" in result.content[0].text


async def test_deleting_through_patch_needs_the_delete_scope(server: Deployment, idp: IdentityProvider) -> None:
    async with client(server, idp.token(server.url, scope=f"{READ} sequences:write")) as session:
        result = await session.call_tool("patch_sequence", {"id": FIRST_ID, "deleted": "true"})
    assert result.is_error is True and "sequences:delete" in result.content[0].text
    assert not [line for line in server.audit() if line["deletes"] and line["outcome"] == "ok"]


def test_discovery_tries_rfc8414_then_openid_for_an_issuer_with_a_path() -> None:
    assert discovery_urls("https://login.example.com/tenant/") == [
        "https://login.example.com/.well-known/oauth-authorization-server/tenant",
        "https://login.example.com/tenant/.well-known/openid-configuration",
    ]


async def test_unknown_key_ids_refetch_the_keys_at_most_once_per_interval(idp: IdentityProvider) -> None:
    fetched: list[str] = []

    async def fetch(url: str) -> Any:
        fetched.append(url)
        return idp.jwks()

    clock = Clock(1000.0)
    keys = KeySet(idp.issuer, f"{idp.issuer}/jwks", fetch=fetch, clock=clock)
    for n in range(50):
        assert await keys.key(f"made-up-{n}") is None
    assert await keys.key("k1") is not None
    assert len(fetched) == 1
    clock.now += REFETCH_INTERVAL
    assert await keys.key("made-up-again") is None and len(fetched) == 2


async def test_the_openid_configuration_is_used_when_there_is_no_rfc8414_metadata(idp: IdentityProvider) -> None:
    async def fetch(url: str) -> Any:
        if "openid-configuration" not in url and not url.endswith("/jwks"):
            raise httpx.HTTPStatusError("404", request=httpx.Request("GET", url), response=httpx.Response(404))
        return {"issuer": idp.issuer, "jwks_uri": f"{idp.issuer}/jwks"} if "openid" in url else idp.jwks()

    assert await KeySet(idp.issuer, fetch=fetch).key("k1") is not None


async def test_a_rotated_key_is_found_by_refetching(idp: IdentityProvider) -> None:
    rotated = {"keys": [dict(idp.jwks()["keys"][0], kid="k2")]}
    documents = [idp.jwks(), rotated]

    async def fetch(url: str) -> Any:
        return documents.pop(0) if len(documents) > 1 else documents[0]

    clock = Clock(1000.0)
    keys = KeySet(idp.issuer, f"{idp.issuer}/jwks", fetch=fetch, clock=clock)
    assert await keys.key("k1") is not None and await keys.key("k2") is None
    clock.now += REFETCH_INTERVAL
    assert await keys.key("k2") is not None


def test_symmetric_and_unsigned_keys_in_a_key_set_are_ignored(idp: IdentityProvider) -> None:
    rsa_key = idp.jwks()["keys"][0]
    document = {
        "keys": [
            {"kty": "oct", "kid": "shared", "k": unpadded(b"secret-known-to-anyone-who-reads-the-jwks")},
            dict(rsa_key, kid="unsigned", alg="none"),
            dict(rsa_key, kid="encryption", use="enc"),
            rsa_key,
        ]
    }
    assert [kid for kid, _ in signing_keys(document)] == ["k1"]


def test_tokens_never_reach_the_logs(
    server: Deployment, idp: IdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = idp.token(server.url), bad_tokens(idp, server.url)["right kid, wrong key"]
    with caplog.at_level(logging.DEBUG):
        post(server, good)
        post(server, bad)
    assert caplog.records and good not in caplog.text and bad not in caplog.text
    assert good.split(".")[2] not in caplog.text  # not even the signature


async def test_with_port_0_the_audience_is_the_port_the_system_chose(idp: IdentityProvider, tmp_path: Path) -> None:
    """--port 0 without --public-url: tokens name the URL announced, not http://127.0.0.1:0/mcp."""
    for served in serving(tmp_path, "--oauth-issuer", idp.issuer):
        metadata = httpx.get(served.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"), timeout=10)
        assert metadata.json()["resource"] == served.url
        token = idp.token(served.url, scope=READ)
        headers = MCP_HEADERS | {"Authorization": f"Bearer {token}"}
        assert httpx.post(served.url, headers=headers, json=INIT, timeout=10).status_code == 200
