"""Reference values of the analytic problems: record them, and compare today's with them.

For every registered analytic problem (emulators have no closed form) the baseline keeps
its box, its ``optimal_value`` and ``evaluate_true`` at three fixed points of its box.
Each recorded value is first checked against the independent 50-digit implementation
(:func:`ardlib.objectives.reference_scale`), so a baseline can only pin a correct value.

Tolerance: ``reference_max_ulps`` (64) units in the last place of the value's *scale*,
``max(|f|, sum|terms| / 100, 1e-3)``, the one rule of :func:`ardlib.objectives.ulps` (the
scale of each point is recorded with it; an optimal value has no terms).  Analytic
formulas involve no BLAS, but ``exp``, ``sin`` and ``cos`` come from the platform's libm or
NumPy's SIMD kernels, which differ by a few ulps across CPUs and builds; where the terms of
a formula cancel, those ulps are ulps of the terms, not of the small result.  64 ulps
absorbs that and still catches any change to a formula or a constant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from mpmath import nstr
from numpy.typing import NDArray

from ..objectives import (
    SCALE_FLOOR,
    Objective,
    get_problem,
    list_problems,
    reference_scale,
    ulps,
)
from ._report import make_row

__all__ = ["MAX_ULPS", "analytic_names", "compare_reference", "fixed_points", "record_reference"]

#: Allowed difference of a reference value, in ulps of its scale (see the module notes).
MAX_ULPS = 64.0

_N_POINTS = 3


def fixed_points(bounds: NDArray[np.float64], n: int = _N_POINTS) -> NDArray[np.float64]:
    """``n`` fixed, well-spread points in a box: the additive R-sequence (Roberts 2018).

    Point ``k = 1..n`` is ``low + frac(0.5 + k * a) * (high - low)`` with
    ``a_j = phi_d ** -(j + 1)`` and ``phi_d`` the positive root of ``x**(d+1) = x + 1``;
    no random numbers, so the points are the same everywhere.

    Parameters
    ----------
    bounds : ndarray of shape (d, 2)
    n : int

    Returns
    -------
    ndarray of shape (n, d)
    """
    d = bounds.shape[0]
    phi = 2.0
    for _ in range(60):
        phi = (1.0 + phi) ** (1.0 / (d + 1))
    a = phi ** -np.arange(1.0, d + 1.0)
    u = np.mod(0.5 + np.arange(1.0, n + 1.0)[:, None] * a, 1.0)
    lo, hi = bounds[:, 0], bounds[:, 1]
    return np.asarray(lo + u * (hi - lo), dtype=float)


def _point_entry(name: str, problem: Objective, x: NDArray[np.float64]) -> dict[str, Any]:
    """One fixed point: x, value, scale and the 50-digit reference, checked to agree."""
    value = float(problem.evaluate_true(x[None])[0])
    entry: dict[str, Any] = {"x": x.tolist(), "value": value}
    found = reference_scale(problem, x)
    if found is None:
        entry.update(scale=max(abs(value), SCALE_FLOOR), reference=None)
        return entry
    ref, scale = found
    err = ulps(value, ref, scale)
    if not err <= MAX_ULPS:
        raise ValueError(
            f"{name}.evaluate_true({x.tolist()}) = {value!r} disagrees with the 50-digit "
            f"reference {ref} by {err:.3g} ulps of {scale:.3g} (> {MAX_ULPS:g}): fix the "
            "implementation before recording a baseline."
        )
    entry.update(scale=scale, reference=nstr(ref, 25))
    return entry


def analytic_names() -> list[str]:
    """Registered problems with a closed form (emulators, ``family:member``, excluded)."""
    return [n for n in list_problems() if ":" not in n]


def record_reference() -> list[dict[str, Any]]:
    """Baseline entries of every registered analytic problem, by name.

    Raises
    ------
    ValueError
        If a value disagrees with the 50-digit reference beyond :data:`MAX_ULPS`.
    """
    out = []
    for name in analytic_names():
        p = get_problem(name)
        out.append(
            {
                "problem": name,
                "bounds": p.bounds.tolist(),
                "optimal_value": p.optimal_value,
                "points": [_point_entry(name, p, x) for x in fixed_points(p.bounds)],
            }
        )
    return out


def _value_row(name: str, base: float, cur: float, scale: float, max_ulps: float) -> dict[str, Any]:
    tol = float(max_ulps * np.spacing(scale))
    diff, err = abs(cur - base), ulps(cur, base, scale)
    verdict = "pass" if err <= max_ulps else "regressed"
    detail = "identical" if diff == 0 else f"|diff| = {diff:.3g} ({err:.3g} ulps of {scale:.3g})"
    return make_row("reference", name, verdict, detail, baseline=base, current=cur, tolerance=tol)


def _compare_problem(entry: Mapping[str, Any], max_ulps: float) -> list[dict[str, Any]]:
    name = str(entry["problem"])
    p = get_problem(name)
    rows = []
    same_box = np.array_equal(np.asarray(entry["bounds"], dtype=float), p.bounds)
    detail = "identical" if same_box else f"was {entry['bounds']}, now {p.bounds.tolist()}"
    rows.append(
        make_row("reference", f"{name}: bounds", "pass" if same_box else "regressed", detail)
    )
    base, cur = entry["optimal_value"], p.optimal_value
    if base is None or cur is None:
        verdict = "pass" if base is cur else "regressed"
        detail = "unknown in both" if base is cur else f"was {base!r}, now {cur!r}"
        rows.append(make_row("reference", f"{name}: optimal_value", verdict, detail))
    else:
        scale = max(abs(float(base)), abs(cur), SCALE_FLOOR)
        rows.append(_value_row(f"{name}: optimal_value", float(base), cur, scale, max_ulps))
    for k, pt in enumerate(entry["points"], start=1):
        label = f"{name}: f(x{k})"
        try:
            value = float(p.evaluate_true(np.asarray([pt["x"]], dtype=float))[0])
        except ValueError as exc:  # the box or the dimension changed
            rows.append(make_row("reference", label, "regressed", f"evaluate_true raised: {exc}"))
            continue
        rows.append(_value_row(label, float(pt["value"]), value, float(pt["scale"]), max_ulps))
    return rows


def compare_reference(
    entries: Iterable[Mapping[str, Any]], *, max_ulps: float = MAX_ULPS
) -> list[dict[str, Any]]:
    """Verdict rows for the stored reference entries, plus a ``new`` row per analytic
    problem registered since (a problem no longer registered is ``missing``)."""
    rows: list[dict[str, Any]] = []
    names = analytic_names()
    seen = set()
    for entry in entries:
        name = str(entry["problem"])
        seen.add(name)
        if name not in names:
            rows.append(make_row("reference", name, "missing", "no longer registered"))
            continue
        rows.extend(_compare_problem(entry, max_ulps))
    for name in names:
        if name not in seen:
            rows.append(make_row("reference", name, "new", "registered since the baseline"))
    return rows
