"""The exceptions of :mod:`ardlib.client` (their tree is drawn in the package docstring).

httpx exceptions are translated in one place (:func:`ardlib.client._boundary.httpx_errors`)
and re-raised ``from`` the original, so ``__cause__`` keeps the low-level detail.  Every
error knows the request ``method`` and ``url``, how many ``attempts`` were made, and, when
retrying stopped early, why (``gave_up``); ``str(err)`` says all of it.
"""

from __future__ import annotations

__all__ = [
    "ARDError",
    "ConnectionFailed",
    "HTTPStatusError",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "StreamError",
    "Unauthorized",
    "status_error_class",
]


class ARDError(Exception):
    """Base class of the client's errors.

    Attributes
    ----------
    message : str
        What failed, without the location.
    method, url : str or None
        The request that failed.
    attempts : int
        How many times the request was sent (1 when it was not retried).
    gave_up : str or None
        Why retrying stopped before success, e.g. ``"retry budget exhausted"``; ``None``
        when the error was not retryable or no retry was attempted.
    request_sent : bool
        False only when the request certainly never reached the service (connection
        refused, connect timeout), which makes even a non-idempotent request safe to resend.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.attempts = attempts
        self.request_sent = request_sent
        self.gave_up: str | None = None

    def __str__(self) -> str:
        where = []
        if self.method or self.url:
            where.append(f"{self.method or '?'} {self.url or '?'}")
        where.append(f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}")
        if self.gave_up:
            where.append(self.gave_up)
        return f"{self.message} ({'; '.join(where)})"


class ConnectionFailed(ARDError):
    """No usable connection to the service (refused, reset, name resolution, dropped)."""


class RequestTimeout(ARDError):
    """A connect, read, write or pool timeout expired."""


class HTTPStatusError(ARDError):
    """The service answered with a 4xx or 5xx status.

    Attributes
    ----------
    status : int
        The HTTP status code.
    error, code : str or None
        The ``error`` and ``code`` members of the JSON error body (FastAPI's ``detail`` is
        used for ``error`` when ``error`` is absent).
    request_id : str or None
        The response's ``X-Request-ID`` header, to quote when reporting the failure.
    retry_after : float or None
        Seconds the service asked the client to wait (``Retry-After``), if any.
    body : str
        The response body, truncated to 2,000 characters.
    message, method, url, attempts
        As in :class:`ARDError`.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: str = "",
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts)
        self.status = status
        self.error = error
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body


class Unauthorized(HTTPStatusError):
    """401: the service needs an ``X-API-Key`` (``Client(api_key=...)``) or rejected it."""


class RateLimited(HTTPStatusError):
    """429: too many requests; ``retry_after`` says how long the service asked to wait."""


class ServerError(HTTPStatusError):
    """A 5xx answer: the service failed (or a gateway in front of it did)."""


class ProtocolError(ARDError):
    """The service answered, but not as the API promises (bad JSON, wrong shape or type)."""


class StreamError(ProtocolError):
    """An event stream was truncated (no ``done`` event) or carried malformed event data."""


def status_error_class(status: int) -> type[HTTPStatusError]:
    """The error class for an HTTP ``status`` of 400 or more."""
    if status == 401:
        return Unauthorized
    if status == 429:
        return RateLimited
    return ServerError if status >= 500 else HTTPStatusError
