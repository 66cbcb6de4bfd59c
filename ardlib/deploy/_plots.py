"""Figures of the deployment report: latency distributions, success under faults, the
monitoring time series and open-loop latency against the arrival rate.

Each returns a matplotlib Figure and leave saving, showing and the style to the caller
(``with paper_style(): report.figure(plot_latency_ecdf(samples), "latency_ecdf")``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._monitor import MonitorResult
    from ._openloop import OpenLoopResult

__all__ = ["plot_latency_ecdf", "plot_monitor", "plot_open_loop", "plot_resilience"]


def plot_latency_ecdf(samples: pd.DataFrame) -> Any:
    """Empirical CDF of request latency, one line per endpoint, on a log axis.

    Parameters
    ----------
    samples : DataFrame
        One row per request with ``endpoint`` and ``ms`` (as :attr:`LoadResult.samples`).

    Returns
    -------
    matplotlib.figure.Figure
        Latency in milliseconds against the share of requests at most that slow.
    """
    import matplotlib.pyplot as plt

    missing = {"endpoint", "ms"} - set(samples.columns)
    if missing:
        raise ValueError(
            "The 'samples' parameter of plot_latency_ecdf must have the columns 'endpoint' "
            f"and 'ms'. Missing: {sorted(missing)}."
        )
    fig, ax = plt.subplots(figsize=(5.5, 3))
    for endpoint, group in samples.groupby("endpoint"):
        ms = np.sort(group["ms"].to_numpy(dtype=float))
        ax.plot(ms, np.arange(1, len(ms) + 1) / len(ms), label=str(endpoint))
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("share of requests")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def plot_resilience(chaos: pd.DataFrame, proxy: pd.DataFrame) -> Any:
    """Share of calls that succeeded against the injected fault rate.

    Parameters
    ----------
    chaos : DataFrame
        :func:`chaos_client_calls` (``rate``, ``success_rate``).
    proxy : DataFrame
        :func:`proxy_client_calls` (``fault_rate``, ``success_rate``).

    Returns
    -------
    matplotlib.figure.Figure
        One line for client calls through transport faults, one for reads through the
        TCP proxy.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(
        chaos["rate"], chaos["success_rate"], marker="o", label="client calls (transport faults)"
    )
    ax.plot(proxy["fault_rate"], proxy["success_rate"], marker="s", label="reads through TCP proxy")
    ax.set_xlabel("injected fault rate")
    ax.set_ylabel("share succeeded")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def plot_monitor(result: MonitorResult) -> Any:
    """The monitoring time series: latency, errors and AI cost against time, alerts marked.

    Parameters
    ----------
    result : MonitorResult
        A :func:`monitor` run.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels sharing the time axis (seconds since the first sample): the median
        latency of each GET endpoint and the reasoning stream's first event and end (log
        axis, ms); errors and 5xx per sample; the AI cost the service reports (USD).  A
        vertical line marks each sample where an alert fired.
    """
    import matplotlib.pyplot as plt

    s, e = result.samples, result.endpoints
    fig, (lat, err, cost) = plt.subplots(
        3, 1, figsize=(6.5, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1, 1]}
    )
    for endpoint, group in e[e["endpoint"].str.startswith("GET ")].groupby("endpoint"):
        lat.plot(group["elapsed_s"], 1e3 * group["median_s"], marker=".", label=str(endpoint))
    for column, label in (
        ("stream_first_event_s", "stream: first event"),
        ("stream_total_s", "stream: end"),
    ):
        if s[column].notna().any():
            lat.plot(s["elapsed_s"], 1e3 * s[column], marker=".", linestyle="--", label=label)
    lat.set_yscale("log")
    lat.set_ylabel("latency (ms)")
    lat.legend(frameon=False, fontsize="x-small", ncol=2)
    err.plot(s["elapsed_s"], s["errors"], marker=".", label="errors")
    err.plot(s["elapsed_s"], s["errors_5xx"], marker=".", label="5xx")
    err.set_ylabel("per sample")
    err.legend(frameon=False, fontsize="x-small")
    cost.plot(s["elapsed_s"], s["cost_usd"], marker=".")
    cost.set_ylabel("AI cost (USD)")
    cost.set_xlabel("time since the first sample (s)")
    for alert in result.alerts:
        for ax in (lat, err, cost):
            ax.axvline(alert.elapsed_s, color="tab:red", alpha=0.4, linewidth=1)
    fig.tight_layout()
    return fig


def plot_open_loop(result: OpenLoopResult) -> Any:
    """Open-loop latency percentiles and achieved rate against the target arrival rate.

    Parameters
    ----------
    result : OpenLoopResult
        An :func:`open_loop_load` run.

    Returns
    -------
    matplotlib.figure.Figure
        Left: p50, p95 and p99 latency (from the scheduled time; log axis, ms) per target
        rate, with the p99 bound and the sustainable rate marked.  Right: offered (sent
        per second) and achieved (2xx per second) against target rate.
    """
    import matplotlib.pyplot as plt

    t = result.table.sort_values("target_rps")
    fig, (lat, rate) = plt.subplots(1, 2, figsize=(7.5, 3))
    for column in ("p50_ms", "p95_ms", "p99_ms"):
        lat.plot(t["target_rps"], t[column], marker="o", label=column.split("_")[0])
    lat.axhline(1e3 * result.p99_bound_s, color="grey", linestyle=":", label="p99 bound")
    if result.sustainable_rps is not None:
        lat.axvline(result.sustainable_rps, color="tab:green", alpha=0.5, label="sustainable")
    lat.set_yscale("log")
    lat.set_xlabel("target rate (requests/s)")
    lat.set_ylabel("latency (ms)")
    lat.legend(frameon=False, fontsize="x-small")
    top = float(max(t["target_rps"].max(), t["achieved_rps"].max()))
    rate.plot([0, top], [0, top], color="grey", linestyle=":", label="target")
    rate.plot(t["target_rps"], t["offered_rps"], marker="s", linestyle="--", label="offered")
    rate.plot(t["target_rps"], t["achieved_rps"], marker="o", label="achieved")
    rate.set_xlabel("target rate (requests/s)")
    rate.set_ylabel("achieved (2xx/s)")
    rate.legend(frameon=False, fontsize="x-small")
    fig.tight_layout()
    return fig
