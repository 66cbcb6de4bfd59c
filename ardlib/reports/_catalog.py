"""The benchmark problem catalog: every registered problem and a check of its stored optimum.

For each problem with a known optimum, the objective is evaluated at every stored optimizer
and compared with the stored ``optimal_value``, in ulps (see :func:`problem_catalog`).
``notebooks/problems.ipynb`` presents it; :func:`write_catalog` writes the same metrics and a
plain HTML table without Jupyter.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..objectives import get_problem, list_problems
from ._index import report_record

__all__ = ["TITLE", "catalog_metrics", "plot_catalog_errors", "problem_catalog", "write_catalog"]

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


def _ulps(a: float, b: float) -> float:
    """Distance between two floats in units in the last place of ``max(|a|, |b|, 1)``.

    The floor at 1 keeps the measure meaningful for optima at 0, where the spacing of
    floats is subnormal and any rounding residue would count as billions of ulps.
    """
    return float(abs(a - b) / np.spacing(max(abs(a), abs(b), 1.0)))


def problem_catalog(max_ulps: float = 64.0) -> list[dict[str, Any]]:
    """One record per registered problem: metadata and the worst optimizer error in ulps.

    Records hold ``name``, ``dim``, ``goal``, ``optimal_value``, ``reference``,
    ``n_optimizers``, ``max_error_ulps`` (None without a known optimum) and ``ok``
    (``max_error_ulps <= max_ulps``; None without a known optimum; False for a NaN error).
    """
    rows = []
    for name in list_problems():
        p = get_problem(name)
        row: dict[str, Any] = {
            "name": name,
            "dim": p.dim,
            "goal": p.goal,
            "optimal_value": p.optimal_value,
            "reference": p.reference,
        }
        if p.optimal_value is not None and p.optimizers is not None:
            vals = p.evaluate_true(p.optimizers)
            err = max(_ulps(float(v), float(p.optimal_value)) for v in vals)
            row.update(
                n_optimizers=int(p.optimizers.shape[0]), max_error_ulps=err, ok=err <= max_ulps
            )
        else:
            row.update(n_optimizers=0, max_error_ulps=None, ok=None)
        rows.append(row)
    return rows


def _failed(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r["name"]) for r in rows if r["ok"] is False]


def catalog_metrics(rows: list[dict[str, Any]], max_ulps: float) -> dict[str, Any]:
    """The metrics JSON of the catalog: the index's ``"report"`` object, then the rows."""
    failed = _failed(rows)
    n_checked = sum(r["ok"] is not None for r in rows)
    summary = f"{len(rows)} problems, {n_checked} optima checked, {len(failed)} failed"
    if failed:
        summary += f" ({', '.join(failed)})"
    return {
        "report": report_record("problems", TITLE, passed=not failed, summary=summary),
        "max_error_ulps": max_ulps,
        "n_problems": len(rows),
        "n_failed": len(failed),
        "failed": failed,
        "problems": [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in rows
        ],
    }


def plot_catalog_errors(rows: list[dict[str, Any]], max_ulps: float) -> Any:
    """Horizontal bars of each checked problem's worst optimizer error, tolerance dashed.

    Symmetric-log x axis (linear below 1 ulp), so exact optima (0 ulps) stay visible.
    Returns the matplotlib Figure (created with pyplot, so notebooks display it).
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


def write_catalog(out_dir: str | Path = "reports", max_ulps: float = 64.0) -> dict[str, Any]:
    """Write ``<out_dir>/problems.html`` (a plain table) and ``metrics/problems.json``.

    The Jupyter-free form of ``notebooks/problems.ipynb``.  Returns the metrics.
    """
    out = Path(out_dir)
    rows = problem_catalog(max_ulps)
    metrics = catalog_metrics(rows, max_ulps)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    (out / "metrics" / "problems.json").write_text(json.dumps(metrics, indent=2) + "\n")
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for _, h in _COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(r[k]))}</td>" for k, _ in _COLUMNS) + "</tr>" for r in rows
    )
    (out / "problems.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>{e(TITLE)}</title>"
        "<h1>Benchmark problems and their verified optima</h1>"
        f"<p>{e(metrics['report']['summary'])}.</p>"
        f"<table border=1 cellpadding=4><tr>{head}</tr>\n{body}</table>\n"
    )
    return metrics
