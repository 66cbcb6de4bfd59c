"""Validate the numeric inputs of :mod:`ardlib.stats`, with one message shape.

Messages follow :mod:`ardlib._validation`: ``"The 'x' parameter of paired_test must be a
1-D array with at least 6 finite values. Got shape (3,)."``  The public functions call these
helpers once, so the algorithms never re-check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import float_array

__all__ = ["check_pair", "check_sample"]


def check_sample(
    x: Any, name: str, owner: str, *, min_n: int = 1, want: str | None = None
) -> NDArray[np.float64]:
    """Return ``x`` as a 1-D float array of at least ``min_n`` finite values, or raise.

    ``want`` replaces the default wording of the expectation in the messages.
    """
    want = want or f"a 1-D array with at least {min_n} finite value{'s' if min_n != 1 else ''}"
    arr = float_array(x, name, want, owner=owner)
    if arr.ndim != 1 or arr.size < min_n:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be {want}. Got shape {arr.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be {want}; entries {bad[:10].tolist()} "
            f"({bad.size} in all) are NaN or infinite."
        )
    return arr


def check_pair(
    x: Any, y: Any, owner: str, *, min_n: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return paired samples ``x`` and ``y`` as 1-D float arrays of equal length, or raise."""
    xa = check_sample(x, "x", owner, min_n=min_n)
    ya = check_sample(y, "y", owner, min_n=min_n)
    if xa.shape != ya.shape:
        raise ValueError(
            f"The 'y' parameter of {owner} must have the same shape as 'x' (one value per "
            f"pair). Got shapes {xa.shape} and {ya.shape}."
        )
    return xa, ya
