"""Figures and tables of the benchmark report: revision ratios, history, profile links.

The figures return a matplotlib Figure and leave saving, showing and the style to the
caller (``with paper_style(): report.figure(plot_ratios(cmp.table), "ratios")``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_history", "plot_ratios", "profile_links"]

_VERDICT_COLORS = {"slower": "#c0392b", "faster": "#2471a3", "same": "0.3"}


def _require_columns(frame: pd.DataFrame, columns: set[str], arg: str, owner: str) -> None:
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(
            f"The '{arg}' parameter of {owner} must have the columns {sorted(columns)}. "
            f"Missing: {sorted(missing)}."
        )


def plot_ratios(table: pd.DataFrame, *, threshold: float = 0.10, label: str = "BASE") -> Any:
    """HEAD / BASE median time of every compared benchmark, with intervals and verdicts.

    Parameters
    ----------
    table : DataFrame
        :attr:`RevisionComparison.table` (``benchmark``, ``ratio``, ``ci_low``,
        ``ci_high``, ``verdict``); ``unavailable`` rows are left out.
    threshold : float, default 0.10
        Smallest relative change that counts; the band ``[1/(1+t), 1+t]`` is shaded.
    label : str, default "BASE"
        Name of the baseline on the x axis.

    Returns
    -------
    matplotlib.figure.Figure
        One row per benchmark (first at the top), a point per ratio coloured by verdict.
    """
    import matplotlib.pyplot as plt

    _require_columns(
        table, {"benchmark", "ratio", "ci_low", "ci_high", "verdict"}, "table", "plot_ratios"
    )
    ok = table[table["verdict"] != "unavailable"].iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.32 * len(ok) + 1))
    y = np.arange(len(ok))
    for verdict, color in _VERDICT_COLORS.items():
        m = (ok["verdict"] == verdict).to_numpy()
        if m.any():
            r = ok[m]
            err = [r["ratio"] - r["ci_low"], r["ci_high"] - r["ratio"]]
            ax.errorbar(
                r["ratio"], y[m], xerr=err, fmt="o", ms=3.5, color=color, capsize=2, label=verdict
            )
    ax.legend(frameon=False, fontsize="x-small", loc="lower right")
    ax.axvline(1, color="0.5", lw=0.8)
    ax.axvspan(1 / (1 + threshold), 1 + threshold, color="0.92", zorder=0)
    ax.set_yticks(y, ok["benchmark"], fontsize="x-small")
    ax.set_xlabel(f"HEAD / {label} (median time)")
    fig.tight_layout()
    return fig


def plot_history(runs: pd.DataFrame, changes: pd.DataFrame) -> Any:
    """Median of every benchmark over stored revisions, relative to its first, by group.

    Parameters
    ----------
    runs : DataFrame
        :func:`load_runs` (``group``, ``benchmark``, ``median``, in commit order).
    changes : DataFrame
        :func:`history_changes` (``benchmark``, ``position``, ``direction``); may be empty.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per group (one empty panel without runs); a dashed line before each
        change point, red for slower, blue for faster.
    """
    import matplotlib.pyplot as plt

    _require_columns(runs, {"group", "benchmark", "median"}, "runs", "plot_history")
    groups = sorted(runs["group"].unique())
    fig, axes = plt.subplots(
        max(len(groups), 1), 1, figsize=(6, 1.6 * max(len(groups), 1)), sharex=True, squeeze=False
    )
    for ax, group in zip(axes[:, 0], groups, strict=False):
        for name, g in runs[runs["group"] == group].groupby("benchmark"):
            rel = g["median"] / g["median"].iloc[0]
            ax.plot(np.arange(len(g)), rel, marker="o", ms=3, lw=1, label=str(name))
            for cp in changes[changes["benchmark"] == name].itertuples() if len(changes) else []:
                color = _VERDICT_COLORS["slower" if cp.direction == "increase" else "faster"]
                ax.axvline(cp.position - 0.5, color=color, ls="--", lw=0.8)
        ax.set_ylabel(group, fontsize="small")
        ax.legend(frameon=False, fontsize="xx-small", loc="upper left")
    axes[-1, 0].set_xlabel("stored revision (commit order)")
    fig.supylabel("median / first", fontsize="small")
    fig.tight_layout()
    return fig


def profile_links(
    profiles: dict[str, dict[str, Any]], root: str | os.PathLike[str], *, top: int = 3
) -> tuple[str, pd.DataFrame]:
    """Links to both sides' flame graphs, and the frames whose self time moved most.

    Parameters
    ----------
    profiles : dict
        :attr:`RevisionComparison.profiles` (benchmark -> ``base``/``head`` with an
        ``html`` path, and ``diff`` from :func:`diff_top_frames`).
    root : str or path-like
        Directory of the page that shows the links; links are relative to it.
    top : int, default 3
        Frames kept per benchmark.

    Returns
    -------
    links : str
        A Markdown list, one line per benchmark: ``- `name`: [BASE](...) · [HEAD](...)``.
    moved : DataFrame
        The first ``top`` rows of every ``diff`` with a ``benchmark`` column; empty
        without profiles.
    """
    lines, moved = [], []
    for name, p in profiles.items():
        rel = {side: os.path.relpath(p[side]["html"], root) for side in ("base", "head")}
        lines.append(f"- `{name}`: [BASE]({rel['base']}) · [HEAD]({rel['head']})")
        moved.append(p["diff"].head(top).assign(benchmark=name))
    table = pd.concat(moved, ignore_index=True) if moved else pd.DataFrame()
    return "\n".join(lines), table
