"""One monitoring sample: health, the listings, the cost analysis and one reasoning stream.

:func:`take_sample` sends, in order, ``requests`` rounds of ``GET /health`` and each listing
(:data:`~._smoke_checks.LISTINGS`), one ``GET /api/ai_queries?include_cost_analysis=true``
and (unless disabled) one reasoning query, whose stream is read event by event to time its
first byte, its first event and its end.  Every request is sent once, without retries, and
timed from just before it is sent to when it completed or failed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from ..client import Event, SSEDecoder
from ._smoke_checks import LISTINGS, REASONING_CONTEXT

__all__ = ["COST_PATH", "STREAM_PATH", "Timed", "take_sample"]

COST_PATH = "/api/ai_queries?include_cost_analysis=true&limit=1"
STREAM_PATH = "/api/reasoning/query"
_STREAM_EVENTS = ["preliminary", "final", "done"]
_NAN = math.nan


@dataclass(frozen=True)
class Timed:
    """One request of a sample: ``endpoint`` (``"GET /health"``), status (None: no response),
    seconds until it completed or failed, and the error text (None when it succeeded)."""

    endpoint: str
    status: int | None
    seconds: float
    error: str | None = None


def take_sample(
    client: httpx.Client,
    *,
    requests: int,
    reasoning: bool,
    clock: Callable[[], float],
) -> tuple[dict[str, float], dict[str, Any]]:
    """Measure the service once.

    Parameters
    ----------
    client : httpx.Client
        On the service root, carrying any ``X-API-Key``.
    requests : int
        Rounds of ``GET /health`` and the listings.
    reasoning : bool
        Send the reasoning query.
    clock : callable
        Monotonic clock (seconds).

    Returns
    -------
    metrics : dict of str to float
        The sample's :data:`~._rules.MONITOR_METRICS` but ``cost_per_hour`` (the monitor
        computes it across samples).
    detail : dict
        ``endpoints`` (per endpoint: ``n``, ``statuses`` (status -> count, ``"0"``: no
        response), ``median_s``, ``max_s``),
        ``stream`` (status, events, times, error), ``cost`` (the cost analysis or None),
        ``failures`` (``"GET /health -> 503"`` lines).
    """
    timed: list[Timed] = []
    health_ok = True
    for _ in range(requests):
        response, t = _get(client, "/health", clock)
        timed.append(t)
        health_ok &= response is not None and response.status_code == 200 and _ok(response)
        for path in LISTINGS:
            timed.append(_get(client, path, clock)[1])
    response, t = _get(client, COST_PATH, clock)
    timed.append(t)
    cost = _cost(response)
    gets = np.array([t.seconds for t in timed])
    stream: dict[str, Any] = {}
    if reasoning:
        stream = _stream(client, clock)
        timed.append(
            Timed(
                f"POST {STREAM_PATH}",
                stream["status"],
                stream["total_s"],
                None if stream["ok"] else stream["error"],
            )
        )
    metrics = _metrics(timed, gets, health_ok, stream, cost)
    detail = {
        "endpoints": _by_endpoint(timed),
        "stream": stream or None,
        "cost": cost,
        "failures": [_failure(t) for t in timed if t.error],
    }
    return metrics, detail


def _metrics(
    timed: list[Timed],
    gets: np.ndarray,
    health_ok: bool,
    stream: dict[str, Any],
    cost: dict[str, Any] | None,
) -> dict[str, float]:
    errors = sum(t.error is not None for t in timed)
    errors_5xx = sum(t.status is not None and t.status >= 500 for t in timed)
    health = [t.seconds for t in timed if t.endpoint == "GET /health"]
    return {
        "health_ok": float(health_ok),
        "health_latency_s": float(np.median(health)),
        "p95_latency_s": float(np.percentile(gets, 95)),
        "max_latency_s": float(gets.max()),
        "stream_ok": float(stream["ok"]) if stream else _NAN,
        "stream_ttfb_s": stream.get("ttfb_s", _NAN) if stream else _NAN,
        "stream_first_event_s": stream.get("first_event_s", _NAN) if stream else _NAN,
        "stream_total_s": stream.get("total_s", _NAN) if stream else _NAN,
        "requests": float(len(timed)),
        "errors": float(errors),
        "errors_5xx": float(errors_5xx),
        "error_rate": errors / len(timed),
        "rate_5xx": errors_5xx / len(timed),
        "cost_usd": float(cost["total_cost_usd"]) if cost else _NAN,
        "queries": float(cost["query_count"]) if cost else _NAN,
    }


def _get(
    client: httpx.Client, path: str, clock: Callable[[], float]
) -> tuple[httpx.Response | None, Timed]:
    endpoint = f"GET {path.split('?', 1)[0]}" + (" (cost analysis)" if "?" in path else "")
    t0 = clock()
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        return None, Timed(endpoint, None, clock() - t0, f"{type(exc).__name__}: {exc}")
    seconds = clock() - t0
    error = None if response.status_code < 400 else f"status {response.status_code}"
    return response, Timed(endpoint, response.status_code, seconds, error)


def _ok(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("status") == "ok")
    except (ValueError, AttributeError):
        return False


def _cost(response: httpx.Response | None) -> dict[str, Any] | None:
    if response is None or response.status_code != 200:
        return None
    try:
        analysis = response.json().get("cost_analysis")
        return {
            "total_cost_usd": float(analysis["total_cost_usd"]),
            "query_count": int(analysis["query_count"]),
        }
    except (ValueError, AttributeError, KeyError, TypeError):
        return None


def _stream(client: httpx.Client, clock: Callable[[], float]) -> dict[str, Any]:
    """Send the reasoning query; time the first body byte, the first event and the end."""
    out: dict[str, Any] = {"status": None, "events": [], "ok": False, "error": None}
    body = {
        "query": "monitor: suggest the next experiment",
        "context": REASONING_CONTEXT,
        "created_by": "ardlib-monitor",
    }
    t0 = clock()
    try:
        with client.stream(
            "POST", STREAM_PATH, json=body, headers={"Accept": "text/event-stream"}
        ) as response:
            out["status"] = response.status_code
            if response.status_code != 200:
                response.read()
                hint = " (needs the API key)" if response.status_code == 401 else ""
                out["error"] = f"status {response.status_code}{hint}: {response.text[:120]!r}"
            else:
                _read_events(response, out, t0, clock)
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: an event that is not JSON
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["total_s"] = clock() - t0
    if out["error"] is None and out["events"] != _STREAM_EVENTS:
        out["error"] = f"events {out['events']}, expected {_STREAM_EVENTS}"
    out["ok"] = out["error"] is None
    return out


def _read_events(
    response: httpx.Response, out: dict[str, Any], t0: float, clock: Callable[[], float]
) -> None:
    decoder = SSEDecoder()
    for chunk in response.iter_bytes():
        out.setdefault("ttfb_s", clock() - t0)
        for sse in decoder.feed(chunk):
            event = Event.from_sse(sse)
            out.setdefault("first_event_s", clock() - t0)
            out["events"].append(event.kind)
            if event.is_error:
                out["error"] = f"error event: {str(event.data.get('error'))[:120]}"


def _by_endpoint(timed: list[Timed]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for endpoint in dict.fromkeys(t.endpoint for t in timed):
        mine = [t for t in timed if t.endpoint == endpoint]
        seconds = [t.seconds for t in mine]
        out[endpoint] = {
            "n": len(mine),
            "statuses": {str(k or 0): v for k, v in Counter(t.status for t in mine).items()},
            "median_s": float(np.median(seconds)),
            "max_s": float(max(seconds)),
        }
    return out


def _failure(t: Timed) -> str:
    return f"{t.endpoint} -> {t.error}"
