"""Fault injection for the sandbox: the failures a real upstream and network produce, on demand.

Reliability tests of the MCP server's HTTP client inject faults into a running sandbox
(``app.state.faults.inject(...)``) and watch how the client copes. The faults are applied by
``FaultMiddleware``, which sits after the journal and auth check and before the routes, so a
faulted request is journaled (it reached the server), a bad key still gets its 401, and no
fault ever touches the store.

Two faults are about the connection rather than the answer, which ASGI cannot express:

- ``refuse`` (the request never reached the server) is done by ``SandboxTransport`` before the
  app is called, raising ``httpx.ConnectError``; the request is not journaled.
- ``reset`` (the server saw the request, then the connection dropped) makes the app raise
  ``ConnectionResetError``, which ``SandboxTransport`` maps to ``httpx.ReadError``.

Served over a real socket (e.g. by uvicorn) every other fault behaves the same, but ``reset``,
and ``refuse`` (there, seen by the app), end in the server's own 500 answer.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from functools import partial
from typing import Literal, get_args

import anyio
import httpx
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

FaultKind = Literal["latency", "status", "rate_limit", "reset", "timeout", "html", "malformed", "oversized", "refuse"]

REFUSED = "connection refused (sandbox fault)"
RESET = "connection reset by peer (sandbox fault)"
BAD_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer (sandbox fault).</p></body></html>"
)
# Cut off mid-document, as a proxy or a crashed worker leaves it.
TRUNCATED_JSON = b'{"data": ['
# Each oversized record carries this much text, so the record count follows from the wanted size.
FILLER = "x" * 1_000


@dataclass(frozen=True)
class Fault:
    """One failure to produce, for matching requests, `times` times (0: for every one)."""

    kind: FaultKind
    seconds: float = 0.0
    status: int = 503
    retry_after: str | None = "1"
    size: int = 2_000_000
    method: str | None = None
    path: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        """Fail at injection, not silently at request time, on a misspelt kind or a negative count."""
        kinds = get_args(FaultKind)
        if self.kind not in kinds:
            raise ValueError(f"unknown fault kind {self.kind!r}, expected one of: {', '.join(kinds)}")
        if self.times < 0:
            raise ValueError(f"times must be >= 0 (0: every matching request), got {self.times}")

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and (self.path is None or path.startswith(self.path))


@dataclass
class _Armed:
    """A queued fault and its remaining uses (None: unlimited); Fault itself stays immutable."""

    fault: Fault
    remaining: int | None


class FaultPlan:
    """The faults queued on one sandbox; the first still-active matching fault applies to a request.

    The app runs on one event loop, so a plain list needs no locking.
    """

    def __init__(self) -> None:
        self._armed: list[_Armed] = []

    def inject(self, *faults: Fault) -> None:
        self._armed.extend(_Armed(fault, fault.times or None) for fault in faults)

    def clear(self) -> None:
        self._armed.clear()

    @property
    def active(self) -> list[Fault]:
        return [armed.fault for armed in self._armed]

    def take(self, method: str, path: str, kinds: Container[FaultKind] | None = None) -> Fault | None:
        """Use up one application of the first matching fault, if it is of one of `kinds` (None: any).

        Filtering after matching (not before) keeps injection order: the transport asking only
        for `refuse` must not jump over an earlier fault the app is to apply.
        """
        armed = next((armed for armed in self._armed if armed.fault.matches(method, path)), None)
        if armed is None or (kinds is not None and armed.fault.kind not in kinds):
            return None
        if armed.remaining is not None:
            armed.remaining -= 1
            if armed.remaining == 0:
                self._armed.remove(armed)
        return armed.fault


# --- Answers ------------------------------------------------------------------


def _status(fault: Fault) -> Response:
    return JSONResponse({"message": f"sandbox fault: HTTP {fault.status}"}, status_code=fault.status)


def _rate_limit(fault: Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return JSONResponse({"message": "Too many requests"}, status_code=429, headers=headers)


def _html(_fault: Fault) -> Response:
    return HTMLResponse(BAD_GATEWAY_PAGE, status_code=502)


def _malformed(_fault: Fault) -> Response:
    return Response(TRUNCATED_JSON, media_type="application/json")


def _oversized(fault: Fault) -> Response:
    """A valid list envelope, so only the client's size guard (not its parser) can catch it."""
    count = fault.size // len(FILLER) + 1
    data = [{"id": f"{i:024x}", "name": f"Oversized {i}", "status": "draft", "notes": FILLER} for i in range(count)]
    return JSONResponse({"data": data, "total": count})


ANSWERS: dict[FaultKind, Callable[[Fault], Response]] = {
    "status": _status,
    "rate_limit": _rate_limit,
    "html": _html,
    "malformed": _malformed,
    "oversized": _oversized,
}
# Slow answers: the client's own deadline is expected to fire during a "timeout", not a "latency".
DELAYS = frozenset({"latency", "timeout"})
# Dropped connections: SandboxTransport maps them to httpx errors, plain ASGITransport raises them, uvicorn answers 500.
DROPS: dict[FaultKind, Callable[[], ConnectionError]] = {
    "reset": partial(ConnectionResetError, RESET),
    "refuse": partial(ConnectionRefusedError, REFUSED),
}


class FaultMiddleware:
    """Apply the first matching fault of the plan to each HTTP request, instead of or before the routes."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.plan.take(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind in DELAYS:
            await anyio.sleep(fault.seconds)  # cancellable, so a client deadline ends the wait
            await self.app(scope, receive, send)
        elif fault.kind in DROPS:
            raise DROPS[fault.kind]()
        else:
            await ANSWERS[fault.kind](fault)(scope, receive, send)


class SandboxTransport(httpx.AsyncBaseTransport):
    """httpx transport into the sandbox app that behaves like a network for the faults a network has."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        plan: FaultPlan = self.app.state.faults
        if plan.take(request.method, request.url.path, kinds=("refuse",)):
            raise httpx.ConnectError(REFUSED, request=request)
        try:
            return await self._asgi.handle_async_request(request)
        except ConnectionResetError as exc:
            raise httpx.ReadError(RESET, request=request) from exc

    async def aclose(self) -> None:
        await self._asgi.aclose()
