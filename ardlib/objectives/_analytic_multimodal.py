"""Dimension-scalable multimodal benchmarks: Ackley, Griewank, Levy, Michalewicz, ...

Each takes a keyword-only ``dim`` (default 2, as in BoTorch's test functions) and spans the
box ``[low, high]^dim``.  Formulas are rearranged where the textbook form loses digits to
cancellation near the optimum (``1 - cos`` becomes ``2 sin²``, ``e^a - 1`` becomes
``expm1``); the rearrangements are exact identities, checked against the plain published
form in 50-digit arithmetic by the contract tests.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._analytic_common import SFU, ScalableObjective, sin_pi_squared

__all__ = ["Ackley", "Griewank", "Levy", "Michalewicz", "Rastrigin", "StyblinskiTang"]


class Ackley(ScalableObjective):
    """Ackley function (a=20, b=0.2, c=2π) on ``[-32.768, 32.768]^d``; minimum 0 at 0.

    ``f(x) = -a exp(-b sqrt(mean(x²))) - exp(mean(cos(c x))) + a + e``, evaluated as
    ``-a expm1(-b sqrt(mean(x²))) - e expm1(-2 mean(sin²(π x)))``.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
        The origin.
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "ackley"
    domain = (-32.768, 32.768)
    optimizer_coordinate = 0.0
    reference = "Ackley (1987); " + SFU + "ackley.html; Jamil & Yang (2013)."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        radius = np.sqrt(np.mean(X * X, axis=1))
        cos_gap = -2.0 * np.mean(sin_pi_squared(X), axis=1)  # mean(cos(2πx)) - 1
        return np.asarray(-20.0 * np.expm1(-0.2 * radius) - math.e * np.expm1(cos_gap))


class Rastrigin(ScalableObjective):
    """Rastrigin function on ``[-5.12, 5.12]^d``; minimum 0 at 0.

    ``f(x) = 10 d + Σ (x_i² - 10 cos(2π x_i))``, evaluated as ``Σ (x_i² + 20 sin²(π x_i))``.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "rastrigin"
    domain = (-5.12, 5.12)
    optimizer_coordinate = 0.0
    reference = "Rastrigin (1974); " + SFU + "rastr.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.sum(X * X + 20.0 * sin_pi_squared(X), axis=1))


class Griewank(ScalableObjective):
    """Griewank function on ``[-600, 600]^d``; minimum 0 at 0.

    ``f(x) = Σ x_i²/4000 - Π cos(x_i/√i) + 1``.  The ``1 - Π c_i`` part is summed as
    ``Σ_k (Π_{i<k} c_i) 2 sin²(x_k / (2√k))``, which stays accurate next to the optimum.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "griewank"
    domain = (-600.0, 600.0)
    optimizer_coordinate = 0.0
    reference = "Griewank (1981); " + SFU + "griewank.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        z = X / np.sqrt(np.arange(1.0, X.shape[1] + 1.0))
        prefix = np.cumprod(np.cos(z), axis=1)
        prefix = np.concatenate([np.ones((X.shape[0], 1)), prefix[:, :-1]], axis=1)
        one_minus_prod = np.sum(prefix * 2.0 * np.sin(0.5 * z) ** 2, axis=1)
        return np.asarray(np.sum(X * X, axis=1) / 4000.0 + one_minus_prod)


class Levy(ScalableObjective):
    """Levy function on ``[-10, 10]^d``; minimum 0 at ``(1, ..., 1)``.

    With ``w_i = 1 + (x_i - 1)/4``: ``f(x) = sin²(π w_1) + Σ_{i<d} (w_i - 1)² [1 + 10
    sin²(π w_i + 1)] + (w_d - 1)² [1 + sin²(2π w_d)]``, evaluated through ``u = w - 1``
    (``sin²(π w) = sin²(π u)``) so the terms vanish cleanly at the optimum.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "levy"
    domain = (-10.0, 10.0)
    optimizer_coordinate = 1.0
    reference = "Levy & Montalvo (1985); " + SFU + "levy.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        u = (X - 1.0) / 4.0
        head = sin_pi_squared(u[:, 0])
        body = np.sum(u[:, :-1] ** 2 * (1.0 + 10.0 * np.sin(np.pi * u[:, :-1] + 1.0) ** 2), axis=1)
        last = u[:, -1]
        tail = last**2 * (1.0 + sin_pi_squared(2.0 * last))
        return np.asarray(head + body + tail)


# Michalewicz is separable: coordinate i contributes -sin(x) sin^20(i x²/π) whatever the
# others do, so the d-dimensional minimizer is the vector of one-dimensional minimizers.
# Each was found on a 2e6-point grid of [0, π] (all i local minima resolved, the runner-up
# at least 0.0049 worse) and polished by Newton's method in 60-digit arithmetic.
_MICHALEWICZ_X = (
    2.2029055201726093,
    1.5707963267948966,
    1.2849915705529245,
    1.9230584698663629,
    1.7204697725658413,
    1.5707963267948966,
    1.454413971362379,
    1.7560865209450263,
    1.6557174168210291,
    1.5707963267948966,
)
# Correctly rounded optimal value for d = 1..10 at the stored minimizer.
_MICHALEWICZ_F = (
    -0.8013034100985525,
    -1.8013034100985525,
    -2.7603946799945587,
    -3.698857098466642,
    -4.687658179088146,
    -5.687658179088146,
    -6.680885314444028,
    -7.663757350716239,
    -8.66015171564134,
    -9.66015171564134,
)


class Michalewicz(ScalableObjective):
    """Michalewicz function (steepness m=10) on ``[0, π]^d``.

    ``f(x) = -Σ_i sin(x_i) sin^{2m}(i x_i² / π)``.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d) or None
        Stored for ``d <= 10`` (the function is separable, so these are the 1-D minimizers
        of each coordinate); ``None`` for ``d > 10``.
    optimal_value : float or None
        -1.8013034100985525 (d=2), -4.687658179088146 (d=5), -9.66015171564134 (d=10), and
        the table in the source for other ``d <= 10``; ``None`` for ``d > 10``.
    """

    name = "michalewicz"
    domain = (0.0, math.pi)
    reference = (
        "Michalewicz (1992); " + SFU + "michal.html. Optimizers for d <= 10 computed by "
        "ardlib (separable: per-coordinate global 1-D minima polished to double precision); "
        "they reproduce SFU's f* = -1.8013 (d=2), -4.687658 (d=5), -9.66015 (d=10). "
        "Unknown (None) for d > 10."
    )

    def _ground_truth(self, d: int) -> tuple[float | None, NDArray[np.float64] | None]:
        if d > len(_MICHALEWICZ_X):
            return None, None
        return _MICHALEWICZ_F[d - 1], np.array([_MICHALEWICZ_X[:d]])

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        i = np.arange(1.0, X.shape[1] + 1.0)
        return np.asarray(-np.sum(np.sin(X) * np.sin(i * X * X / np.pi) ** 20, axis=1))


# g(x) = (x⁴ - 16x² + 5x)/2 has its global minimum at the root of 4x³ - 32x + 5 near -2.9;
# polished in 60-digit arithmetic.  g(x*) = -39.166165703771415464 (correctly rounded below).
_STYBLINSKI_TANG_X = -2.903534027771177
_STYBLINSKI_TANG_G = -39.16616570377141


class StyblinskiTang(ScalableObjective):
    """Styblinski-Tang function on ``[-5, 5]^d``; minimum ``-39.166165703771415 d``.

    ``f(x) = ½ Σ (x_i⁴ - 16 x_i² + 5 x_i)``.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
        ``-2.903534027771177`` in every coordinate.
    optimal_value : float
        ``-39.16616570377141 * d``.
    """

    name = "styblinski_tang"
    domain = (-5.0, 5.0)
    optimizer_coordinate = _STYBLINSKI_TANG_X
    optimal_value_per_dim = _STYBLINSKI_TANG_G
    reference = (
        "Styblinski & Tang (1990); " + SFU + "stybtang.html. Optimizer x_i = "
        "-2.903534027771177 (root of 4x³ - 32x + 5) polished to double precision by ardlib; "
        "f* = -39.166165703771415 d. SFU's f* = -39.16599 d is wrong in the 4th decimal: "
        "even at SFU's own x_i = -2.903534 the value is -39.1661657 d."
    )

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(0.5 * np.sum(X * (X * (X * X - 16.0) + 5.0), axis=1))
