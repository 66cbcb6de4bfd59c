"""Compare final-regret distributions of a study with the baseline's, group by group.

A *group* is one (problem, noise, planner) of a study; its sample is the final value of
the metric (``regret_rec``: true regret of the recommended point) of every replicate.
Baseline and current runs are treated as independent samples (an unpaired design: a
rerun with fresh seeds shares nothing with the baseline), and compared by a two-sided
Mann-Whitney U test [MannWhitney1947]_.  The p-values of every compared group of a check
form one family, adjusted by Holm's procedure (:func:`ardlib.stats.holm`), so that an
honest rerun fails the check with probability at most ``alpha``.

A group *regressed* when its Holm-adjusted p-value is below ``alpha`` and the current
median is higher (worse); *improved* when it is below and the median lower; *changed*
when it is below but the medians are equal.  A run that never recommended a point (NaN
regret) counts as worse than any run that did (+inf).

When baseline and current share their seeds (the same master seed: common random
numbers), the samples are positively correlated; the unpaired test then overstates the
variance of the difference, so it stays valid (conservative), only less powerful.

References
----------
.. [MannWhitney1947] H. B. Mann and D. R. Whitney, "On a test of whether one of two random
   variables is stochastically larger than the other", Annals of Mathematical Statistics
   18(1), 50-60, 1947.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu

from .._validation import check_real
from ..stats import holm
from ._report import make_row, make_table

__all__ = ["GroupKey", "Sample", "compare_groups", "compare_regrets", "final_samples"]

GroupKey = tuple[str, str, str]
_RUN_KEYS = ["problem", "noise", "planner", "replicate"]


class Sample(NamedTuple):
    """Final values of one group: ``values`` by replicate (NaN as +inf), ``budget``."""

    values: NDArray[np.float64]
    budget: int


def _check_frame(results: Any, name: str, owner: str, metric: str) -> pd.DataFrame:
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"The '{name}' parameter of {owner} must be a pandas DataFrame of study results. "
            f"Got {type(results).__name__}."
        )
    want = [*_RUN_KEYS, "step", metric]
    missing = [c for c in want if c not in results.columns]
    if missing:
        raise ValueError(
            f"The '{name}' parameter of {owner} must have the columns {want}; {missing} are "
            f"missing. Got columns {list(results.columns)}."
        )
    if not pd.api.types.is_numeric_dtype(results[metric]):
        raise ValueError(
            f"The '{metric}' column of '{name}' in {owner} must be numeric. "
            f"Got dtype {results[metric].dtype}."
        )
    if results[_RUN_KEYS].isna().to_numpy().any():
        raise ValueError(
            f"The '{name}' parameter of {owner} must label every row with a problem, noise, "
            "planner and replicate; some labels are missing."
        )
    return results.loc[:, want]


def _runs_of(keys: list[tuple[Any, ...]]) -> list[tuple[int, int]]:
    """(start, stop) of each stretch of equal consecutive keys."""
    bounds = [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    edges = [0, *bounds, len(keys)]
    return [(a, b) for a, b in pairwise(edges) if b > a]


def _last_of_runs(cols: dict[str, NDArray[Any]], name: str, owner: str) -> NDArray[np.bool_]:
    """Mask of the last row of every run in rows sorted by run and step; rejects a run
    with two rows at one step."""
    n = cols["step"].size
    continues = np.zeros(n, dtype=bool)  # row i belongs to the run of row i - 1
    continues[1:] = True
    for c in _RUN_KEYS:
        continues[1:] &= cols[c][1:] == cols[c][:-1]
    if np.any(continues[1:] & (cols["step"][1:] == cols["step"][:-1])):
        raise ValueError(
            f"The '{name}' parameter of {owner} must have one row per (problem, noise, "
            "planner, replicate, step); some rows are duplicated."
        )
    return np.append(~continues[1:], True)


def final_samples(
    results: pd.DataFrame, *, metric: str = "regret_rec", name: str = "results", owner: str = ""
) -> dict[GroupKey, Sample]:
    """The final value of ``metric`` of every run, grouped by (problem, noise, planner).

    Parameters
    ----------
    results : DataFrame
        Tidy study results (one row per run and step, or only the final steps).
    metric : str
        Column to compare, lower is better.
    name, owner : str
        Argument and function named in error messages.

    Returns
    -------
    dict
        (problem, noise, planner) -> :class:`Sample`, values ordered by replicate.

    Raises
    ------
    ValueError
        If columns are missing, a run appears twice at one step, or the runs of a group
        end at different steps (different budgets).
    """
    owner = owner or "final_samples"
    df = _check_frame(results, name, owner, metric)
    if df.empty:
        return {}
    df = df.sort_values([*_RUN_KEYS, "step"], kind="stable")
    cols = {c: df[c].to_numpy() for c in [*_RUN_KEYS, "step"]}
    last = _last_of_runs(cols, name, owner)
    keys = list(zip(*(cols[c][last] for c in ("problem", "noise", "planner")), strict=True))
    steps, values = cols["step"][last], df[metric].to_numpy(dtype=float)[last]
    out: dict[GroupKey, Sample] = {}
    for start, stop in _runs_of(keys):
        key = (str(keys[start][0]), str(keys[start][1]), str(keys[start][2]))
        group_steps = np.unique(steps[start:stop])
        if group_steps.size != 1:
            raise ValueError(
                f"The runs of group {key} in '{name}' of {owner} end at different steps "
                f"{group_steps.tolist()}; every replicate needs the same budget."
            )
        v = values[start:stop]
        out[key] = Sample(np.where(np.isnan(v), np.inf, v), int(group_steps[0]) + 1)
    return out


def _mann_whitney(current: NDArray[np.float64], base: NDArray[np.float64]) -> tuple[float, float]:
    """(two-sided p-value, A12 of current vs baseline); p = 1 when every value is equal."""
    pooled = np.concatenate([current, base])
    if np.all(pooled == pooled[0]):
        return 1.0, 0.5
    res = mannwhitneyu(current, base, alternative="two-sided", method="auto")
    return float(res.pvalue), float(res.statistic) / (current.size * base.size)


def compare_groups(
    pairs: Mapping[str, tuple[NDArray[np.float64], NDArray[np.float64]]], alpha: float
) -> list[dict[str, Any]]:
    """Test every group and adjust over all of them: one verdict row per group.

    Parameters
    ----------
    pairs : mapping
        Row name -> (baseline values, current values), each an ndarray of shape (n,) or
        (m,) with n, m >= 1 (+inf allowed, NaN not).
    alpha : float
        Family-wise error rate.

    Returns
    -------
    list of dict
        Rows of kind ``"study"``: medians, sizes, A12, p-value, Holm p-value, verdict.
    """
    tested = {name: _mann_whitney(cur, base) for name, (base, cur) in pairs.items()}
    p_holm = holm(np.array([p for p, _ in tested.values()], dtype=float))
    rows = []
    for (name, (base, cur)), (p, effect), ph in zip(
        pairs.items(), tested.values(), p_holm, strict=True
    ):
        mb, mc = float(np.median(base)), float(np.median(cur))
        if not ph < alpha:
            verdict, detail = "pass", "no significant difference"
        elif mc > mb:
            verdict, detail = (
                "regressed",
                f"median regret {mc / mb:.3g}x the baseline's"
                if mb > 0
                else "median regret higher",
            )
        elif mc < mb:
            verdict, detail = "improved", "median regret lower"
        else:
            verdict, detail = "changed", "distribution differs, medians equal"
        if np.array_equal(base, cur):
            detail = "identical values"
        rows.append(
            make_row(
                "study",
                name,
                verdict,
                detail,
                baseline=mb,
                current=mc,
                n_baseline=base.size,
                n_current=cur.size,
                effect=effect,
                p_value=p,
                p_holm=float(ph),
            )
        )
    return rows


def compare_regrets(
    baseline: pd.DataFrame,
    current: pd.DataFrame,
    *,
    alpha: float = 0.01,
    metric: str = "regret_rec",
) -> pd.DataFrame:
    """Compare two study results tables group by group, as a check compares a study.

    Parameters
    ----------
    baseline, current : DataFrame
        Tidy study results with columns ``problem``, ``noise``, ``planner``,
        ``replicate``, ``step`` and ``metric`` (all steps, or the final step only); each
        run's last step is compared.  Their replicates need not match (unpaired).
    alpha : float, default 0.01
        Family-wise error rate over the groups present in both, in ``(0, 1)``.
    metric : str, default "regret_rec"
        Column compared, lower is better.

    Returns
    -------
    DataFrame
        The verdict table (columns of :attr:`RegressReport.table`), one row per group
        named ``"problem/noise/planner"``; groups in only one table are ``missing`` or
        ``new``, groups whose budgets differ ``incomparable``.

    Raises
    ------
    ValueError
        If ``alpha`` is not in ``(0, 1)``, or a table lacks a column or is malformed.
    """
    owner = "compare_regrets"
    level = check_real(
        alpha, "alpha", owner=owner, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    base = final_samples(baseline, metric=metric, name="baseline", owner=owner)
    cur = final_samples(current, metric=metric, name="current", owner=owner)
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    rows: list[dict[str, Any]] = []
    for key in sorted(set(base) | set(cur)):
        label = "/".join(key)
        if key not in cur:
            rows.append(make_row("study", label, "missing", "not in 'current'"))
        elif key not in base:
            rows.append(make_row("study", label, "new", "not in 'baseline'"))
        elif base[key].budget != cur[key].budget:
            detail = f"budget {base[key].budget} in the baseline, {cur[key].budget} now"
            rows.append(make_row("study", label, "incomparable", detail))
        else:
            pairs[label] = (base[key].values, cur[key].values)
    table = make_table(compare_groups(pairs, level) + rows)
    return table.sort_values("name", kind="stable").reset_index(drop=True)
