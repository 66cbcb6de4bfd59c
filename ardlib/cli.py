"""The ``ardlib`` command.

Subcommands:

- ``ardlib problems``: list registered benchmark problems with dimension, goal and optimum.
- ``ardlib report problems [--out DIR]``: check every problem's stored optimum (value at
  each optimizer against ``optimal_value``, in ulps) and write ``problems.html`` plus
  ``metrics/problems.json``; exits 1 when a check fails.
- ``ardlib report-all``: build every report (today: the problem catalog).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

import numpy as np

from .objectives import get_problem, list_problems

__all__ = ["main"]


def _ulps(a: float, b: float) -> float:
    """Distance between two floats in units in the last place of ``max(|a|, |b|, 1)``.

    The floor at 1 keeps the measure meaningful for optima at 0, where the spacing of
    floats is subnormal and any rounding residue would count as billions of ulps.
    """
    return float(abs(a - b) / np.spacing(max(abs(a), abs(b), 1.0)))


def problem_catalog(max_ulps: float = 64.0) -> list[dict[str, object]]:
    """One record per registered problem: metadata and the worst optimizer error in ulps."""
    rows = []
    for name in list_problems():
        p = get_problem(name)
        row: dict[str, object] = {
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


def _write_catalog(out: Path, max_ulps: float) -> int:
    rows = problem_catalog(max_ulps)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    failed = [r["name"] for r in rows if r["ok"] is False]
    metrics = {"problems": rows, "n_problems": len(rows), "n_failed": len(failed)}
    (out / "metrics" / "problems.json").write_text(json.dumps(metrics, indent=2) + "\n")
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(r[k]))}</td>"
            for k in (
                "name",
                "dim",
                "goal",
                "optimal_value",
                "n_optimizers",
                "max_error_ulps",
                "ok",
                "reference",
            )
        )
        + "</tr>\n"
        for r in rows
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "problem",
            "d",
            "goal",
            "optimal value",
            "optimizers",
            "max error (ulps)",
            "ok",
            "source",
        )
    )
    (out / "problems.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>ardlib problem catalog</title>"
        "<h1>Benchmark problems and their verified optima</h1>"
        f"<p>{len(rows)} problems; {len(failed)} failed checks.</p>"
        f"<table border=1 cellpadding=4><tr>{head}</tr>\n{cells}</table>\n"
    )
    print(f"wrote {out / 'problems.html'} ({len(rows)} problems, {len(failed)} failed)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ardlib`` command; returns the exit status."""
    ap = argparse.ArgumentParser(prog="ardlib", description="ardlib command line")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("problems", help="list registered benchmark problems")
    rep = sub.add_parser("report", help="build one report")
    rep.add_argument("name", choices=["problems"])
    rep.add_argument("--out", default="reports")
    rep.add_argument("--max-ulps", type=float, default=64.0, help="tolerance of the optimum check")
    allp = sub.add_parser("report-all", help="build every report")
    allp.add_argument("--out", default="reports")
    allp.add_argument("--max-ulps", type=float, default=64.0)
    args = ap.parse_args(argv)
    if args.cmd == "problems":
        for r in problem_catalog():
            print(f"{r['name']:<18} d={r['dim']:<3} {r['goal']:<9} optimum={r['optimal_value']}")
        return 0
    return _write_catalog(Path(args.out), args.max_ulps)


if __name__ == "__main__":
    sys.exit(main())
