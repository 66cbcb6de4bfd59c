"""ASGI middleware, outermost first: request ids, security headers and the last-resort 500;
CORS; per-client rate limiting; the request-body size limit.

Pure ASGI classes, not ``BaseHTTPMiddleware``, so streamed responses pass through untouched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._auth import key_matches

__all__ = [
    "SECURITY_HEADERS",
    "BodyLimitMiddleware",
    "EdgeMiddleware",
    "JSONCORSMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
]

logger = logging.getLogger("ardlib.service")

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_INTERNAL = json.dumps({"error": "Internal Server Error", "code": "internal_error"}).encode()


# Fresh request ids: a random per-process prefix and a counter.  Unique without asking the
# OS for entropy on every request (uuid4 did, and cost 6% of a cached listing's CPU time).
class _IdSource:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_IDS = _IdSource()
os.register_at_fork(after_in_child=_IDS.reset)  # a forked worker draws its own prefix


def _request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    given = Headers(scope=scope).get("x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return _IDS.next()


class EdgeMiddleware:
    """Outermost layer: request id, security headers on every response, JSON 500s.

    The request id (the client's ``X-Request-ID`` if it is 1-128 characters of
    ``[A-Za-z0-9._:-]``, else a new 32-hex-digit id) is stored in
    ``request.state.request_id`` and sent back in ``X-Request-ID``.  An exception escaping
    the app is logged and answered with 500
    ``{"error": "Internal Server Error", "code": "internal_error"}`` when no response has
    started yet (otherwise the connection is closed).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                for key, value in self._headers:
                    headers[key.decode()] = value.decode()
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception(
                "unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), rid
            )
            if started:
                return
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_INTERNAL)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _INTERNAL})


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body larger than {limit} bytes.")


class BodyLimitMiddleware:
    """413 ``payload_too_large`` for bodies over ``max_bytes``: refused up front when
    ``Content-Length`` says so, otherwise as soon as the streamed body crosses the limit
    (the error surfaces where the route reads the body, so the JSON handler answers it)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            exc = _TooLarge(self.max_bytes)
            response = JSONResponse(
                {"error": exc.detail, "code": "payload_too_large"}, status_code=413
            )
            await response(scope, receive, send)
            return
        total = 0

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


class JSONCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, answering refused preflights with a JSON error.

    A refused preflight (origin, method or header not allowed) gets 400
    ``{"error": "Disallowed CORS origin", "code": "cors_rejected"}`` and, for a disallowed
    origin, no ``Access-Control-Allow-Origin`` header.
    """

    def preflight_response(self, request_headers: Headers) -> Response:
        """The allowed preflight's response, or the JSON refusal."""
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        headers = {
            k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")
        }
        headers["Vary"] = response.headers.get("vary", "Origin")
        message = bytes(response.body).decode() or "Disallowed CORS request"
        return JSONResponse(
            {"error": message, "code": "cors_rejected"}, status_code=400, headers=headers
        )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client: ``per_minute`` requests per minute, bursts of that size.

    Parameters
    ----------
    per_minute : int
        Sustained rate and bucket capacity (>= 1).
    clock : callable, default time.monotonic
        Seconds; injected by tests.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(
                f"The 'per_minute' parameter of RateLimiter must be >= 1. Got {per_minute}."
            )
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._calls = 0

    def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0.0 when allowed, else seconds until one is free."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._calls += 1
        if self._calls % 1024 == 0:
            self._prune(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled (they would start full anyway)."""
        full = self.capacity / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full]:
            del self._buckets[key]


class RateLimitMiddleware:
    """429 ``{"error": "Too Many Requests", "code": "rate_limited"}`` with ``Retry-After``
    (whole seconds) once a client exceeds its budget.

    A client is its API key when it sends the configured one, otherwise its IP address.
    ``/health`` and CORS preflights are not limited.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, api_key: str | None = None) -> None:
        self.app = app
        self.limiter = limiter
        self._key = api_key.encode() if api_key else None

    def _client(self, scope: Scope) -> str:
        given = Headers(scope=scope).get("x-api-key")
        if self._key is not None and key_matches(given, [self._key]):
            return "key:" + hashlib.sha256(self._key).hexdigest()[:16]
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        wait = self.limiter.acquire(self._client(scope))
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "Too Many Requests", "code": "rate_limited"},
            status_code=429,
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
        await response(scope, receive, send)
