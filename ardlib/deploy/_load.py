"""Bounded load test on loopback: N concurrent clients for a fixed duration.

Each endpoint is loaded in turn, for an equal share of the duration, by ``clients``
closed-loop clients (no think time), so its percentiles are measured at the stated
concurrency.  Two load generators:

- ``wrk`` (Debian's package, when installed): a C program in its own process, so the
  generator costs little of the CPU the service is measured on.  Its Lua ``done`` hook
  reports the request count, errors and latency percentiles; there are no per-request
  samples.
- ``threads``: ``clients`` Python threads, each with its own httpx connection, timing
  every request with ``time.perf_counter``.  Always available; on a 2-core machine the
  generator takes much of the CPU itself and the service looks slower than it is.

Bounded in time (and, for threads, in request count), and any target that is not a
loopback address is refused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd

from .._validation import check_int

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["LoadResult", "check_loopback", "fill_experiments", "load_test"]

_LOOPBACK = ("127.", "localhost", "[::1]", "::1")
_GENERATORS = ("auto", "wrk", "threads")
_WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ARDLIB-LOAD {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50": %f, "p95": %f, "p99": %f, ' ..
    '"max": %f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`load_test`.

    Attributes
    ----------
    table : DataFrame
        One row per endpoint: ``requests``, ``errors`` (non-2xx or transport error),
        ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``, ``rps``, ``statuses`` (threads: HTTP
        status -> count, 0 for a transport error; wrk: ``"ok"``, ``"bad status"``,
        ``"transport"`` -> count).
    clients : int
    seconds : float
        Wall time of the run.
    samples : DataFrame
        Every request (threads only; empty for wrk): ``endpoint``, ``ms``, ``status``.
    generator : str
        ``"wrk"`` or ``"threads"``.
    """

    table: pd.DataFrame
    clients: int
    seconds: float
    samples: pd.DataFrame
    generator: str = "threads"


def load_test(
    base_url: str,
    *,
    endpoints: Sequence[str] = ("/api/experiments", "/api/optimization_runs", "/api/ai_queries"),
    clients: int = 50,
    duration: float = 20.0,
    max_requests: int = 200_000,
    timeout: float = 5.0,
    generator: str = "auto",
) -> LoadResult:
    """Load each of ``endpoints`` in turn with ``clients`` closed-loop clients, for
    ``duration / len(endpoints)`` seconds each.

    Parameters
    ----------
    base_url : str
        A loopback URL.
    endpoints : sequence of str
        Paths (with query strings) to request with GET.
    clients : int, default 50
    duration : float, default 20
        Seconds for the whole run.
    max_requests : int, default 200000
        Cap per endpoint (threads generator only).
    timeout : float, default 5
        Seconds per request before it counts as an error.
    generator : {"auto", "wrk", "threads"}
        ``auto`` takes wrk when it is on ``PATH``.

    Returns
    -------
    LoadResult

    Raises
    ------
    ValueError
        If ``base_url`` is not on loopback, or the settings are out of range.
    FileNotFoundError
        If ``generator="wrk"`` and wrk is not installed.
    """
    check_loopback(base_url, "load_test")
    if clients < 1 or duration <= 0 or max_requests < 1 or timeout <= 0 or not endpoints:
        raise ValueError(
            "load_test needs clients >= 1, duration > 0, max_requests >= 1, timeout > 0 and "
            f"at least one endpoint. Got clients={clients}, duration={duration}, "
            f"max_requests={max_requests}, timeout={timeout}, endpoints={list(endpoints)}."
        )
    if generator not in _GENERATORS:
        raise ValueError(
            f"The 'generator' parameter of load_test must be one of {_GENERATORS}. "
            f"Got {generator!r}."
        )
    wrk = shutil.which("wrk")
    if generator == "wrk" and wrk is None:
        raise FileNotFoundError("load_test(generator='wrk'): wrk is not on PATH.")
    use_wrk = wrk is not None and generator != "threads"
    share = duration / len(endpoints)
    start = time.perf_counter()
    rows, samples = [], []
    for ep in endpoints:
        if use_wrk:
            assert wrk is not None
            rows.append(_wrk_phase(wrk, base_url, ep, clients, share, timeout))
        else:
            row, df = _thread_phase(base_url, ep, clients, share, max_requests, timeout)
            rows.append(row)
            samples.append(df)
    seconds = time.perf_counter() - start
    all_samples = (
        pd.concat(samples, ignore_index=True)
        if samples
        else pd.DataFrame({"endpoint": [], "ms": [], "status": []})
    )
    return LoadResult(
        pd.DataFrame(rows), clients, seconds, all_samples, "wrk" if use_wrk else "threads"
    )


def check_loopback(base_url: str, owner: str) -> str:
    """``base_url`` when its host is a loopback address, else ValueError naming ``owner``."""
    host = urlsplit(base_url).hostname or ""
    if not host.startswith(_LOOPBACK) and host not in ("localhost", "::1"):
        raise ValueError(f"The 'base_url' parameter of {owner} must be loopback. Got {base_url!r}.")
    return base_url


def fill_experiments(client: Client, n: int, *, created_by: str = "load-fill") -> int:
    """Store experiments through ``client`` until the service lists at least ``n``.

    Parameters
    ----------
    client : Client
        A client of the service (writes need its API key when auth is on).
    n : int
        Experiments wanted, at most 1000 (the listing cap used to count them).
    created_by : str, default "load-fill"
        Author of the experiments added, so they can be told apart.

    Returns
    -------
    int
        How many experiments were added (0 when the service held ``n`` already).
    """
    n = check_int(n, "n", owner="fill_experiments", low=0, high=1000)
    missing = n - len(client.experiments(limit=max(n, 1)))
    for added in range(missing):
        client.create_experiment(
            parameters={"x": float(added)}, status="completed", created_by=created_by
        )
    return max(missing, 0)


def _wrk_phase(
    wrk: str, base_url: str, ep: str, clients: int, seconds: float, timeout: float
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ardlib-wrk-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(_WRK_REPORT)
        cmd = [
            wrk,
            f"-t{min(2, clients)}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(timeout))}s",
            "-s",
            str(script),
            base_url.rstrip("/") + ep,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("ARDLIB-LOAD ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed on {ep} (exit {out.returncode}): {(out.stderr or out.stdout)[-500:]}"
        )
    r = json.loads(line.split(" ", 1)[1])
    transport = r["connect"] + r["read"] + r["write"] + r["timeout"]
    errors = transport + r["status"]
    return {
        "endpoint": ep,
        "requests": r["requests"],
        "errors": errors,
        "p50_ms": r["p50"] / 1e3,
        "p95_ms": r["p95"] / 1e3,
        "p99_ms": r["p99"] / 1e3,
        "max_ms": r["max"] / 1e3,
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "statuses": {
            "ok": r["requests"] - r["status"],
            "bad status": r["status"],
            "transport": transport,
        },
    }


def _thread_phase(
    base_url: str, ep: str, clients: int, seconds: float, max_requests: int, timeout: float
) -> tuple[dict[str, object], pd.DataFrame]:
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    count = [0]

    def worker() -> None:
        local: list[tuple[str, float, int]] = []
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            while not stop.is_set():
                with lock:
                    if count[0] >= max_requests:
                        break
                    count[0] += 1
                t0 = time.perf_counter()
                try:
                    status = client.get(ep).status_code
                except httpx.HTTPError:
                    status = 0
                local.append((ep, (time.perf_counter() - t0) * 1e3, status))
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    deadline = start + seconds
    for t in threads:  # all done early (request cap reached), or the time is up
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
    stop.set()
    for t in threads:
        t.join(timeout=timeout + 5)
    elapsed = time.perf_counter() - start
    df = pd.DataFrame(samples, columns=["endpoint", "ms", "status"])
    ms = df["ms"].to_numpy()
    ok = (df["status"] >= 200) & (df["status"] < 300)
    p50, p95, p99, top = np.percentile(ms, [50, 95, 99, 100]) if len(ms) else [np.nan] * 4
    row = {
        "endpoint": ep,
        "requests": len(df),
        "errors": int((~ok).sum()),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(top),
        "rps": len(df) / elapsed,
        "statuses": {int(str(k)): int(v) for k, v in df["status"].value_counts().items()},
    }
    return row, df
