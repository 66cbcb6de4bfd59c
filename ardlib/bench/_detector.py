"""How often does ``ardlib bench compare`` cry wolf, and how often does it catch a real
slowdown?  Measured, not assumed: A/A comparisons (the same code on both sides, each side
in its own fresh runner processes) give the false-positive rate; comparisons where HEAD
busy-waits an extra 5%, 10% or 25% of every call give the detection rate at each size."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from ._revisions import WORKTREE, compare_revisions

__all__ = ["DETECTOR_BENCHMARKS", "DetectorRates", "measure_detector"]

#: Cheap benchmarks (milliseconds per call) from several groups.
DETECTOR_BENCHMARKS = (
    "objective.evaluate[branin,m=10000]",
    "objective.evaluate[hartmann6,m=10000]",
    "objective.evaluate[michalewicz,m=10000]",
    "gp.predict[n=100,d=6,m=1000]",
    "gp.predict[n=200,d=6,m=1000]",
    "acquisition.optimize[n=50,d=6]",
)


@dataclass
class DetectorRates:
    """Outcome of :func:`measure_detector`.

    Attributes
    ----------
    table : DataFrame
        One row per injected slowdown (0 is the A/A case): ``slowdown``, ``trials``,
        ``flagged`` (verdict "slower"), ``rate`` and its 95% Clopper-Pearson interval
        ``ci_low``, ``ci_high``.
    trials : DataFrame
        Every comparison: ``slowdown``, ``pair`` (runner pair), ``benchmark``, ``ratio``,
        ``p_value``, ``verdict``.
    settings : dict
    """

    table: pd.DataFrame
    trials: pd.DataFrame
    settings: dict[str, object]


def measure_detector(
    *,
    benchmarks: Sequence[str] = DETECTOR_BENCHMARKS,
    slowdowns: Sequence[float] = (0.0, 0.05, 0.10, 0.25),
    pairs: int | Sequence[int] = 10,
    rounds: int = 12,
    repeat: int = 2,
    processes: int = 3,
    clock: str = "cpu",
    min_time: float = 0.02,
    alpha: float = 0.002,
    threshold: float = 0.10,
    repo: str | os.PathLike[str] = ".",
    progress: Callable[[str], None] | None = None,
) -> DetectorRates:
    """Run ``pairs`` fresh runner pairs per slowdown level, each comparing every benchmark
    in ``benchmarks`` (one trial per benchmark), with the same settings as
    ``ardlib bench compare``.

    Parameters
    ----------
    benchmarks : sequence of str
        Registered benchmarks compared in every pair (one trial each).
    slowdowns : sequence of float
        Injected HEAD slowdowns; 0 gives A/A trials (false positives).
    pairs : int or sequence of int
        Runner pairs per level (one number for all levels, or one per level).
    rounds, repeat, processes, clock, min_time, alpha, threshold
        As in :func:`~ardlib.bench.compare_revisions`.
    repo : str or path-like, default "."
        The git repository whose working tree is measured.
    progress : callable, optional
        Called with a line of text after each pair.

    Returns
    -------
    DetectorRates
    """
    levels = list(slowdowns)
    per_level = [pairs] * len(levels) if isinstance(pairs, int) else list(pairs)
    if len(per_level) != len(levels) or min(per_level, default=0) < 1:
        raise ValueError(
            "The 'pairs' parameter of measure_detector must be a positive int or one "
            f"positive int per slowdown level ({len(levels)}). Got {pairs!r}."
        )
    if any(s < 0 for s in levels):
        raise ValueError(
            f"The 'slowdowns' parameter of measure_detector must be >= 0. Got {levels}."
        )
    rows = []
    for level, n_pairs in zip(levels, per_level, strict=True):
        for pair in range(n_pairs):
            result = compare_revisions(
                WORKTREE,
                WORKTREE,
                repo=repo,
                benchmarks=benchmarks,
                rounds=rounds,
                repeat=repeat,
                processes=processes,
                clock=clock,
                min_time=min_time,
                alpha=alpha,
                threshold=threshold,
                head_slowdown=level,
            )
            for rec in result.table.to_dict(orient="records"):
                rows.append(
                    {
                        "slowdown": level,
                        "pair": pair,
                        "benchmark": rec["benchmark"],
                        "ratio": rec["ratio"],
                        "p_value": rec["p_value"],
                        "verdict": rec["verdict"],
                    }
                )
            if progress:
                flagged = sum(r["verdict"] == "slower" for r in rows if r["slowdown"] == level)
                done = sum(r["slowdown"] == level for r in rows)
                progress(
                    f"slowdown {level:.0%}: pair {pair + 1}/{n_pairs}, {flagged}/{done} flagged"
                )
    trials = pd.DataFrame(rows)
    unavailable = trials[trials["verdict"] == "unavailable"]
    if len(unavailable):
        raise RuntimeError(
            f"{len(unavailable)} detector trial(s) could not run: "
            f"{sorted(set(unavailable['benchmark']))}."
        )
    summary = []
    for value, g in trials.groupby("slowdown", sort=True):
        k, n = int((g["verdict"] == "slower").sum()), len(g)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        summary.append(
            {
                "slowdown": float(str(value)),
                "trials": n,
                "flagged": k,
                "rate": k / n,
                "ci_low": float(ci.low),
                "ci_high": float(ci.high),
            }
        )
    settings: dict[str, object] = {
        "benchmarks": list(benchmarks),
        "pairs": per_level,
        "rounds": rounds,
        "repeat": repeat,
        "processes": processes,
        "clock": clock,
        "min_time": min_time,
        "alpha": alpha,
        "threshold": threshold,
    }
    return DetectorRates(pd.DataFrame(summary), trials, settings)
