"""Compare planners pairwise over a study, with a family-wise error guarantee."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator
from .._validation import check_int, check_real
from ._bootstrap import bootstrap_ci
from ._effect import a12_magnitude
from ._frame import CELL_KEYS, check_paired, check_results, select_step
from ._holm import holm
from ._paired import MIN_PAIRS, paired_test

__all__ = ["Comparison", "compare_planners", "holm_across"]

TABLE_COLUMNS = (
    "problem",
    "noise",
    "planner_a",
    "planner_b",
    "n",
    "median_diff",
    "statistic",
    "p_value",
    "p_holm",
    "a12",
    "magnitude",
    "significant",
    "winner",
)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Pairwise planner comparisons of one study, as returned by :func:`compare_planners`.

    Attributes
    ----------
    table : DataFrame
        One row per comparison, sorted by problem, noise, planner_a, planner_b, with columns

        - ``problem``, ``noise``: the cell;
        - ``planner_a``, ``planner_b``: the compared planners (``planner_b`` is the
          baseline when one is given);
        - ``n``: number of paired replicates;
        - ``median_diff``: median over replicates of ``a - b`` (negative: a lower);
        - ``statistic``, ``p_value``: two-sided Wilcoxon signed-rank test
          (:func:`paired_test`);
        - ``p_holm``: Holm-adjusted p-value over *all* rows of the table (:func:`holm`),
          or over every row of several tables after :func:`holm_across`;
        - ``a12``: Vargha-Delaney ``P(a > b) + 0.5 P(a = b)`` (:func:`a12`). **For regret,
          a12 < 0.5 means planner_a is better**;
        - ``magnitude``: :func:`a12_magnitude` of ``a12``;
        - ``significant``: ``p_holm <= alpha``;
        - ``winner``: when significant, the planner with the lower values (the direction
          of the signed-rank sums), else missing (NaN).
    summary : DataFrame
        One row per (problem, noise, planner): ``n``, ``mean`` with ``mean_low`` and
        ``mean_high``, ``median`` with ``median_low`` and ``median_high`` (bootstrap CIs,
        :func:`bootstrap_ci`; NaN bounds when ``ci=False``), ``confidence``.
    metric : str
        The compared column.
    step : int or None
        The compared step (``None``: the final step of every run).
    alpha : float
        Family-wise error rate of the ``significant`` column.
    baseline : str or None
        The baseline planner, or ``None`` for all pairs.
    family_size : int or None
        Size of the Holm family when it spans several tables (:func:`holm_across`);
        None when it is this table.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    metric: str
    step: int | None
    alpha: float
    baseline: str | None
    family_size: int | None = None

    @property
    def n_comparisons(self) -> int:
        """Size of the family that the Holm correction covers."""
        return len(self.table) if self.family_size is None else self.family_size


def compare_planners(
    results: pd.DataFrame,
    *,
    metric: str = "regret_rec",
    step: int | None = None,
    baseline: str | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    ci: bool = True,
    rng: RNGLike = None,
) -> Comparison:
    """Compare planners on paired replicates, per (problem, noise), with Holm correction.

    For every (problem, noise) cell and every pair of planners (or every planner against
    ``baseline``), the values of ``metric`` at ``step`` are matched by replicate and
    compared by a two-sided Wilcoxon signed-rank test (:func:`paired_test`). All p-values
    of the study form one family, adjusted by Holm's procedure [Holm1979]_, so the
    probability of declaring any difference between planners that are in fact
    equivalent is at most ``alpha`` across every problem, noise level and pair.

    Parameters
    ----------
    results : DataFrame
        Tidy study results with columns ``problem``, ``noise``, ``planner``, ``replicate``
        (int), ``step`` (int, 0-based) and ``metric``; one row per (problem, noise,
        planner, replicate, step). Replicates with the same (problem, noise, replicate)
        are paired across planners (common random numbers).
    metric : str
        Column to compare, lower is better: ``"regret_rec"`` (regret of the recommended
        point, the default) or ``"regret_oracle"`` (best evaluated point). Never the best
        noisy observation.
    step : int, optional
        Step to compare. ``None`` takes the final step of each run and requires all runs
        of a cell to share it (same budget).
    baseline : str, optional
        Compare every other planner with this one only (``planner_b`` = baseline); by
        default all unordered pairs, named in sorted order.
    alpha : float
        Family-wise error rate in ``(0, 1)``.
    confidence : float
        Confidence level of the summary's bootstrap intervals.
    n_resamples : int
        Bootstrap resamples per interval.
    ci : bool
        Compute the summary's bootstrap intervals (set False for speed in simulations).
    rng : None, int, SeedSequence or Generator
        Randomness for the bootstrap intervals; the tests themselves are deterministic.

    Returns
    -------
    Comparison
        ``.table`` (one row per comparison) and ``.summary`` (one row per planner and
        cell); see :class:`Comparison` for the columns.

    Raises
    ------
    ValueError
        If columns are missing, a run is duplicated or ends early, a value is NaN, the
        replicates are not paired (the message lists the missing (problem, noise,
        planner, replicate)), a cell has fewer than 6 replicates or one planner, or the
        baseline is absent.

    Notes
    -----
    Size the study for its family: with ``n`` paired replicates the smallest two-sided
    p-value is ``2 / 2**n``, and Holm needs ``p <= alpha / m`` for the best of ``m``
    comparisons, so nothing can be significant unless ``2 / 2**n <= alpha / m``. At
    ``alpha = 0.05``, 10 replicates allow at most 25 comparisons, 15 about 800 (see
    :func:`replicates_for_power` for power).

    A cell with a single planner adds no comparison (its summary row remains).

    References
    ----------
    .. [Holm1979] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scandinavian Journal of Statistics 6(2), 65-70, 1979.
    """
    owner = "compare_planners"
    unit: dict[str, Any] = {"low": 0.0, "high": 1.0, "low_inclusive": False}
    level = check_real(alpha, "alpha", owner=owner, **unit, high_inclusive=False)
    conf = check_real(confidence, "confidence", owner=owner, **unit, high_inclusive=False)
    resamples = check_int(n_resamples, "n_resamples", owner=owner, low=100)
    if baseline is not None and not isinstance(baseline, str):
        raise ValueError(
            f"The 'baseline' parameter of {owner} must be None or a planner name. Got {baseline!r}."
        )
    final = select_step(check_results(results, owner, metric), step, metric, owner)
    if final.empty:
        raise ValueError(f"The 'results' parameter of {owner} must not be empty.")
    check_paired(final, owner, required=() if baseline is None else (baseline,))
    rows = [
        row
        for key, cell in final.groupby(list(CELL_KEYS), sort=True)
        for row in _compare_cell(cell, key, metric, baseline)
    ]
    if not rows:
        raise ValueError(
            f"The 'results' parameter of {owner} must have at least two planners in a "
            "(problem, noise) cell."
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["significant"] = table["p_holm"] <= level
    table["winner"] = table["winner"].where(table["significant"], None)
    summary = _summarize(final, metric, conf, resamples if ci else 0, as_generator(rng))
    return Comparison(table, summary, metric, None if step is None else int(step), level, baseline)


def _compare_cell(
    cell: pd.DataFrame, key: Any, metric: str, baseline: str | None
) -> list[dict[str, Any]]:
    wide = cell.pivot(index="replicate", columns="planner", values=metric)
    planners = sorted(wide.columns)
    if baseline is None:
        pairs = list(itertools.combinations(planners, 2))
    else:
        pairs = [(p, baseline) for p in planners if p != baseline]
    if pairs and len(wide) < MIN_PAIRS:
        raise ValueError(
            f"The 'results' parameter of compare_planners must have at least {MIN_PAIRS} "
            f"paired replicates per (problem, noise) cell; cell {tuple(key)} has {len(wide)}."
        )
    out = []
    for a, b in pairs:
        res = paired_test(wide[a].to_numpy(), wide[b].to_numpy())
        out.append(
            {
                "problem": key[0],
                "noise": key[1],
                "planner_a": a,
                "planner_b": b,
                "n": res.n,
                "median_diff": res.median_diff,
                "statistic": res.statistic,
                "p_value": res.p_value,
                "p_holm": np.nan,
                "a12": res.a12,
                "magnitude": a12_magnitude(res.a12),
                "significant": False,
                # Direction from the signed-rank sums, i.e. from the test itself.
                "winner": a if res.r_minus > res.r_plus else b,
            }
        )
    return out


def _summarize(
    final: pd.DataFrame, metric: str, confidence: float, n_resamples: int, gen: np.random.Generator
) -> pd.DataFrame:
    # n_resamples == 0: point estimates only, NaN bounds.
    rows = []
    for (problem, noise, planner), grp in final.groupby([*CELL_KEYS, "planner"], sort=True):
        values = grp[metric].to_numpy(dtype=float)
        row: dict[str, Any] = {"problem": problem, "noise": noise, "planner": planner}
        row["n"] = values.size
        for name, func in (("mean", np.mean), ("median", np.median)):
            low = high = np.nan
            if n_resamples:
                res = bootstrap_ci(
                    values,
                    statistic=name,
                    confidence=confidence,
                    n_resamples=n_resamples,
                    rng=gen,
                )
                low, high = res.low, res.high
            row |= {name: float(func(values)), f"{name}_low": low, f"{name}_high": high}
        row["confidence"] = confidence
        rows.append(row)
    return pd.DataFrame(rows)


def holm_across(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The same comparisons with one Holm family over all their rows.

    A report that draws conclusions from several studies (the lab problems, say) controls
    the family-wise error over all of them only when the correction spans every
    comparison it states; corrected study by study, each study's claims hold at
    ``alpha`` but the section's do not.

    Parameters
    ----------
    comparisons : sequence of Comparison
        From :func:`compare_planners`, all at the same ``alpha``.

    Returns
    -------
    list of Comparison
        In the given order, with ``p_holm``, ``significant`` and ``winner`` recomputed over
        the whole family and ``family_size`` set.  Holm's adjusted p-values only grow when
        the family grows, so a row significant now was significant in its own table and
        keeps its winner.

    Raises
    ------
    ValueError
        If ``comparisons`` is empty or mixes ``alpha`` levels.
    """
    items = list(comparisons)
    levels = {c.alpha for c in items}
    if not items or len(levels) != 1:
        raise ValueError(
            "The 'comparisons' parameter of holm_across must be a non-empty sequence of "
            f"Comparisons at one alpha. Got {len(items)} at alpha {sorted(levels)}."
        )
    sizes = [len(c.table) for c in items]
    adjusted = holm(np.concatenate([c.table["p_value"].to_numpy(dtype=float) for c in items]))
    out, start = [], 0
    for comp, size in zip(items, sizes, strict=True):
        table = comp.table.copy()
        table["p_holm"] = adjusted[start : start + size]
        table["significant"] = table["p_holm"] <= comp.alpha
        table["winner"] = table["winner"].where(table["significant"], None)
        out.append(replace(comp, table=table, family_size=int(sum(sizes))))
        start += size
    return out
