"""Bounded load test on loopback: N concurrent clients for a fixed duration.

Each client thread owns an httpx connection pool and requests the endpoints in turn
(closed loop, no think time) until the duration or the request cap is reached; latencies
are measured per request with ``time.perf_counter``. Bounded in time and count, and it
refuses any target that is not a loopback address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd

__all__ = ["LoadResult", "load_test"]

_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`load_test`.

    Attributes
    ----------
    table : DataFrame
        One row per endpoint: ``requests``, ``errors`` (non-2xx or transport error),
        ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``, ``rps``, ``statuses`` (HTTP status ->
        count; 0 for a transport error).
    clients : int
    seconds : float
        Wall time of the run.
    samples : DataFrame
        Every request: ``endpoint``, ``ms``, ``status`` (0 for a transport error).
    """

    table: pd.DataFrame
    clients: int
    seconds: float
    samples: pd.DataFrame


def load_test(
    base_url: str,
    *,
    endpoints: Sequence[str] = ("/api/experiments", "/api/optimization_runs", "/api/ai_queries"),
    clients: int = 50,
    duration: float = 20.0,
    max_requests: int = 200_000,
    timeout: float = 5.0,
) -> LoadResult:
    """Run ``clients`` closed-loop clients against ``endpoints`` for ``duration`` seconds.

    Raises
    ------
    ValueError
        If ``base_url`` is not on loopback, or the settings are out of range.
    """
    host = urlsplit(base_url).hostname or ""
    if not host.startswith(_LOOPBACK) and host not in ("localhost", "::1"):
        raise ValueError(
            f"The 'base_url' parameter of load_test must be loopback. Got {base_url!r}."
        )
    if clients < 1 or duration <= 0 or max_requests < 1 or not endpoints:
        raise ValueError(
            "load_test needs clients >= 1, duration > 0, max_requests >= 1 and at least one "
            f"endpoint. Got clients={clients}, duration={duration}, max_requests={max_requests}, "
            f"endpoints={list(endpoints)}."
        )
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    count = [0]

    def worker(offset: int) -> None:
        local: list[tuple[str, float, int]] = []
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            i = offset
            while not stop.is_set():
                with lock:
                    if count[0] >= max_requests:
                        break
                    count[0] += 1
                ep = endpoints[i % len(endpoints)]
                i += 1
                t0 = time.perf_counter()
                try:
                    status = client.get(ep).status_code
                except httpx.HTTPError:
                    status = 0
                local.append((ep, (time.perf_counter() - t0) * 1e3, status))
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    deadline = start + duration
    for t in threads:  # all done early (request cap reached), or the duration is up
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
    stop.set()
    for t in threads:
        t.join(timeout=timeout + 5)
    seconds = time.perf_counter() - start
    df = pd.DataFrame(samples, columns=["endpoint", "ms", "status"])
    rows = []
    for ep in endpoints:
        g = df[df["endpoint"] == ep]
        ms = g["ms"].to_numpy()
        ok = (g["status"] >= 200) & (g["status"] < 300)
        rows.append(
            {
                "endpoint": ep,
                "requests": len(g),
                "errors": int((~ok).sum()),
                "p50_ms": float(np.percentile(ms, 50)) if len(ms) else np.nan,
                "p95_ms": float(np.percentile(ms, 95)) if len(ms) else np.nan,
                "p99_ms": float(np.percentile(ms, 99)) if len(ms) else np.nan,
                "max_ms": float(ms.max()) if len(ms) else np.nan,
                "rps": len(g) / seconds,
                "statuses": {int(str(k)): int(v) for k, v in g["status"].value_counts().items()},
            }
        )
    return LoadResult(pd.DataFrame(rows), clients, seconds, df)
