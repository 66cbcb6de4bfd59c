"""Open-loop load: requests sent on a clock at a fixed arrival rate, whatever the responses do.

A closed-loop test (:func:`load_test`) sends a client's next request when the previous one
answered, so a stalled server also stalls the generator and the requests that would have
arrived meanwhile are never sent nor timed ("coordinated omission").  Here the arrival
times are drawn first (``constant``: every ``1 / rate`` s; ``poisson``: exponential gaps
from a seeded generator) and each request is launched at its time as an asyncio task on one
``httpx.AsyncClient``, so the generator never waits on a response.  Latency is measured
from the *scheduled* arrival time to the end of the response body, so time spent queued
anywhere (late launch, waiting for a pooled connection, the server's accept queue) counts.
``wire_ms`` is measured from when the request got its connection (the first of httpcore's
``connect_tcp``/``send_request_headers`` trace events), for comparison.  One untimed request
before each rate's schedule warms the client up (imports, the first connection).

**Search for the sustainable rate**: the given rates are run in increasing order; the
sustainable rate is the highest rate that met the criterion (p99 latency < ``p99_bound``
and no error) with every lower rate meeting it too.  With ``refine=k``, ``k`` bisection
steps then run between that rate and the first failing one, each a full run at the
midpoint (rounded to 0.1/s).  A rate above the first failure that happens to pass is
reported but never counted as sustainable.  When every rate passed, the sustainable rate is
only a lower bound (``first_failing_rps`` is None).

The event loop runs in a thread of its own (uvloop when installed), so this works from
Jupyter, whose loop is already running.  Targets must be on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator
from .._validation import check_choice, check_int, check_real
from ._duration import parse_duration
from ._load import check_loopback

__all__ = ["OpenLoopResult", "arrival_times", "open_loop_load"]

ARRIVALS = ("poisson", "constant")
_LEAD_S = 0.02  # the first arrival is this far after the loop starts, so it is not late
T = TypeVar("T")


@dataclass(frozen=True)
class OpenLoopResult:
    """Outcome of :func:`open_loop_load`.

    Attributes
    ----------
    table : DataFrame
        One row per run, in the order run: ``target_rps``, ``phase`` (``"scan"`` or
        ``"bisect"``), ``requests`` (scheduled and sent), ``offered_rps`` (``requests /
        duration``: the target up to the randomness of Poisson arrivals), ``ok`` (2xx),
        ``errors``, ``achieved_rps`` (2xx responses per second of ``max(duration, time to
        the last response)``), ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms`` (from the scheduled
        time; a failed request counts with its time to failure), ``wire_p99_ms`` (from
        getting a connection), ``lag_p99_ms``, ``lag_max_ms`` (how late requests were
        launched: the generator's own delay), ``statuses`` (status -> count, 0: no
        response), ``sustainable`` (p99 < bound and no error).
    samples : DataFrame
        One row per request: ``target_rps``, ``i``, ``endpoint``, ``scheduled_s`` (from the
        run's start), ``latency_ms``, ``wire_ms``, ``lag_ms``, ``status``.
    sustainable_rps : float or None
        Highest rate that met the criterion with every lower rate (None: not even the
        lowest).
    first_failing_rps : float or None
        Lowest rate that failed (None: every rate passed; the sustainable rate is then a
        lower bound).
    p99_bound_s : float
    duration : float
        Seconds of arrivals per rate.
    arrivals : str
    """

    table: pd.DataFrame
    samples: pd.DataFrame
    sustainable_rps: float | None
    first_failing_rps: float | None
    p99_bound_s: float
    duration: float
    arrivals: str


def arrival_times(
    rate: float, duration: float, *, arrivals: str = "poisson", rng: RNGLike = None
) -> np.ndarray:
    """Arrival times in ``[0, duration)`` at ``rate`` per second.

    Parameters
    ----------
    rate : float
        Mean arrivals per second, > 0.
    duration : float
        Seconds, > 0.
    arrivals : {"poisson", "constant"}
        ``constant``: ``i / rate`` for ``i < rate * duration`` (at least one arrival);
        ``poisson``: cumulative sums of exponential gaps with mean ``1 / rate``, starting
        at 0.
    rng : None, int, SeedSequence or Generator
        Seeds the Poisson gaps.

    Returns
    -------
    ndarray of shape (n,)
        Increasing times in seconds.
    """
    rate = check_real(rate, "rate", owner="arrival_times", low=0, low_inclusive=False)
    duration = check_real(duration, "duration", owner="arrival_times", low=0, low_inclusive=False)
    check_choice(arrivals, "arrivals", ARRIVALS, owner="arrival_times")
    if arrivals == "constant":
        return np.arange(max(1, math.ceil(rate * duration - 1e-9))) / rate
    gen = as_generator(rng)
    expected = rate * duration
    gaps = gen.exponential(1.0 / rate, size=int(expected + 6 * math.sqrt(expected) + 16))
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    while times[-1] < duration:  # (practically never) too few draws: continue the stream
        more = np.cumsum(gen.exponential(1.0 / rate, size=len(gaps))) + times[-1]
        times = np.concatenate([times, more])
    return times[times < duration]


def open_loop_load(
    base_url: str,
    *,
    rates: Sequence[float],
    duration: float | str = 10.0,
    endpoints: Sequence[str] = ("/api/experiments", "/api/optimization_runs", "/api/ai_queries"),
    arrivals: str = "poisson",
    rng: RNGLike = 0,
    p99_bound: float = 2.0,
    refine: int = 0,
    timeout: float = 10.0,
    max_connections: int = 512,
    api_key: str | None = None,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> OpenLoopResult:
    """Load ``base_url`` at each of ``rates`` on a fixed arrival clock; find the sustainable rate.

    Parameters
    ----------
    base_url : str
        A loopback service root.
    rates : sequence of float
        Target arrival rates (requests per second), each > 0; run in increasing order.
    duration : float or str, default 10
        Seconds of arrivals per rate (or ``"10s"``, ``"1m"``); the run then waits for the
        last responses (at most ``timeout``).
    endpoints : sequence of str
        Paths requested with GET, in turn (request ``i`` gets ``endpoints[i % n]``).
    arrivals : {"poisson", "constant"}, default "poisson"
    rng : None, int, SeedSequence or Generator, default 0
        Seeds the Poisson arrivals (one stream for all rates, in the order run).
    p99_bound : float, default 2.0
        Seconds the p99 latency must stay under for a rate to be sustainable.
    refine : int, default 0
        Bisection steps between the sustainable and the first failing rate.
    timeout : float, default 10
        Seconds per request, waiting for a connection included; a timeout is an error.
    max_connections : int, default 512
        Connections the client may open (requests beyond wait, and the wait counts).
    api_key : str, optional
        Sent as ``X-API-Key`` (when the service protects reads).
    progress : callable, optional
        Called with each run's table row as it completes.

    Returns
    -------
    OpenLoopResult

    Raises
    ------
    ValueError
        If ``base_url`` is not on loopback or a setting is out of range.
    """
    owner = "open_loop_load"
    check_loopback(base_url, owner)
    duration = parse_duration(duration, "duration")
    targets = sorted(
        {check_real(r, "rates", owner=owner, low=0, low_inclusive=False) for r in rates}
    )
    if not targets or not endpoints:
        raise ValueError(f"{owner} needs at least one rate and one endpoint. Got {rates!r}.")
    check_choice(arrivals, "arrivals", ARRIVALS, owner=owner)
    p99_bound = check_real(p99_bound, "p99_bound", owner=owner, low=0, low_inclusive=False)
    refine = check_int(refine, "refine", owner=owner, low=0)
    timeout = check_real(timeout, "timeout", owner=owner, low=0, low_inclusive=False)
    check_int(max_connections, "max_connections", owner=owner, low=1)
    gen = as_generator(rng)
    settings = _Settings(
        base_url,
        duration,
        tuple(endpoints),
        arrivals,
        timeout,
        max_connections,
        p99_bound,
        {"X-API-Key": api_key} if api_key else {},
    )
    rows: list[dict[str, Any]] = []
    samples: list[pd.DataFrame] = []

    def run(rate: float, phase: str) -> bool:
        row, df = _one_rate(settings, rate, gen)
        rows.append({"target_rps": rate, "phase": phase, **row})
        samples.append(df)
        if progress is not None:
            progress(rows[-1])
        return bool(row["sustainable"])

    passed = [rate for rate in targets if run(rate, "scan")]
    failed = [r["target_rps"] for r in rows if not r["sustainable"]]
    lo = _sustainable(targets, passed)
    hi = min(failed) if failed else None
    for _ in range(refine if lo is not None and hi is not None else 0):
        assert lo is not None and hi is not None
        mid = round((lo + hi) / 2, 1)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if run(mid, "bisect") else (lo, mid)
    return OpenLoopResult(
        table=pd.DataFrame(rows),
        samples=pd.concat(samples, ignore_index=True),
        sustainable_rps=lo,
        first_failing_rps=hi,
        p99_bound_s=p99_bound,
        duration=duration,
        arrivals=arrivals,
    )


@dataclass(frozen=True)
class _Settings:
    url: str
    duration: float
    endpoints: tuple[str, ...]
    arrivals: str
    timeout: float
    max_connections: int
    p99_bound: float
    headers: dict[str, str]


def _sustainable(targets: list[float], passed: list[float]) -> float | None:
    """The highest rate of the passing prefix of ``targets``."""
    best = None
    for rate in targets:
        if rate not in passed:
            break
        best = rate
    return best


def _one_rate(
    s: _Settings, rate: float, gen: np.random.Generator
) -> tuple[dict[str, Any], pd.DataFrame]:
    times = arrival_times(rate, s.duration, arrivals=s.arrivals, rng=gen)
    records, elapsed = _in_thread(lambda: _drive(s, times))
    df = pd.DataFrame(
        records,
        columns=["i", "endpoint", "scheduled_s", "latency_ms", "wire_ms", "lag_ms", "status"],
    )
    df.insert(0, "target_rps", rate)
    ok = df["status"].between(200, 299)
    lat = df["latency_ms"].to_numpy()
    p50, p95, p99, top = np.percentile(lat, [50, 95, 99, 100])
    errors = int((~ok).sum())
    row = {
        "requests": len(df),
        "offered_rps": len(df) / s.duration,
        "ok": int(ok.sum()),
        "errors": errors,
        "achieved_rps": float(ok.sum()) / max(s.duration, elapsed),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(top),
        "wire_p99_ms": float(np.nanpercentile(df["wire_ms"], 99))
        if df["wire_ms"].notna().any()
        else math.nan,
        "lag_p99_ms": float(np.percentile(df["lag_ms"], 99)),
        "lag_max_ms": float(df["lag_ms"].max()),
        "statuses": {int(k): int(v) for k, v in Counter(df["status"]).items()},
        "sustainable": bool(p99 < 1e3 * s.p99_bound and errors == 0),
    }
    return row, df


async def _drive(s: _Settings, times: np.ndarray) -> tuple[list[tuple[Any, ...]], float]:
    """Launch one request per arrival time; returns the records and the seconds from the
    run's start (time 0 of the schedule) to the last response."""
    limits = httpx.Limits(
        max_connections=s.max_connections, max_keepalive_connections=s.max_connections
    )
    async with httpx.AsyncClient(
        base_url=s.url, timeout=s.timeout, limits=limits, headers=s.headers
    ) as client:
        with contextlib.suppress(httpx.HTTPError):  # warm up: imports, first connection
            await client.get(s.endpoints[0])
        start = time.perf_counter() + _LEAD_S
        tasks = []
        for i, at in enumerate(times.tolist()):
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            path = s.endpoints[i % len(s.endpoints)]
            tasks.append(asyncio.create_task(_fire(client, i, path, start + at)))
        done = await asyncio.gather(*tasks)
        last = max(r[-1] for r in done)
    records = [
        (i, p, sched - start, lat, wire, lag, status)
        for i, p, sched, lat, wire, lag, status, _ in done
    ]
    return records, last - start


async def _fire(
    client: httpx.AsyncClient, i: int, path: str, scheduled: float
) -> tuple[int, str, float, float, float, float, int, float]:
    launched = time.perf_counter()
    wire: list[float] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        if not wire and event in (
            "connection.connect_tcp.started",
            "http11.send_request_headers.started",
        ):
            wire.append(time.perf_counter())

    try:
        status = (await client.get(path, extensions={"trace": trace})).status_code
    except httpx.HTTPError:
        status = 0
    end = time.perf_counter()
    wire_ms = 1e3 * (end - wire[0]) if wire else math.nan
    lag_ms = 1e3 * (launched - scheduled)
    return i, path, scheduled, 1e3 * (end - scheduled), wire_ms, lag_ms, status, end


def _in_thread(factory: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine ``factory()`` makes on a fresh event loop in a new thread."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                box["value"] = runner.run(factory())  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="ardlib-open-loop", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
