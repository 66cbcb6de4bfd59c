"""Measure time to target: evaluations until a run first reaches a regret target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._frame import RUN_KEYS, check_results, listing

__all__ = ["ecdf_time_to_target", "time_to_target"]


def time_to_target(
    results: pd.DataFrame,
    *,
    target: float | Mapping[str, float],
    metric: str = "regret_oracle",
) -> pd.DataFrame:
    """Number of evaluations each run needs to first reach ``metric <= target``.

    The COCO runtime measure [Hansen2021]_: a run that reaches the target at 0-based step
    ``s`` needs ``s + 1`` evaluations; a run that never does within its budget is
    *right-censored*: ``evaluations`` is NaN and ``reached`` is False, and it must be kept
    (dropping it would make slow planners look fast).

    Parameters
    ----------
    results : DataFrame
        Tidy study results with columns ``problem``, ``noise``, ``planner``,
        ``replicate``, ``step`` (0-based, every step ``0 .. budget - 1`` of a run present)
        and ``metric``.
    target : float or mapping of str to float
        Target value (``>= 0`` for regret), or one per problem name. Regret scales differ
        between problems, so per-problem targets are usual.
    metric : str
        Column to test, lower is better. The default ``"regret_oracle"`` (true regret of
        the best point evaluated so far) is non-increasing, so "first reached" is also
        "reached for good"; for ``"regret_rec"`` it is only the first time.

    Returns
    -------
    DataFrame
        One row per run, sorted by run, with columns ``problem``, ``noise``, ``planner``,
        ``replicate``, ``target``, ``evaluations`` (float; NaN if censored), ``reached``
        (bool) and ``budget`` (int, number of evaluations of the run).

    Raises
    ------
    ValueError
        If columns are missing, a run has duplicated or missing steps, the target is
        negative or not finite, or a problem has no target in the mapping.

    Notes
    -----
    A NaN value of ``metric`` (e.g. every experiment so far failed) does not reach the
    target.

    References
    ----------
    .. [Hansen2021] N. Hansen, A. Auger, R. Ros, O. Mersmann, T. Tušar and D. Brockhoff,
       "COCO: a platform for comparing continuous optimizers in a black-box setting",
       Optimization Methods and Software 36(1), 114-144, 2021.
    """
    owner = "time_to_target"
    df = check_results(results, owner, metric)
    targets = _targets(target, df["problem"], owner)
    runs = df.groupby(list(RUN_KEYS), sort=True)
    stats = runs["step"].agg(["count", "max"])
    gappy = stats[stats["count"] != stats["max"] + 1]
    if len(gappy):
        raise ValueError(
            f"The 'results' parameter of {owner} must hold every step 0 .. budget-1 of each "
            f"run; these runs have gaps: {listing(gappy.index)}."
        )
    df = df.assign(_target=targets.to_numpy(), _hit=df[metric].to_numpy() <= targets.to_numpy())
    first = df[df["_hit"]].groupby(list(RUN_KEYS), sort=True)["step"].min()
    out = stats.index.to_frame(index=False)
    per_run_target = df.groupby(list(RUN_KEYS), sort=True)["_target"].first()
    out["target"] = per_run_target.to_numpy()
    hit = first.reindex(stats.index)
    out["evaluations"] = (hit + 1).to_numpy(dtype=float)
    out["reached"] = hit.notna().to_numpy()
    out["budget"] = (stats["max"] + 1).to_numpy(dtype=int)
    return out


def ecdf_time_to_target(
    results: pd.DataFrame,
    *,
    target: float | Mapping[str, float],
    metric: str = "regret_oracle",
    by: Sequence[str] = ("problem", "noise", "planner"),
) -> pd.DataFrame:
    """Empirical CDF of the time to target: fraction of runs done within ``e`` evaluations.

    For each group of runs and each evaluation count ``e = 1 .. E`` (``E`` the largest
    budget in the group), ``fraction = (number of runs with evaluations <= e) / (number
    of runs)``. Censored runs (target never reached) stay in the denominator and never in
    the numerator, as in COCO's runtime ECDFs [Hansen2021]_, so the curve of a group with
    failures stays below 1.

    Parameters
    ----------
    results : DataFrame
        Tidy study results, as for :func:`time_to_target`.
    target : float or mapping of str to float
        Target, or one per problem name.
    metric : str
        Column to test, lower is better.
    by : sequence of str
        Columns among ``problem``, ``noise``, ``planner`` that define a curve; e.g.
        ``("planner",)`` pools the runs of all problems and noise levels (COCO-style
        aggregation, with a per-problem ``target``).

    Returns
    -------
    DataFrame
        One row per group and evaluation count, with the ``by`` columns, ``evaluations``
        (int, 1-based), ``n_reached`` (runs done within that many evaluations), ``n_runs``
        (all runs of the group, censored included) and ``fraction`` in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``by`` names other columns, or for the reasons of :func:`time_to_target`.
    """
    allowed = ("problem", "noise", "planner")
    keys = list(by) if not isinstance(by, str) else [by]
    if not keys or any(k not in allowed for k in keys) or len(set(keys)) != len(keys):
        raise ValueError(
            f"The 'by' parameter of ecdf_time_to_target must be a non-empty sequence of "
            f"distinct names among {list(allowed)}. Got {by!r}."
        )
    ttt = time_to_target(results, target=target, metric=metric)
    frames = []
    for key, grp in ttt.groupby(keys, sort=True):
        grid = np.arange(1, int(grp["budget"].max()) + 1)
        done = np.sort(grp["evaluations"].to_numpy()[grp["reached"].to_numpy()])
        n_reached = np.searchsorted(done, grid, side="right")
        frame = pd.DataFrame({k: [v] * grid.size for k, v in zip(keys, key, strict=True)})
        frame["evaluations"] = grid
        frame["n_reached"] = n_reached
        frame["n_runs"] = len(grp)
        frame["fraction"] = n_reached / len(grp)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _targets(target: Any, problems: pd.Series, owner: str) -> pd.Series:
    def check(value: Any, where: str) -> float:
        ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )
        if not ok or not np.isfinite(value) or value < 0:
            raise ValueError(
                f"The 'target' parameter of {owner} must be a finite float >= 0{where}. "
                f"Got {value!r}."
            )
        return float(value)

    if isinstance(target, Mapping):
        missing = sorted(set(problems) - set(target))
        if missing:
            raise ValueError(
                f"The 'target' parameter of {owner} must give a target for every problem; "
                f"missing: {missing}."
            )
        values = {p: check(target[p], f" (problem {p!r})") for p in set(problems)}
        return problems.map(values).astype(float)
    return pd.Series(check(target, ""), index=problems.index)
