"""Estimate confidence intervals of a mean or median by the bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .._rng import RNGLike, as_generator
from .._validation import check_choice, check_int, check_real
from ._checks import check_sample

__all__ = ["CIResult", "bootstrap_ci"]

_STATISTICS: dict[str, Callable[..., Any]] = {"mean": np.mean, "median": np.median}


@dataclass(frozen=True)
class CIResult:
    """A bootstrap confidence interval, as returned by :func:`bootstrap_ci`.

    Attributes
    ----------
    statistic : float
        The statistic (mean or median) of the observed sample.
    low, high : float
        Bounds of the interval, ``low <= high``.
    confidence : float
        Confidence level of the two-sided interval, e.g. 0.95.
    method : str
        The interval method actually used: ``"BCa"`` or ``"percentile"``. A requested BCa
        interval falls back to percentile (same bootstrap distribution) when its bias or
        acceleration cannot be estimated, e.g. a median whose jackknife values are all equal.
    n : int
        Sample size.
    name : str
        Which statistic: ``"mean"`` or ``"median"``.
    standard_error : float
        Bootstrap standard error of the statistic (0 for a constant sample).
    """

    statistic: float
    low: float
    high: float
    confidence: float
    method: str
    n: int
    name: str
    standard_error: float


def bootstrap_ci(
    values: ArrayLike,
    *,
    statistic: str = "mean",
    confidence: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    rng: RNGLike = None,
) -> CIResult:
    """Bootstrap confidence interval of the mean or median of one sample.

    A thin wrapper of :func:`scipy.stats.bootstrap` [Efron1987]_ that validates the input,
    returns a documented result and handles degenerate samples without warnings.

    Parameters
    ----------
    values : array-like of shape (n,)
        The sample, e.g. final regrets of one planner over replicates; ``n >= 2`` finite
        values.
    statistic : {"mean", "median"}
        The statistic to bracket.
    confidence : float
        Confidence level in ``(0, 1)`` of the two-sided interval.
    n_resamples : int
        Number of bootstrap resamples, ``>= 100``.
    method : {"BCa", "percentile"}
        Bias-corrected and accelerated (second-order accurate, the default) or percentile.
    rng : None, int, SeedSequence or Generator
        Source of randomness for the resampling.

    Returns
    -------
    CIResult
        The observed statistic and the interval.

    Raises
    ------
    ValueError
        If ``values`` is not 1-D with at least two finite values, or an option is invalid.

    Notes
    -----
    A constant sample has a point-mass bootstrap distribution, so the interval collapses to
    ``[value, value]`` for every method; it is returned directly instead of calling SciPy
    (whose BCa would divide 0 by 0). When BCa is requested but undefined for a
    non-constant sample, the percentile interval of the same bootstrap distribution is
    returned and ``method`` says so.

    References
    ----------
    .. [Efron1987] B. Efron, "Better bootstrap confidence intervals", Journal of the
       American Statistical Association 82(397), 171-185, 1987.

    Examples
    --------
    >>> res = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 10.0], rng=0)
    >>> res.low < res.statistic < res.high
    True
    """
    owner = "bootstrap_ci"
    x = check_sample(values, "values", owner, min_n=2)
    name = check_choice(statistic, "statistic", tuple(_STATISTICS), owner=owner)
    level = check_real(
        confidence,
        "confidence",
        owner=owner,
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    resamples = check_int(n_resamples, "n_resamples", owner=owner, low=100)
    how = check_choice(method, "method", ("BCa", "percentile"), owner=owner)
    gen = as_generator(rng)
    func = _STATISTICS[name]
    point = float(func(x))
    if np.all(x == x[0]):
        return CIResult(point, point, point, level, how, x.size, name, 0.0)
    res = _scipy_bootstrap(x, func, level, resamples, how, gen, None)
    if how == "BCa" and not np.all(np.isfinite(res.confidence_interval)):
        how = "percentile"
        res = _scipy_bootstrap(x, func, level, 0, how, gen, res)
    low, high = (float(v) for v in res.confidence_interval)
    return CIResult(point, low, high, level, how, x.size, name, float(res.standard_error))


def _scipy_bootstrap(
    x: np.ndarray,
    func: Callable[..., Any],
    level: float,
    n_resamples: int,
    method: str,
    gen: np.random.Generator,
    previous: Any,
) -> Any:
    # Degenerate BCa (a jackknife of equal values, or every resample on one side of the
    # estimate) shows up as a NaN bound, which the caller handles; silence the 0/0 and
    # SciPy's DegenerateDataWarning that come with it.
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        return stats.bootstrap(
            (x,),
            func,
            n_resamples=n_resamples,
            confidence_level=level,
            method=method,
            rng=gen,
            bootstrap_result=previous,
        )
