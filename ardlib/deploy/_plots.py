"""Figures of the deployment report: latency distributions and success under faults.

Both return a matplotlib Figure and leave saving, showing and the style to the caller
(``with paper_style(): report.figure(plot_latency_ecdf(samples), "latency_ecdf")``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_latency_ecdf", "plot_resilience"]


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
