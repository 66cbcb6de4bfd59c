"""The one check of a problem's ground truth, with one tolerance rule.

Errors are measured in ulps (units in the last place) of a *scale*,
``|value - reference| / spacing(scale)``, and the scale is always

    ``max(|reference|, Σ|terms| / 100, floor)``,

``|reference|`` being replaced by ``max(|value|, |reference|)`` when neither of two
doubles is the truth.  ``Σ|terms|`` is the magnitude of the additive terms of the
published formula (the 50-digit reference knows them; 0 where there is no reference):
where they cancel, a double evaluation that rounds each term is off by a few ulps of the
terms, not of the small result.  ``floor`` (:data:`SCALE_FLOOR`, 1e-3, unless a caller asks
for more) keeps the measure meaningful where the value is 0 and float spacing subnormal:
there 1 ulp is 2.2e-19 absolute.

Every ground-truth check in ardlib -- the validation report's accuracy table, the problem
catalog, the regression baseline and the contract test suite -- goes through
:func:`check_ground_truth`, :func:`reference_scale` and :func:`ulps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mpmath import mp
from numpy.typing import ArrayLike

from .._rng import RNGLike, as_generator
from ._base import Objective
from ._reference import DPS, TERMS
from ._registry import get_problem

__all__ = ["SCALE_FLOOR", "GroundTruthCheck", "check_ground_truth", "reference_scale", "ulps"]

#: Smallest scale an error is measured against (see the module docstring).
SCALE_FLOOR = 1e-3


def ulps(value: Any, reference: Any, scale: float | None = None) -> float:
    """Distance from ``reference`` in units in the last place of ``scale``.

    Parameters
    ----------
    value, reference : float
        The computed value and what it should be (a 50-digit ``mpmath.mpf`` keeps its
        digits: the difference is taken before rounding to double).
    scale : float, optional
        Magnitude the error is measured against; default
        ``max(|value|, |reference|, SCALE_FLOOR)``.

    Returns
    -------
    float
        ``|value - reference| / spacing(scale)``; NaN when either value is NaN.
    """
    diff = abs(float(value - reference))
    if scale is None:
        scale = max(abs(float(value)), abs(float(reference)), SCALE_FLOOR)
    return float(diff / np.spacing(float(scale)))


def reference_scale(
    problem: Objective, x: ArrayLike, *, floor: float = SCALE_FLOOR
) -> tuple[Any, float] | None:
    """The 50-digit reference value of ``problem`` at ``x`` and the scale of its errors.

    Parameters
    ----------
    problem : Objective
        An analytic problem (its ``name`` and Shekel's ``m`` select the reference).
    x : array-like of shape (d,)
        The point.
    floor : float, default :data:`SCALE_FLOOR`
        Smallest scale; the contract suite asks 1e-30 next to the optimizers, where a
        small value is the regret and must keep its relative accuracy.

    Returns
    -------
    tuple of (mpmath.mpf, float) or None
        The reference value and ``max(|reference|, Σ|terms| / 100, floor)``; None when
        the problem has no independent reference implementation (emulators).
    """
    terms_of = TERMS.get(problem.name)
    if terms_of is None:
        return None
    params = {"m": problem.m} if hasattr(problem, "m") else {}
    with mp.workdps(DPS):
        terms = terms_of([float(v) for v in np.asarray(x).reshape(-1)], **params)
        ref, magnitude = mp.fsum(terms), mp.fsum(abs(t) for t in terms)
    return ref, max(abs(float(ref)), float(magnitude) / 100, floor)


def _reference_ulps(problem: Objective, X: ArrayLike, values: ArrayLike) -> list[float]:
    """Errors of ``values`` at the rows of ``X`` against the reference (none without one)."""
    found = [reference_scale(problem, x) for x in np.asarray(X)]
    return [ulps(v, *f) for v, f in zip(np.asarray(values), found, strict=True) if f]


@dataclass(frozen=True)
class GroundTruthCheck:
    """How closely a problem matches its stored and reference ground truth.

    Attributes
    ----------
    problem : str
        Registry name (the problem's ``name`` when checked as an instance).
    dim : int
        Input dimension.
    optimal_value : float or None
        The stored optimum.
    optimum_ulps_stored : float or None
        Worst error of ``evaluate_true`` at the stored optimizers against ``optimal_value``
        (None without a known optimum).
    optimum_ulps_reference : float or None
        The same against the independent 50-digit reference (None without one).
    random_ulps_max, random_ulps_median : float or None
        Errors against the reference at ``n_points`` uniform points in the box (None
        without a reference or with ``n_points=0``).
    max_ulps : float
        The tolerance.
    passed : bool
        Every error measured is at most ``max_ulps`` (NaN fails).
    """

    problem: str
    dim: int
    optimal_value: float | None
    optimum_ulps_stored: float | None
    optimum_ulps_reference: float | None
    random_ulps_max: float | None
    random_ulps_median: float | None
    max_ulps: float
    passed: bool


def check_ground_truth(
    problem: str | Objective, *, max_ulps: float = 64.0, n_points: int = 20, rng: RNGLike = 0
) -> GroundTruthCheck:
    """Check a problem's stored optimum and values against the reference.

    Parameters
    ----------
    problem : str or Objective
        A registered name (:func:`~ardlib.objectives.get_problem`) or an instance (for
        other dimensions or parameters).
    max_ulps : float, default 64.0
        Tolerance of every error (see the module docstring for the scale).
    n_points : int, default 20
        Uniform random points in the box checked against the reference.
    rng : int or Generator
        Draws the random points.

    Returns
    -------
    GroundTruthCheck
    """
    name, p = (
        (problem, get_problem(problem)) if isinstance(problem, str) else (problem.name, problem)
    )
    has_ref = p.name in TERMS  # emulators and other data-defined problems have none
    stored = at_optimum = None
    if p.optimizers is not None and p.optimal_value is not None:
        values = p.evaluate_true(p.optimizers)
        stored = max(ulps(v, p.optimal_value) for v in values)
        at_optimum = max(_reference_ulps(p, p.optimizers, values)) if has_ref else None
    rand_max = rand_median = None
    if has_ref and n_points > 0:
        lo, hi = p.bounds[:, 0], p.bounds[:, 1]
        X = lo + as_generator(rng).random((n_points, p.dim)) * (hi - lo)
        errs = _reference_ulps(p, X, p.evaluate_true(X))
        rand_max, rand_median = float(np.max(errs)), float(np.median(errs))
    measured = [e for e in (stored, at_optimum, rand_max) if e is not None]
    return GroundTruthCheck(
        problem=name,
        dim=p.dim,
        optimal_value=p.optimal_value,
        optimum_ulps_stored=stored,
        optimum_ulps_reference=at_optimum,
        random_ulps_max=rand_max,
        random_ulps_median=rand_median,
        max_ulps=float(max_ulps),
        passed=all(e <= max_ulps for e in measured),
    )
