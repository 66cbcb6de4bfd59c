"""The one place where httpx meets the client's exception tree.

:func:`httpx_errors` wraps every call into httpx (sending a request, reading a streamed
chunk) and re-raises httpx exceptions as :mod:`ardlib.client` errors ``from`` the
original; :func:`status_error` turns a 4xx/5xx response into the matching
:class:`~ardlib.client.HTTPStatusError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ._errors import (
    ConnectionFailed,
    HTTPStatusError,
    ProtocolError,
    RequestTimeout,
    status_error_class,
)
from ._retry import parse_retry_after

__all__ = ["httpx_errors", "status_error"]

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@contextmanager
def httpx_errors(method: str, url: str) -> Iterator[None]:
    """Re-raise httpx exceptions raised inside the block as the client's own."""
    try:
        yield
    except httpx.TransportError as exc:  # timeouts included
        timeout = isinstance(exc, httpx.TimeoutException)
        cls = RequestTimeout if timeout else ConnectionFailed
        raise cls(
            f"{'timed out' if timeout else 'connection failed'} "
            f"({type(exc).__name__}: {exc or 'no detail'})",
            method=method,
            url=url,
            request_sent=not isinstance(exc, _NOT_SENT),
        ) from exc
    except httpx.DecodingError as exc:
        raise ProtocolError(
            f"response body could not be decoded ({exc})", method=method, url=url
        ) from exc
    except httpx.HTTPError as exc:
        raise ProtocolError(
            f"HTTP error ({type(exc).__name__}: {exc})", method=method, url=url
        ) from exc


def status_error(response: httpx.Response, method: str, url: str) -> HTTPStatusError:
    """The error for a 4xx/5xx ``response`` (whose body must have been read)."""
    status = response.status_code
    error, code = _error_fields(response)
    message = f"HTTP {status} {response.reason_phrase}".rstrip()
    if error:
        message += f": {error}"
    if code:
        message += f" [code {code}]"
    request_id = response.headers.get("X-Request-ID")
    if request_id:
        message += f" [request id {request_id}]"
    return status_error_class(status)(
        message,
        status=status,
        error=error,
        code=code,
        request_id=request_id,
        retry_after=parse_retry_after(
            response.headers.get("Retry-After"), now=_server_time(response)
        ),
        body=response.text[:2000],
        method=method,
        url=url,
    )


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error", body.get("detail"))
    code = body.get("code")
    if error is not None and not isinstance(error, str):
        error = json.dumps(error)[:500]
    return error, None if code is None else str(code)


def _server_time(response: httpx.Response) -> datetime | None:
    """The response's ``Date`` (so an HTTP-date ``Retry-After`` ignores clock skew)."""
    try:
        when = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else None
