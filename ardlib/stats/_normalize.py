"""Normalize regret against a reference planner: 0 at the optimum, 1 at the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .._validation import check_choice, float_array
from ._frame import CELL_KEYS, RUN_KEYS, check_results, listing, select_step

__all__ = ["normalized_score", "normalized_scores"]

_ZERO = ("raise", "nan")


def normalized_score(
    regret: ArrayLike, *, reference: ArrayLike, zero_reference: str = "raise"
) -> NDArray[np.float64]:
    """Regret as a fraction of a reference regret: ``score = regret / reference``.

    0 is the optimum and 1 is the reference, typically random search's regret at the same
    budget, problem and noise, so 0.2 reads "80 % of random search's regret removed" and
    values above 1 are worse than the reference.

    Parameters
    ----------
    regret : array-like of shape (...)
        True regrets, finite and ``>= 0``.
    reference : array-like, broadcastable to the shape of ``regret``
        Reference regrets, finite and ``>= 0``.
    zero_reference : {"raise", "nan"}
        What a zero reference regret gives (the reference solved the problem, so there is
        no scale): an error (default) or NaN at those positions.

    Returns
    -------
    ndarray of the broadcast shape
        The scores, ``>= 0``.

    Raises
    ------
    ValueError
        If an input holds NaN, infinity or a negative value, the shapes do not broadcast,
        or a reference is 0 with ``zero_reference="raise"``.

    Examples
    --------
    >>> normalized_score([0.0, 0.5, 2.0], reference=1.0).tolist()
    [0.0, 0.5, 2.0]
    """
    owner = "normalized_score"
    how = check_choice(zero_reference, "zero_reference", _ZERO, owner=owner)
    r = _nonnegative(regret, "regret", owner)
    ref = _nonnegative(reference, "reference", owner)
    try:
        r, ref = np.broadcast_arrays(r, ref)
    except ValueError as exc:
        raise ValueError(
            f"The 'reference' parameter of {owner} must broadcast to the shape of 'regret' "
            f"{r.shape}. Got shape {ref.shape}."
        ) from exc
    zero = ref == 0
    if zero.any() and how == "raise":
        raise ValueError(
            f"The 'reference' parameter of {owner} must be > 0 (no scale when the reference "
            f"regret is 0); {int(zero.sum())} value(s) are 0. Pass zero_reference='nan' to "
            "get NaN there."
        )
    return np.divide(r, ref, out=np.full(r.shape, np.nan), where=~zero)


def normalized_scores(
    results: pd.DataFrame,
    *,
    reference_planner: str = "random",
    metric: str = "regret_rec",
    step: int | None = None,
    zero_reference: str = "raise",
) -> pd.DataFrame:
    """Normalized scores of every run against the mean regret of a reference planner.

    For each (problem, noise) cell the reference is the **mean** of ``metric`` over the
    reference planner's replicates at the same step (same budget); every run of the cell,
    the reference planner's included, is divided by it (:func:`normalized_score`).

    Parameters
    ----------
    results : DataFrame
        Tidy study results with columns ``problem``, ``noise``, ``planner``,
        ``replicate``, ``step`` and ``metric``.
    reference_planner : str
        Planner whose mean regret defines 1, present in every cell.
    metric : str
        Regret column: ``"regret_rec"`` (default) or ``"regret_oracle"``.
    step : int, optional
        Step to score; ``None`` takes the final step, which must be the same for every run
        of a cell.
    zero_reference : {"raise", "nan"}
        What a cell whose reference mean regret is 0 gives: an error or NaN scores.

    Returns
    -------
    DataFrame
        One row per run with ``problem``, ``noise``, ``planner``, ``replicate``, ``step``,
        ``metric`` (the value), ``reference`` (the cell's reference mean) and ``score``.

    Raises
    ------
    ValueError
        If the table is invalid, a cell lacks the reference planner, or a reference mean
        is 0 with ``zero_reference="raise"``.

    Notes
    -----
    Why the reference *mean* and not pairing by replicate: the normalization is a scale
    for the cell (random search's expected regret at that budget), not a test. A
    per-replicate ratio inherits the noise of one reference run, explodes or becomes
    undefined when that run is lucky (regret near or at 0), and its average is biased
    upward (Jensen: ``E[1/R] > 1/E[R]``). Paired comparisons belong to
    :func:`compare_planners`.
    """
    owner = "normalized_scores"
    check_choice(zero_reference, "zero_reference", _ZERO, owner=owner)
    if not isinstance(reference_planner, str):
        raise ValueError(
            f"The 'reference_planner' parameter of {owner} must be a planner name. "
            f"Got {reference_planner!r}."
        )
    final = select_step(check_results(results, owner, metric), step, metric, owner)
    ref = final[final["planner"] == reference_planner].groupby(list(CELL_KEYS))[metric].mean()
    cells = final[list(CELL_KEYS)].drop_duplicates()
    lacking = [tuple(c) for c in cells.itertuples(index=False) if tuple(c) not in ref.index]
    if lacking:
        raise ValueError(
            f"The 'reference_planner' parameter of {owner} is {reference_planner!r}, but "
            f"these (problem, noise) cells have no run of it: {listing(lacking)}."
        )
    out = final.loc[:, [*RUN_KEYS, "step", metric]].rename(columns={metric: "metric"})
    out["reference"] = ref.reindex(pd.MultiIndex.from_frame(final[list(CELL_KEYS)])).to_numpy()
    zero = out["reference"] == 0
    if zero.any() and zero_reference == "raise":
        cells_zero = out.loc[zero, list(CELL_KEYS)].drop_duplicates().itertuples(index=False)
        raise ValueError(
            f"The reference planner {reference_planner!r} of {owner} has mean regret 0 in "
            f"cells {listing(tuple(c) for c in cells_zero)}, so there is no scale. Pass "
            "zero_reference='nan' to get NaN scores there."
        )
    out["score"] = normalized_score(
        out["metric"].to_numpy(dtype=float),
        reference=out["reference"].to_numpy(dtype=float),
        zero_reference="nan",
    )
    return out


def _nonnegative(values: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    arr = float_array(values, name, "an array of finite floats >= 0", owner=owner)
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        raise ValueError(
            f"The '{name}' parameter of {owner} must be an array of finite floats >= 0; "
            f"{int(bad.sum())} value(s) are negative, NaN or infinite "
            f"(e.g. {float(arr[bad].flat[0])!r})."
        )
    return arr
