"""Summarize a peer study: speed ratio and final-regret difference of ardlib against each peer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator
from .._validation import check_int
from ..stats import bootstrap_ci, paired_test
from ..stats._paired import MIN_PAIRS

__all__ = ["summarize_peers"]

_COLUMNS = ("problem", "planner", "seed", "step", "phase", "regret")


def summarize_peers(
    results: pd.DataFrame,
    *,
    reference: str = "ardlib",
    max_n: int = 100,
    time_column: str = "ask_ms",
    confidence: float = 0.95,
    rng: RNGLike = 0,
) -> pd.DataFrame:
    """Per problem and peer: ask-time ratio and final-regret difference, with intervals.

    Both are paired by seed (the planners of one seed share the initial design).

    * **Speed.** For each seed, the median ``time_column`` of the model-based steps conditioned
      on at most ``max_n`` observations, for the reference and for the peer; ``ratio`` is
      the median over seeds of reference / peer (below 1: the reference is faster), with a
      bootstrap interval of that median; ``speedup = 1 / ratio`` (interval inverted).
    * **Quality.** Final regret (best point after the whole budget) per seed;
      ``regret_diff`` is the median over seeds of reference - peer (negative: the reference
      is better) with a bootstrap interval; ``p_value`` is the two-sided paired Wilcoxon
      signed-rank test (:func:`ardlib.stats.paired_test`, Pratt's zeros), NaN below
      6 seeds.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`~ardlib.bench._peers.run_peer_study`.
    reference : str, default "ardlib"
        The planner compared against every other one.
    max_n : int, default 100
        Largest number of observations of a timed ask.
    time_column : str, default "ask_ms"
        ``"ask_ms"`` (wall time) or ``"ask_cpu_ms"`` (process CPU time).
    confidence : float, default 0.95
    rng : None, int, SeedSequence or Generator
        Source of the bootstrap resampling.

    Returns
    -------
    pandas.DataFrame
        One row per (problem, peer): ``n_seeds``, ``ask_ms_ref`` and ``ask_ms_peer``
        (median over seeds of the per-seed median), ``ratio``, ``ratio_low``,
        ``ratio_high``, ``speedup``, ``speedup_low``, ``speedup_high``,
        ``final_regret_ref``, ``final_regret_peer`` (medians), ``regret_diff``,
        ``regret_diff_low``, ``regret_diff_high``, ``p_value``, ``a12_paired`` (share of
        seeds where the reference ends worse, ties half) and ``worse`` (True when the
        reference is significantly worse at the 5 % level: ``p_value < 0.05`` and
        ``regret_diff > 0``).

    Raises
    ------
    ValueError
        If columns are missing or ``reference`` is not among the planners.
    """
    missing = [c for c in (*_COLUMNS, time_column) if c not in results.columns]
    if missing:
        raise ValueError(
            f"The 'results' parameter of summarize_peers must have the columns of "
            f"run_peer_study; missing {missing}."
        )
    if reference not in set(results["planner"]):
        raise ValueError(
            f"The 'reference' parameter of summarize_peers must name a planner of the "
            f"results {sorted(set(results['planner']))}. Got {reference!r}."
        )
    max_n = check_int(max_n, "max_n", owner="summarize_peers", low=1)
    gen = as_generator(rng)
    timed = results[(results["phase"] == "model") & (results["step"] <= max_n)]
    ask = timed.groupby(["problem", "planner", "seed"])[time_column].median()
    final = results.sort_values("step").groupby(["problem", "planner", "seed"])["regret"].last()
    rows = []
    for problem in pd.unique(results["problem"]):
        for peer in pd.unique(results["planner"]):
            if peer == reference:
                continue
            row = {"problem": problem, "peer": peer}
            row |= _speed(ask, problem, reference, peer, confidence, gen)
            row |= _quality(final, problem, reference, peer, confidence, gen)
            rows.append(row)
    return pd.DataFrame(rows)


def _paired(series: pd.Series, problem: str, ref: str, peer: str) -> tuple[np.ndarray, ...]:
    a, b = series.loc[(problem, ref)], series.loc[(problem, peer)]
    seeds = a.index.intersection(b.index)
    return a.loc[seeds].to_numpy(float), b.loc[seeds].to_numpy(float)


def _ci(values: np.ndarray, confidence: float, gen: np.random.Generator) -> tuple[float, ...]:
    if values.size < 2:
        v = float(np.median(values)) if values.size else np.nan
        return v, np.nan, np.nan
    res = bootstrap_ci(values, statistic="median", confidence=confidence, rng=gen)
    return res.statistic, res.low, res.high


def _speed(
    ask: pd.Series, problem: str, ref: str, peer: str, confidence: float, gen: np.random.Generator
) -> dict[str, Any]:
    a, b = _paired(ask, problem, ref, peer)
    ratio, low, high = _ci(a / b, confidence, gen)
    return {
        "n_seeds": int(a.size),
        "ask_ms_ref": float(np.median(a)),
        "ask_ms_peer": float(np.median(b)),
        "ratio": ratio,
        "ratio_low": low,
        "ratio_high": high,
        "speedup": 1.0 / ratio,
        "speedup_low": 1.0 / high,
        "speedup_high": 1.0 / low,
    }


def _quality(
    final: pd.Series, problem: str, ref: str, peer: str, confidence: float, gen: np.random.Generator
) -> dict[str, Any]:
    a, b = _paired(final, problem, ref, peer)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    diff, low, high = _ci(a - b, confidence, gen)
    p = a12 = np.nan
    if a.size >= MIN_PAIRS:
        test = paired_test(a, b)
        p, a12 = test.p_value, test.a12_paired
    return {
        "final_regret_ref": float(np.median(a)) if a.size else np.nan,
        "final_regret_peer": float(np.median(b)) if b.size else np.nan,
        "regret_diff": diff,
        "regret_diff_low": low,
        "regret_diff_high": high,
        "p_value": p,
        "a12_paired": a12,
        "worse": bool(p < 0.05 and diff > 0),
    }
