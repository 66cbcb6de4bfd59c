"""Adjust a family of p-values for multiple testing (Holm's step-down procedure)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import float_array

__all__ = ["holm"]


def holm(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Holm-Bonferroni step-down adjusted p-values.

    Rejecting every hypothesis whose adjusted p-value is ``<= alpha`` is the same decision
    as Holm's sequentially rejective procedure at level ``alpha``, which controls the
    family-wise error rate under any dependence between the tests [Holm1979]_.

    Parameters
    ----------
    pvalues : array-like of shape (m,)
        Raw p-values in ``[0, 1]``, one per hypothesis of the family. ``m`` may be 0.

    Returns
    -------
    ndarray of shape (m,)
        Adjusted p-values, in the input order. With the raw p-values sorted ascending as
        ``p_(1) <= ... <= p_(m)``, ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``: at
        least the raw value, monotone in the raw value and capped at 1.

    Raises
    ------
    ValueError
        If ``pvalues`` is not 1-D or holds a value outside ``[0, 1]`` (NaN included).

    Notes
    -----
    Written by hand: SciPy has no Holm adjustment (``scipy.stats.false_discovery_control``
    covers only Benjamini-Hochberg/-Yekutieli) and statsmodels is not a dependency. Ties
    get equal adjusted values because of the running maximum.

    References
    ----------
    .. [Holm1979] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scandinavian Journal of Statistics 6(2), 65-70, 1979.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = float_array(pvalues, "pvalues", "a 1-D array of floats in [0, 1]", owner="holm")
    if p.ndim != 1:
        raise ValueError(
            "The 'pvalues' parameter of holm must be a 1-D array of floats in [0, 1]. "
            f"Got shape {p.shape}."
        )
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise ValueError(
            "The 'pvalues' parameter of holm must be a 1-D array of floats in [0, 1]; "
            f"entries {bad[:10].tolist()} are not (e.g. {float(p[bad[0]])!r})."
        )
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out
