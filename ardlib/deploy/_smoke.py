"""``smoke``: verify a deployed ARD backend the way an operator would, in one call."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int, check_real
from ..client import Client, RetryPolicy
from ._browser import check_dashboard
from ._smoke_checks import (
    LISTINGS,
    Observation,
    Outcome,
    Probe,
    check_cors,
    check_health,
    check_listing,
    check_no_5xx,
    check_page,
    check_read_protection,
    check_reasoning,
    check_security_headers,
)
from ._smoke_report import LatencySummary, SmokeCheck, SmokeReport

__all__ = ["DISALLOWED_ORIGIN", "LATENCY_PATHS", "smoke"]

#: The origin used to check that CORS refuses strangers (".invalid" never resolves).
DISALLOWED_ORIGIN = "https://disallowed.invalid"
#: The endpoints timed ``n_requests`` times each.
LATENCY_PATHS = ("/health", "/api/experiments", "/api/optimization_runs", "/api/ai_queries")
DASHBOARD_PATH = "/analytics.html"

DashboardCheck = Callable[..., Any]


def smoke(
    base_url: str,
    *,
    api_key: str | None = None,
    n_requests: int = 20,
    origins: tuple[str | None, str] = (None, DISALLOWED_ORIGIN),
    browser: bool | DashboardCheck = True,
    client: Client | None = None,
    latency_bound: float = 2.0,
    screenshot: str | Path | None = None,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.perf_counter,
) -> SmokeReport:
    """Run the deployment smoke checks against the service at ``base_url``.

    Checks, in order: ``health``; each listing endpoint's status, content type
    (application/json) and JSON shape (documented fields, ``count == len(list)``); ``read
    protection``: with ``api_key``, a listing sent without it answers 401 (skipped, never
    passed, when it answers 200: the service does not protect reads); the dashboard page is
    served; a reasoning query (2-d parameter space, three observations)
    streams ``preliminary -> final -> done`` with one trace id; a CORS preflight from the
    allowed origin is granted and from the disallowed one is not; HSTS, ``nosniff`` and
    ``X-Frame-Options: DENY`` on every response (a 404 included); the dashboard renders in headless
    Chromium (skipped, never passed, when no browser is available); per endpoint, the
    p99 latency of ``n_requests`` sequential requests is under ``latency_bound``; no
    response of the whole run was a 5xx.  Requests are sent once (no retries), so the
    service's own behaviour is what is measured.  If ``/health`` gets no response at all,
    the remaining checks are failed as not run.

    Parameters
    ----------
    base_url : str
        The service root, e.g. ``"http://127.0.0.1:8080"``.
    api_key : str or None
        Sent as ``X-API-Key`` on every request but the read-protection probe (reasoning
        needs it when auth is on, the listings and the dashboard when reads are protected;
        the browser check puts it in the page's ``sessionStorage``).
    n_requests : int, default 20
        Requests per endpoint for the latency percentiles.
    origins : (str or None, str)
        The allowed and the disallowed origin for the CORS checks.  Which origins a
        deployment allows is its configuration, so with None as the allowed origin that
        check is skipped (reported as such, never as passed).
    browser : bool or callable, default True
        False skips the dashboard check; True uses :func:`check_dashboard`; a callable
        with that signature is used instead (tests).
    client : Client or None
        Client to send requests with (tests inject one with a mock transport); its base
        URL and any key of its own are used, ``api_key`` is added per request.  Default: a
        client on ``base_url`` without a key of its own.
    latency_bound : float, default 2.0
        Seconds the p99 latency must stay under.
    screenshot : path or None
        Where the dashboard check saves its screenshot.
    timeout : float, default 10.0
        Per-request timeout in seconds (the dashboard check gets three times as much).
    clock : callable
        Monotonic clock for timings.

    Returns
    -------
    SmokeReport
        ``.passed`` is True only when no check failed.
    """
    n_requests = check_int(n_requests, "n_requests", owner="smoke", low=1)
    latency_bound = check_real(
        latency_bound, "latency_bound", owner="smoke", low=0, low_inclusive=False
    )
    allowed, disallowed = _origins(origins)
    own_client = client is None
    if client is None:
        # Keyless: the probe adds the key, so the read-protection check can leave it out.
        client = Client(base_url, timeout=timeout, retry=RetryPolicy(max_attempts=1))
    probe = Probe(client, clock, api_key)
    started, t0 = datetime.now(UTC), clock()
    info: dict[str, Any] = {}
    try:
        checks = [_run("health", partial(check_health, probe, info), clock)]
        reachable = probe.observed[-1].status is not None
        steps: list[tuple[str, Callable[[], Outcome]]] = [
            *[(f"GET {path}", partial(check_listing, probe, path)) for path in LISTINGS],
            ("read protection", partial(check_read_protection, probe)),
            (f"GET {DASHBOARD_PATH}", partial(check_page, probe, DASHBOARD_PATH)),
            (
                "reasoning stream",
                partial(check_reasoning, probe, has_api_key=probe.has_key),
            ),
            (
                "cors allowed origin",
                partial(check_cors, probe, allowed, allowed=True)
                if allowed is not None
                else _skip("no allowed origin given (--origin-allowed)"),
            ),
            ("cors disallowed origin", partial(check_cors, probe, disallowed, allowed=False)),
            *[
                (
                    f"latency GET {path}",
                    partial(_latency, probe, path, n_requests, latency_bound, info),
                )
                for path in LATENCY_PATHS
            ],
        ]
        shot = None if screenshot is None else Path(screenshot)
        page = base_url.rstrip("/") + DASHBOARD_PATH
        steps += [
            (
                "dashboard in browser",
                partial(_dashboard, browser, page, shot, 3 * timeout, info, api_key),
            ),
            ("security headers", partial(check_security_headers, probe)),
            ("no 5xx", partial(check_no_5xx, probe.observed)),
        ]
        for name, step in steps:
            if reachable or (name == "dashboard in browser" and browser is False):
                checks.append(_run(name, step, clock))
            else:
                checks.append(_not_run(name))
    finally:
        if own_client:
            client.close()
    return SmokeReport(
        url=base_url,
        checks=checks,
        latency=info.get("latency", {}),
        started_at=started,
        seconds=clock() - t0,
        requests=len(probe.observed),
        status_counts=_status_counts(probe.observed),
        service_version=info.get("version"),
        screenshot=info.get("screenshot"),
    )


def _origins(origins: tuple[str | None, str]) -> tuple[str | None, str]:
    if not (
        isinstance(origins, tuple | list)
        and len(origins) == 2
        and (origins[0] is None or isinstance(origins[0], str))
        and isinstance(origins[1], str)
    ):
        raise ValueError(
            "The 'origins' parameter of smoke must be a pair (allowed origin or None, "
            f"disallowed origin). Got {origins!r}."
        )
    return origins[0], origins[1]


def _skip(reason: str) -> Callable[[], Outcome]:
    return lambda: (None, reason)


def _run(name: str, step: Callable[[], Outcome], clock: Callable[[], float]) -> SmokeCheck:
    t0 = clock()
    try:
        passed, detail = step()
    except Exception as exc:  # a broken check is a failed check, not a crashed run
        passed, detail = False, f"check crashed: {type(exc).__name__}: {exc}"
    return SmokeCheck(
        name, bool(passed), skipped=passed is None, detail=detail, seconds=clock() - t0
    )


def _not_run(name: str) -> SmokeCheck:
    return SmokeCheck(name, False, detail="not run: the service did not answer GET /health")


def _latency(probe: Probe, path: str, n: int, bound: float, info: dict[str, Any]) -> Outcome:
    start = len(probe.observed)
    for _ in range(n):
        probe.send("GET", path)
    runs = probe.observed[start:]
    times = np.array([o.seconds for o in runs if o.status is not None], dtype=float)
    p50, p95, p99, top = (
        np.percentile(times, [50, 95, 99, 100]) if times.size else [float("nan")] * 4
    )
    summary = LatencySummary(
        endpoint=f"GET {path}", n=n, p50=float(p50), p95=float(p95), p99=float(p99),
        max=float(top), bound=bound, statuses=_status_counts(runs), errors=n - times.size,
    )  # fmt: skip
    info.setdefault("latency", {})[summary.endpoint] = summary
    detail = (
        f"p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms over {n} "
        f"(bound {bound * 1e3:.0f} ms)"
    )
    if summary.errors:
        detail += f"; {summary.errors} requests got no response"
    elif not summary.within_bound:
        detail += "; p99 above the bound"
    return summary.within_bound, detail


def _status_counts(observed: list[Observation]) -> dict[int, int]:
    return dict(Counter(o.status for o in observed if o.status is not None))


def _dashboard(
    browser: bool | DashboardCheck,
    url: str,
    screenshot: Path | None,
    timeout: float,
    info: dict[str, Any],
    api_key: str | None = None,
) -> Outcome:
    if browser is False:
        return None, "disabled (--no-browser)"
    check = check_dashboard if browser is True else browser
    keyed = {"api_key": api_key} if api_key else {}  # a custom check may lack the option
    result = check(url, screenshot=screenshot, timeout=timeout, **keyed)
    reason = str(getattr(result, "reason", "") or "")
    if getattr(result, "skipped", False):
        return None, reason or "skipped by the browser check"
    shot = getattr(result, "screenshot", None)
    if shot is not None:
        info["screenshot"] = Path(shot)
    errors = [str(e) for e in (getattr(result, "console_errors", None) or [])]
    if getattr(result, "passed", False) and not errors:
        return True, reason or "dashboard rendered"
    if errors:
        reason = (
            (reason + "; " if reason else "")
            + f"{len(errors)} console errors: "
            + " | ".join(e[:120] for e in errors[:3])
        )
    return False, reason or "dashboard check failed"
