"""The one check of a problem's ground truth, with one tolerance rule.

Errors are measured in ulps (units in the last place) of a *scale*:
``|value - reference| / spacing(scale)``.  The scale is ``max(|value|, |reference|, 1)``
unless the caller knows a larger one (where a published formula's terms cancel, their
magnitude, not ``|f|``, bounds what double arithmetic can resolve: see
:func:`~ardlib.objectives.term_scale`).  The floor at 1 keeps the measure meaningful at
an optimum of 0, where float spacing is subnormal.  Every ground-truth check in ardlib --
the validation report's accuracy table, the problem catalog and the regression baseline --
goes through :func:`ulps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, as_generator
from ._reference import reference_value, term_scale
from ._registry import get_problem

__all__ = ["GroundTruthCheck", "check_ground_truth", "ulps"]


def ulps(value: Any, reference: Any, scale: float | None = None) -> float:
    """Distance from ``reference`` in units in the last place of ``scale``.

    Parameters
    ----------
    value, reference : float
        The computed value and what it should be (a 50-digit ``mpmath.mpf`` keeps its
        digits: the difference is taken before rounding to double).
    scale : float, optional
        Magnitude the error is measured against; default ``max(|value|, |reference|, 1)``.

    Returns
    -------
    float
        ``|value - reference| / spacing(scale)``; NaN when either value is NaN.
    """
    # The difference is taken before rounding, so a 50-digit reference keeps its digits.
    diff = abs(float(value - reference))
    s = max(abs(float(value)), abs(float(reference)), 1.0) if scale is None else float(scale)
    return float(diff / np.spacing(s))


@dataclass(frozen=True)
class GroundTruthCheck:
    """How closely a registered problem matches its stored and reference ground truth.

    Attributes
    ----------
    problem : str
        Registry name.
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
        Errors against the reference at ``n_points`` uniform points in the box, in ulps of
        the term scale (None without a reference or with ``n_points=0``).
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
    name: str, *, max_ulps: float = 64.0, n_points: int = 20, rng: RNGLike = 0
) -> GroundTruthCheck:
    """Check problem ``name``'s stored optimum and values against the reference.

    Parameters
    ----------
    name : str
        A registered problem (:func:`~ardlib.objectives.get_problem`).
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
    p = get_problem(name)
    kwargs = {"m": p.m} if hasattr(p, "m") else {}
    has_ref = ":" not in name  # emulators and other data-defined problems have none
    stored = reference_err = None
    if p.optimizers is not None and p.optimal_value is not None:
        fs = float(p.optimal_value)
        values = p.evaluate_true(p.optimizers)
        stored = max(ulps(v, fs) for v in values)
        if has_ref:
            reference_err = max(
                ulps(v, reference_value(name, x, **kwargs), max(abs(fs), 1.0))
                for v, x in zip(values, p.optimizers, strict=True)
            )
    rand_max = rand_median = None
    if has_ref and n_points > 0:
        lo, hi = p.bounds[:, 0], p.bounds[:, 1]
        X = lo + as_generator(rng).random((n_points, p.dim)) * (hi - lo)
        errs = []
        for v, x in zip(p.evaluate_true(X), X, strict=True):
            ref = reference_value(name, x, **kwargs)
            scale = max(abs(float(ref)), float(term_scale(name, x, **kwargs)) / 100, 1e-3)
            errs.append(ulps(v, ref, scale))
        rand_max, rand_median = float(np.max(errs)), float(np.median(errs))
    measured = [e for e in (stored, reference_err, rand_max) if e is not None]
    return GroundTruthCheck(
        problem=name,
        dim=p.dim,
        optimal_value=p.optimal_value,
        optimum_ulps_stored=stored,
        optimum_ulps_reference=reference_err,
        random_ulps_max=rand_max,
        random_ulps_median=rand_median,
        max_ulps=float(max_ulps),
        passed=all(e <= max_ulps for e in measured),
    )
