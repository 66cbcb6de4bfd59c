"""Fault injection for the client's resilience measurements.

:class:`FaultInjectingTransport` wraps any :class:`httpx.BaseTransport` and, following a
seeded schedule, replaces a share of requests with a fault: 503/502/504 responses, 429 with
``Retry-After``, connection errors, read timeouts, truncated event streams, or extra
latency. The same seed gives the same schedule, so a resilience measurement is repeatable.

Written by hand: fault injection at the transport seam is a few lines with httpx's
transport API, and no maintained library injects faults into httpx.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import numpy as np

from .._rng import RNGLike, as_generator
from .._validation import check_real

__all__ = ["FAULT_KINDS", "FaultInjectingTransport", "FaultLog"]

FAULT_KINDS = ("503", "502", "504", "429", "connect", "read_timeout", "truncate", "latency")
"""Faults the transport can inject, drawn uniformly when a request is hit."""


@dataclass
class FaultLog:
    """What was injected: counts per kind and the number of requests seen.

    Attributes
    ----------
    requests : int
        Requests the transport saw.
    injected : collections.Counter
        Fault kind -> times injected.
    """

    requests: int = 0
    injected: Counter[str] | None = None

    def __post_init__(self) -> None:
        if self.injected is None:
            self.injected = Counter()


class _TruncatedStream(httpx.SyncByteStream):
    """Yields the first ``keep`` bytes of a stream, then fails as a peer that hangs up
    mid-body does (httpx.RemoteProtocolError); a body shorter than ``keep`` is passed
    through whole."""

    def __init__(self, inner: httpx.SyncByteStream, keep: int) -> None:
        self._inner = inner
        self._keep = keep

    def __iter__(self) -> Iterator[bytes]:
        left = self._keep
        for chunk in self._inner:
            if len(chunk) >= left:
                yield chunk[:left]
                self._inner.close()
                raise httpx.RemoteProtocolError("injected: peer closed connection mid-body")
            yield chunk
            left -= len(chunk)
        self._inner.close()

    def close(self) -> None:
        self._inner.close()


class FaultInjectingTransport(httpx.BaseTransport):
    """Inject faults into a share ``rate`` of requests, on a seeded schedule.

    Parameters
    ----------
    inner : httpx.BaseTransport
        The transport that really talks to the service (e.g. ``httpx.HTTPTransport()``).
    rate : float
        Probability in [0, 1] that a request gets a fault.
    rng : None, int, SeedSequence or Generator
        Seeds the schedule (which requests fail and how).
    kinds : sequence of str, default :data:`FAULT_KINDS`
    retry_after : str, default "1"
        ``Retry-After`` header value of injected 429 responses (seconds).
    latency : float, default 0.05
        Seconds added by a ``latency`` fault (the request then proceeds normally).

    Attributes
    ----------
    log : FaultLog
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        rate: float,
        rng: RNGLike = None,
        kinds: Sequence[str] = FAULT_KINDS,
        retry_after: str = "1",
        latency: float = 0.05,
    ) -> None:
        self.inner = inner
        self.rate = check_real(rate, "rate", owner="FaultInjectingTransport", low=0, high=1)
        bad = [k for k in kinds if k not in FAULT_KINDS]
        if bad or not kinds:
            raise ValueError(
                "The 'kinds' parameter of FaultInjectingTransport must be a non-empty subset "
                f"of {FAULT_KINDS}. Got {list(kinds)!r}."
            )
        self.kinds = tuple(kinds)
        self.retry_after = retry_after
        self.latency = check_real(latency, "latency", owner="FaultInjectingTransport", low=0)
        self._rng = as_generator(rng)
        self._lock = threading.Lock()
        self.log = FaultLog()

    def _draw(self) -> str | None:
        with self._lock:  # one schedule even when threads share the transport
            self.log.requests += 1
            hit = self._rng.random() < self.rate
            kind = self.kinds[int(self._rng.integers(len(self.kinds)))] if hit else None
            if kind is not None:
                assert self.log.injected is not None
                self.log.injected[kind] += 1
            return kind

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward ``request`` to the inner transport, or fail it as scheduled.

        Parameters
        ----------
        request : httpx.Request
            The outgoing request.

        Returns
        -------
        httpx.Response
            The inner transport's response, or an injected one.
        """
        kind = self._draw()
        body = b'{"error": "injected fault", "code": "chaos"}'
        json_headers = {"content-type": "application/json"}
        if kind in ("503", "502", "504"):
            return httpx.Response(int(kind), headers=json_headers, content=body, request=request)
        if kind == "429":
            headers = {**json_headers, "retry-after": self.retry_after}
            return httpx.Response(429, headers=headers, content=body, request=request)
        if kind == "connect":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if kind == "read_timeout":
            raise httpx.ReadTimeout("injected: read timed out", request=request)
        if kind == "latency":
            time.sleep(self.latency)
        response = self.inner.handle_request(request)
        if kind == "truncate":
            stream = response.stream
            assert isinstance(stream, httpx.SyncByteStream)
            keep = int(np.clip(self._rng.integers(1, 64), 1, None))
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_TruncatedStream(stream, keep),
                request=request,
                extensions=response.extensions,
            )
        return response

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()
