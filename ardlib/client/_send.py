"""Sending: one request with retries and the error boundary, and a stream turned into events.

:class:`Sender` owns what every call shares (the httpx client, the retry policy and its
budget, the jitter generator, ``sleep`` and ``clock``); :class:`~ardlib.client.Client`
only builds requests and parses answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import numpy as np

from ._boundary import httpx_errors, status_error
from ._errors import ARDError, ProtocolError, StreamError
from ._events import Event
from ._retry import IDEMPOTENT_METHODS, RetryBudget, RetryPolicy, call_with_retries
from ._sse import SSEDecoder

__all__ = ["Sender", "events", "expect_event_stream", "identity", "json_body"]

T = TypeVar("T")


class Sender:
    """Send requests through ``http`` with ``policy``'s retries; see :meth:`call`."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        timeout: float,
        policy: RetryPolicy,
        rng: np.random.Generator,
        sleep: Callable[[float], object],
        clock: Callable[[], float],
    ) -> None:
        self.http = http
        self.timeout = timeout
        self.policy = policy
        self.budget = RetryBudget.from_policy(policy)
        self.rng = rng
        self.sleep = sleep
        self.clock = clock

    def call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], T],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retries: bool = True,
        raise_for_status: bool = True,
        stream: bool = False,
    ) -> tuple[T, int]:
        """Send with retries; return ``parse(response)`` and the number of attempts.

        A 4xx/5xx raises its :class:`HTTPStatusError` (unless ``raise_for_status`` is
        False); a ``ValueError`` from ``parse`` becomes :class:`ProtocolError`.  The request
        is idempotent, hence replayable, for GET-like methods or with an
        ``Idempotency-Key`` header.  With ``stream=True`` the body is left unread and the
        caller must close the response.
        """
        headers = dict(headers or {})
        url = str(self.http.build_request(method, path, params=params).url)
        idempotent = method in IDEMPOTENT_METHODS or any(
            k.lower() == "idempotency-key" for k in headers
        )
        policy = self.policy if retries else dataclasses.replace(self.policy, max_attempts=1)

        def attempt(n: int, time_left: float | None) -> tuple[T, int]:
            timeout = self.timeout if time_left is None else max(min(self.timeout, time_left), 1e-3)
            request = self.http.build_request(
                method, path, params=params, json=json, headers=headers, timeout=timeout
            )
            with httpx_errors(method, url):
                response = self.http.send(request, stream=stream)
            try:
                if raise_for_status and response.is_error:
                    with httpx_errors(method, url):
                        response.read()
                    raise status_error(response, method, url)
                try:
                    return parse(response), n
                except ValueError as exc:
                    raise ProtocolError(str(exc), method=method, url=url) from exc
            except BaseException:
                response.close()
                raise

        return call_with_retries(
            attempt,
            idempotent=idempotent,
            policy=policy,
            budget=self.budget,
            rng=self.rng,
            sleep=self.sleep,
            clock=self.clock,
        )


def identity(response: httpx.Response) -> httpx.Response:
    """The response itself (for :meth:`Sender.call` callers that want it raw)."""
    return response


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body; ``ValueError`` saying what came instead when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        ctype = response.headers.get("Content-Type", "none")
        raise ValueError(
            f"response body is not valid JSON (status {response.status_code}, content-type "
            f"{ctype}): {exc}; body starts {response.text[:80]!r}"
        ) from None


def expect_event_stream(response: httpx.Response) -> httpx.Response:
    """The response if it is ``text/event-stream``, else ``ValueError``."""
    ctype = response.headers.get("Content-Type", "")
    if not ctype.startswith("text/event-stream"):
        raise ValueError(f"expected content-type text/event-stream; got {ctype or 'none'!r}")
    return response


def events(response: httpx.Response, attempts: int) -> Iterator[Event]:
    """The events of a streamed response as they arrive, through ``done``; closes it.

    Raises :class:`StreamError` on malformed event data or when the body ends before
    ``done``; a connection lost mid-stream raises :class:`ConnectionFailed`.
    """
    method, url = response.request.method, str(response.request.url)
    decoder = SSEDecoder()
    try:
        for chunk in _chunks(response, attempts):
            for sse in decoder.feed(chunk):
                try:
                    event = Event.from_sse(sse)
                except ValueError as exc:
                    raise StreamError(str(exc), method=method, url=url, attempts=attempts) from exc
                yield event
                if event.kind == "done":
                    return
    finally:
        response.close()
    tail = " (an incomplete event was discarded)" if decoder.pending else ""
    raise StreamError(
        f"event stream ended without a 'done' event{tail}",
        method=method,
        url=url,
        attempts=attempts,
    )


def _chunks(response: httpx.Response, attempts: int) -> Iterator[bytes]:
    """The body's chunks as they arrive, httpx errors mapped."""
    chunks = response.iter_bytes()
    while True:
        try:
            with httpx_errors(response.request.method, str(response.request.url)):
                chunk = next(chunks, None)
        except ARDError as exc:
            exc.attempts = attempts
            raise
        if chunk is None:
            return
        yield chunk
