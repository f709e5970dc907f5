"""OAuth 2.1 resource-server mode: access tokens are JWTs from one issuer, checked against its keys.

The issuer's signing keys (JWKS) are found from its metadata (RFC 8414, else OpenID discovery)
unless --oauth-jwks-url names them. They are cached, fetched again when a token names a key id
the cache lacks, but at most once every REFETCH_INTERVAL seconds, so that tokens with made-up key
ids cannot turn this server into a flood of requests to the issuer. A token is accepted only if
it is signed with the algorithm its key declares (asymmetric only: never `none`, never an HMAC
made with a public key), is unexpired, comes from the issuer and names this server's public URL
as its audience (RFC 8707). Verification is PyJWT's; the token itself is never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken, TokenVerifier

logger = logging.getLogger(__name__)

REFETCH_INTERVAL = 30.0
KEYS_TTL = 3600.0
FETCH_TIMEOUT = 10.0
# Asymmetric signatures only: a symmetric key in a public key set would let anyone who read it sign.
SIGNING_ALGORITHMS = ("RS", "PS", "ES", "EdDSA", "Ed25519", "Ed448")
ASYMMETRIC_KEY_TYPES = ("RSA", "EC", "OKP")

Fetch = Callable[[str], Awaitable[Any]]


async def fetch_json(url: str) -> Any:
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()


def discovery_urls(issuer: str) -> list[str]:
    """Where an issuer publishes its metadata: RFC 8414 (path after the well-known part), then OpenID."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


class KeySet:
    """The issuer's public signing keys by key id, cached and refetched sparingly."""

    def __init__(
        self,
        issuer: str,
        jwks_url: str | None = None,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched: float | None = None
        self._lock = anyio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys or self._age() >= KEYS_TTL:
            async with self._lock:
                if (kid not in self._keys and self._age() >= REFETCH_INTERVAL) or self._age() >= KEYS_TTL:
                    await self._refresh()
        return self._keys.get(kid)

    def _age(self) -> float:
        return float("inf") if self._fetched is None else self._clock() - self._fetched

    async def _refresh(self) -> None:
        self._fetched = self._clock()
        try:
            self.jwks_url = self.jwks_url or await self._discover()
            document = await self._fetch(self.jwks_url)
        except (httpx.HTTPError, ValueError, LookupError) as exc:
            logger.warning("cannot fetch the signing keys of %s: %s", self.issuer, exc)
            return
        self._keys = dict(signing_keys(document))

    async def _discover(self) -> str:
        for url in discovery_urls(self.issuer):
            try:
                metadata = await self._fetch(url)
            except (httpx.HTTPError, ValueError):
                continue
            if metadata.get("issuer") == self.issuer and isinstance(metadata.get("jwks_uri"), str):
                return metadata["jwks_uri"]
        raise LookupError(f"no metadata naming issuer {self.issuer} and its jwks_uri at {discovery_urls(self.issuer)}")


def signing_keys(document: Any) -> list[tuple[str, jwt.PyJWK]]:
    """The usable keys of a JWKS: with a key id, for signatures, with an asymmetric algorithm."""
    usable = []
    for data in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str) or data.get("use", "sig") != "sig":
            continue
        if data.get("kty") not in ASYMMETRIC_KEY_TYPES or not str(data.get("alg", "RS")).startswith(SIGNING_ALGORITHMS):
            continue  # checked before PyJWK, which cannot even load a key declared `alg: none`
        try:
            key = jwt.PyJWK(data)
        except (jwt.PyJWTError, ValueError):
            continue
        if key.algorithm_name.startswith(SIGNING_ALGORITHMS):
            usable.append((data["kid"], key))
    return usable


class JwtVerifier(TokenVerifier):
    """Accepts the issuer's JWT access tokens issued for this server (audience = its public URL)."""

    def __init__(self, keys: KeySet, audience: str) -> None:
        self.keys = keys
        self.audience = audience

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self._claims(token)
        except jwt.PyJWTError as exc:
            logger.info("access token refused: %s", type(exc).__name__)
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims["sub"]),
            scopes=token_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=str(claims["sub"]),
            claims={"iss": claims["iss"]},
        )

    async def _claims(self, token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        key = await self.keys.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidKeyError("unknown key id")
        return jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=self.audience,
            issuer=self.keys.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )


def token_scopes(claims: dict[str, Any]) -> list[str]:
    """Scopes as RFC 9068 spells them (`scope`, space-separated), or as a list (`scp`)."""
    scope = claims.get("scope", claims.get("scp", ""))
    return scope.split() if isinstance(scope, str) else [str(item) for item in scope]
