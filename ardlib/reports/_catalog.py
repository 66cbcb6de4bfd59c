"""The benchmark problem catalog: every registered problem and a check of its stored optimum.

For each problem with a known optimum, the objective is evaluated at every stored optimizer
and compared with the stored ``optimal_value``, in ulps (see :func:`problem_catalog`).
``notebooks/problems.ipynb`` presents it; :func:`write_catalog` writes the same metrics and a
plain HTML table without Jupyter.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._io import write_atomic
from ..objectives import check_ground_truth, get_problem, list_problems
from ._report import Report

__all__ = ["TITLE", "plot_catalog_errors", "problem_catalog", "record_catalog", "write_catalog"]

TITLE = "Benchmark problem catalog"
_COLUMNS = (
    ("name", "problem"),
    ("dim", "d"),
    ("goal", "goal"),
    ("optimal_value", "optimal value"),
    ("n_optimizers", "optimizers"),
    ("max_error_ulps", "max error (ulps)"),
    ("ok", "ok"),
    ("reference", "source"),
)


def problem_catalog(max_ulps: float = 64.0) -> list[dict[str, Any]]:
    """One record per registered problem: metadata and the worst optimizer error in ulps.

    The error is :attr:`ardlib.objectives.GroundTruthCheck.optimum_ulps_stored` (the one
    tolerance rule of :func:`ardlib.objectives.ulps`).

    Parameters
    ----------
    max_ulps : float, default 64.0
        Tolerance of the optimum check.

    Returns
    -------
    list of dict
        ``name``, ``dim``, ``goal``, ``optimal_value``, ``reference``, ``n_optimizers``,
        ``max_error_ulps`` (None without a known optimum) and ``ok`` (``max_error_ulps <=
        max_ulps``; None without a known optimum; False for a NaN error).
    """
    rows = []
    for name in list_problems():
        p = get_problem(name)
        err = check_ground_truth(name, max_ulps=max_ulps, n_points=0).optimum_ulps_stored
        rows.append(
            {
                "name": name,
                "dim": p.dim,
                "goal": p.goal,
                "optimal_value": p.optimal_value,
                "reference": p.reference,
                "n_optimizers": 0 if err is None else int(np.asarray(p.optimizers).shape[0]),
                "max_error_ulps": err,
                "ok": None if err is None else bool(err <= max_ulps),
            }
        )
    return rows


def record_catalog(report: Report, rows: list[dict[str, Any]], max_ulps: float) -> str:
    """Record the catalog's metrics and its one check in ``report``.

    Parameters
    ----------
    report : Report
        The problems report being built.
    rows : list of dict
        :func:`problem_catalog` output.
    max_ulps : float
        The tolerance the rows were checked against.

    Returns
    -------
    str
        The summary line for the index, e.g. ``"20 problems, 17 optima checked, 0 failed"``.
    """
    failed = [str(r["name"]) for r in rows if r["ok"] is False]
    n_checked = sum(r["ok"] is not None for r in rows)
    summary = f"{len(rows)} problems, {n_checked} optima checked, {len(failed)} failed"
    if failed:
        summary += f" ({', '.join(failed)})"
    report.check(f"stored optima within {max_ulps:g} ulps", not failed, summary)
    report.metric("max_error_ulps", max_ulps)
    report.metric("n_problems", len(rows))
    report.metric("n_failed", len(failed))
    report.metric("failed", failed)
    report.metric(
        "problems",
        [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in rows
        ],
    )
    return summary


def plot_catalog_errors(rows: list[dict[str, Any]], max_ulps: float) -> Any:
    """Horizontal bars of each checked problem's worst optimizer error, tolerance dashed.

    Symmetric-log x axis (linear below 1 ulp), so exact optima (0 ulps) stay visible.
    Returns the matplotlib Figure (created with pyplot, so notebooks display it).

    Parameters
    ----------
    rows : list of dict
        :func:`problem_catalog` output.
    max_ulps : float
        The tolerance, drawn dashed.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    checked = [r for r in rows if r["max_error_ulps"] is not None]
    fig, ax = plt.subplots(figsize=(3.5, 0.16 * len(checked) + 0.8))
    names = [str(r["name"]) for r in checked]
    errs = [float(r["max_error_ulps"]) for r in checked]
    colors = ["#D55E00" if r["ok"] is False else "#0072B2" for r in checked]
    ax.barh(names, errs, color=colors, height=0.7)
    ax.axvline(max_ulps, color="#000000", linestyle="--", linewidth=0.8, label="tolerance")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(0, max(max_ulps, *errs, 1.0) * 4)
    ax.invert_yaxis()
    ax.set_xlabel("max error at stored optimizers (ulps)")
    ax.legend(loc="lower right")
    return fig


def write_catalog(out_dir: str | Path = "reports", max_ulps: float = 64.0) -> Report:
    """Write ``<out_dir>/problems.html`` (a plain table) and ``metrics/problems.json``.

    The Jupyter-free form of ``notebooks/problems.ipynb``, with the same metrics.

    Parameters
    ----------
    out_dir : str or path-like, default "reports"
        The reports folder.
    max_ulps : float, default 64.0
        Tolerance of the optimum check.

    Returns
    -------
    Report
        The finished report (its :attr:`Report.passed` is the verdict).
    """
    out = Path(out_dir)
    rows = problem_catalog(max_ulps)
    report = Report("problems", TITLE, metrics_path=out / "metrics" / "problems.json")
    summary = record_catalog(report, rows, max_ulps)
    report.finish(summary, raise_on_failure=False)
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for _, h in _COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(r[k]))}</td>" for k, _ in _COLUMNS) + "</tr>" for r in rows
    )
    write_atomic(
        out / "problems.html",
        f"<!doctype html><meta charset='utf-8'><title>{e(TITLE)}</title>"
        "<h1>Benchmark problems and their verified optima</h1>"
        f"<p>{e(summary)}.</p>"
        f"<table border=1 cellpadding=4><tr>{head}</tr>\n{body}</table>\n",
    )
    return report
