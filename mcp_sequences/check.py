"""`mcp-sequences check`: is the configuration complete, and does the API answer with it?

One list call with limit 1, the same client the server uses (pacing, retries, deadline), and a
verdict a person can act on. Nothing secret is printed: only where and how it connected.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import httpx

from mcp_sequences.errors import (
    APIConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    SequencesError,
    SignInFailedError,
)
from mcp_sequences.settings import Settings
from mcp_sequences.shaping import ListAnswer
from mcp_sequences.upstream import open_api

NO_CREDENTIALS = (
    "FAILED: no credentials. Set ICLOUDREADY_API_KEY, or ICLOUDREADY_EMAIL and ICLOUDREADY_PASSWORD "
    "(or try the built-in sandbox with --sandbox)."
)
UNRECOGNISED = (
    "FAILED: the API answered, but not with a list of sequences this server recognises; "
    "check ICLOUDREADY_BASE_URL (the tools would pass such answers on as sent)."
)
VERDICTS: tuple[tuple[type[SequencesError], str], ...] = (
    (AuthenticationError, "FAILED: the API refused the credentials."),
    (SignInFailedError, "FAILED: sign-in did not work."),
    (PermissionDeniedError, "FAILED: the credentials work but may not list sequences."),
    (APIConnectionError, "FAILED: the API is unreachable."),
    (SequencesError, "FAILED: the API answered, but not as expected."),
)


async def check(settings: Settings) -> tuple[bool, str]:
    """(works, what to tell the person)."""
    if not settings.sandbox and settings.api_key is None and settings.email is None:
        return False, NO_CREDENTIALS
    where = "the sandbox" if settings.sandbox else str(httpx.URL(settings.base_url).copy_with(userinfo=b""))
    how = "no key needed" if settings.sandbox else "API key" if settings.api_key is not None else "sign-in"
    started = time.perf_counter()
    try:
        async with AsyncExitStack() as stack:
            api = await open_api(settings, stack)
            answer = ListAnswer(await api.list({"limit": 1, "page": 1}))
    except SequencesError as exc:
        verdict = next(text for kind, text in VERDICTS if isinstance(exc, kind))
        return False, f"{verdict}\n{exc}\n(checked {where}, {how})"
    took = (time.perf_counter() - started) * 1000
    if answer.note is not None:
        return False, f"{UNRECOGNISED}\n(checked {where}, {how})"
    total = f"{answer.total()} sequences" if answer.total() is not None else "sequences listed"
    return True, f"OK: {where} answered in {took:.0f} ms ({how}); {total}."
