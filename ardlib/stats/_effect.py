"""Measure effect sizes: the Vargha-Delaney A12 and its magnitude label."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from ._checks import check_sample

__all__ = ["A12_THRESHOLDS", "a12", "a12_magnitude"]

#: Lower edges of the "small", "medium" and "large" classes on ``max(A, 1 - A)``; they
#: correspond to Cohen's d = 0.2, 0.5 and 0.8 for normal data [VarghaDelaney2000]_.
A12_THRESHOLDS: tuple[float, float, float] = (0.56, 0.64, 0.71)


def a12(x: ArrayLike, y: ArrayLike) -> float:
    """Vargha-Delaney A12: the probability that a draw of ``x`` exceeds a draw of ``y``.

    ``A12 = P(X > Y) + 0.5 P(X = Y)``, estimated over all ``n * m`` pairs of the two samples
    [VarghaDelaney2000]_. It is 0.5 when neither sample tends to be larger, 1 when every
    value of ``x`` exceeds every value of ``y`` and 0 in the reverse case.

    **Direction for regret (lower is better): A12 < 0.5 means ``x`` is better.** For
    ``a12(regret_a, regret_b) = 0.2``, a run of planner a beats a run of planner b with
    probability ``1 - 0.2 = 0.8`` (ties counted half).

    Parameters
    ----------
    x : array-like of shape (n,)
        First sample, finite values, ``n >= 1``.
    y : array-like of shape (m,)
        Second sample, finite values, ``m >= 1``.

    Returns
    -------
    float
        A12 in ``[0, 1]``.

    Raises
    ------
    ValueError
        If a sample is not 1-D, is empty or holds NaN or infinity.

    See Also
    --------
    a12_magnitude : the negligible/small/medium/large label.

    Notes
    -----
    Computed from mid-ranks of the pooled sample, ``A12 = (R_x / n - (n + 1) / 2) / m``
    with ``R_x`` the rank sum of ``x``, which is the Mann-Whitney ``U_x / (n m)`` in
    ``O((n + m) log(n + m))`` rather than the ``O(n m)`` pair count. A12 ignores any pairing:
    on paired replicates it compares the two marginal distributions.

    References
    ----------
    .. [VarghaDelaney2000] A. Vargha and H. D. Delaney, "A critique and improvement of the
       CL common language effect size statistics of McGraw and Wong", Journal of
       Educational and Behavioral Statistics 25(2), 101-132, 2000.

    Examples
    --------
    >>> a12([1.0, 2.0], [3.0, 4.0])
    0.0
    >>> a12([1.0, 2.0], [2.0, 1.0])
    0.5
    """
    xa = check_sample(x, "x", "a12")
    ya = check_sample(y, "y", "a12")
    n, m = xa.size, ya.size
    ranks = stats.rankdata(np.concatenate([xa, ya]))
    value = (ranks[:n].sum() / n - (n + 1) / 2) / m
    # Clip float round-off so that fully separated samples give exactly 0 or 1.
    return float(min(1.0, max(0.0, value)))


def a12_magnitude(a: Any) -> str:
    """Label an A12 value as ``"negligible"``, ``"small"``, ``"medium"`` or ``"large"``.

    The label depends on ``max(A, 1 - A)`` only, so it does not say who is better: below
    0.56 is negligible, from 0.56 small, from 0.64 medium and from 0.71 large
    [VarghaDelaney2000]_ (see :data:`A12_THRESHOLDS`).

    Parameters
    ----------
    a : float
        An A12 value in ``[0, 1]``.

    Returns
    -------
    str
        The magnitude label.

    Raises
    ------
    ValueError
        If ``a`` is not a finite float in ``[0, 1]``.

    Examples
    --------
    >>> a12_magnitude(0.3), a12_magnitude(0.5), a12_magnitude(0.6)
    ('medium', 'negligible', 'small')
    """
    if (
        not isinstance(a, numbers.Real)
        or isinstance(a, bool)
        or not np.isfinite(float(a))
        or not 0.0 <= float(a) <= 1.0
    ):
        raise ValueError(
            f"The 'a' parameter of a12_magnitude must be a finite float >= 0 and <= 1. Got {a!r}."
        )
    # Measure the distance from 0.5 so that A and 1 - A get the same label despite
    # float round-off (1 - 0.44 is 0.5599999999999999); 1e-9 absorbs that round-off.
    dist = abs(float(a) - 0.5) + 1e-9
    labels = ("negligible", "small", "medium", "large")
    return labels[sum(dist >= t - 0.5 for t in A12_THRESHOLDS)]
