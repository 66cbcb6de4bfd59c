"""Input checks shared by the whole package, with one message shape.

Messages follow scikit-learn's parameter validation: ``"The 'xi' parameter of
ExpectedImprovement must be a float >= 0. Got -1."``  Errors always name the argument and
state the expectation; nothing is coerced silently beyond dtype conversion to float.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "check_bounds",
    "check_choice",
    "check_int",
    "check_points",
    "check_real",
    "check_values",
    "float_array",
]


def _owner(owner: str | None) -> str:
    return f" of {owner}" if owner else ""


def float_array(
    value: Any, name: str, want: str, *, owner: str | None = None
) -> NDArray[np.float64]:
    """Return ``np.asarray(value, dtype=float)``, or raise: the argument must be ``want``."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be {want}. Got {type(value).__name__}."
        ) from exc


def _condition(low: str | None, high: str | None) -> str:
    """`` >= 0 and <= 1``-style suffix of an error message (empty without bounds)."""
    parts = [p for p in (low, high) if p is not None]
    return (" " + " and ".join(parts)) if parts else ""


def check_real(
    value: Any,
    name: str,
    *,
    owner: str | None = None,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite float inside the stated interval, or raise."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")
    if ok and np.isfinite(v):
        if low is not None and (v < low or (v == low and not low_inclusive)):
            ok = False
        if high is not None and (v > high or (v == high and not high_inclusive)):
            ok = False
    else:
        ok = False
    if not ok:
        lo = None if low is None else f"{'>=' if low_inclusive else '>'} {low:g}"
        hi = None if high is None else f"{'<=' if high_inclusive else '<'} {high:g}"
        cond = _condition(lo, hi)
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be a finite float{cond}. Got {value!r}."
        )
    return v


def check_int(
    value: Any,
    name: str,
    *,
    owner: str | None = None,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Return ``value`` as an int inside ``[low, high]``, or raise."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and ((low is not None and value < low) or (high is not None and value > high)):
        ok = False
    if not ok:
        cond = _condition(
            None if low is None else f">= {low}", None if high is None else f"<= {high}"
        )
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be an int{cond}. Got {value!r}."
        )
    return int(value)


def check_choice(
    value: Any, name: str, choices: tuple[str, ...], *, owner: str | None = None
) -> str:
    """Return ``value`` if it is one of ``choices``, or raise."""
    if not isinstance(value, str) or value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be one of {opts}. Got {value!r}."
        )
    return value


def check_bounds(
    bounds: ArrayLike, name: str = "bounds", *, owner: str | None = None
) -> NDArray[np.float64]:
    """Return bounds as a float array of shape ``(d, 2)`` with finite ``low < high``."""
    try:
        b = np.array(bounds, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be an array of shape (d, 2) of "
            f"finite floats (one [low, high] row per dimension). Got {bounds!r}."
        ) from exc
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be an array of shape (d, 2) "
            f"(one [low, high] row per dimension). Got shape {b.shape}."
        )
    if not np.all(np.isfinite(b)):
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be finite. Got {b.tolist()}.")
    bad = np.flatnonzero(b[:, 0] >= b[:, 1])
    if bad.size:
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must have low < high in every row; "
            f"rows {bad.tolist()} do not. Got {b.tolist()}."
        )
    return b


def check_points(
    X: ArrayLike,
    bounds: NDArray[np.float64] | None = None,
    *,
    name: str = "X",
    owner: str | None = None,
    atol: float = 1e-12,
) -> NDArray[np.float64]:
    """Return ``X`` as a finite float array of shape ``(n, d)``, inside ``bounds`` if given.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Points, one per row.
    bounds : ndarray of shape (d, 2), optional
        When given, the number of columns must be ``d`` and every point must lie inside
        the box (up to ``atol`` times the box width).
    """
    arr = float_array(X, name, "a numeric array of shape (n, d)", owner=owner)
    d = None if bounds is None else bounds.shape[0]
    want = f"(n, {d})" if d is not None else "(n, d)"
    if arr.ndim != 2 or (d is not None and arr.shape[1] != d):
        hint = " (use X.reshape(1, -1) for a single point)" if arr.ndim == 1 else ""
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be an array of shape {want}{hint}. "
            f"Got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be finite; rows {rows[:10].tolist()} "
            "hold NaN or infinity."
        )
    if bounds is not None and arr.size:
        tol = atol * (bounds[:, 1] - bounds[:, 0])
        outside = (arr < bounds[:, 0] - tol) | (arr > bounds[:, 1] + tol)
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise ValueError(
                f"The '{name}' parameter{_owner(owner)} must lie inside the bounds; row {r} "
                f"has column {c} = {arr[r, c]!r} outside [{bounds[c, 0]!r}, {bounds[c, 1]!r}] "
                f"({int(outside.any(axis=1).sum())} row(s) outside in all)."
            )
    return arr


def check_values(
    y: ArrayLike, n: int, *, name: str = "y", owner: str | None = None
) -> NDArray[np.float64]:
    """Return ``y`` as a float array of shape ``(n,)``; NaN allowed (failed runs), inf not."""
    arr = float_array(y, name, f"a numeric array of shape ({n},)", owner=owner)
    if arr.shape != (n,):
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must be an array of shape ({n},) "
            f"(one value per row of X). Got shape {arr.shape}."
        )
    if np.any(np.isinf(arr)):
        raise ValueError(
            f"The '{name}' parameter{_owner(owner)} must not hold infinity "
            "(use NaN for a failed experiment)."
        )
    return arr
