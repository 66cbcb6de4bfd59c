"""Fixed-dimension classics in one and two variables: Branin, camel, Goldstein-Price, ...

Optimizers that are only known numerically were polished once, offline, by Newton's method
in 60-digit arithmetic and rounded to the nearest double; ``optimal_value`` is the
correctly rounded value of the function at that stored double point (which equals the true
minimum to double precision, the point being stationary).  Nothing is optimized at import.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._analytic_common import SFU, two_sum
from ._base import Objective, frozen

__all__ = ["Beale", "Booth", "Branin", "Forrester", "GoldsteinPrice", "McCormick", "SixHumpCamel"]


class Branin(Objective):
    """Branin-Hoo function on ``[-5, 10] x [0, 15]``, three global minimizers.

    ``f(x) = (x2 - b x1² + c x1 - r)² + s (1 - t) cos(x1) + s`` with ``b = 5.1 / (4π²)``,
    ``c = 5/π``, ``r = 6``, ``s = 10``, ``t = 1 / (8π)``.  At ``x1 ∈ {-π, π, 3π}`` the cosine
    is -1 and the square vanishes at ``x2 = b x1² - c x1 + r``, so the minimum is exactly
    ``s t = 5 / (4π)``.  Evaluated as ``q² + 2 s cos²(x1/2) - s t cos(x1)`` (no cancellation).

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (3, 2)
        ``(-π, 12.275)``, ``(π, 2.275)``, ``(3π, 2.475)``.
    optimal_value : float
        ``5 / (4π)`` correctly rounded, ``0.3978873577297383``.
    """

    name = "branin"
    dim = 2
    bounds = frozen([[-5.0, 10.0], [0.0, 15.0]])
    optimal_value = 0.3978873577297383  # 5/(4π) correctly rounded (5/(4*math.pi) is 0.7 ulp off)
    optimizers = frozen([[-math.pi, 12.275], [math.pi, 2.275], [9.42477796076938, 2.475]])
    reference = (
        "Branin (1972); Dixon & Szegö (1978); bounds and minimizers as in "
        + SFU
        + "branin.html. f* = 5/(4π) exactly (cos x1 = -1, square term 0); SFU's 0.397887 "
        "is this value rounded."
    )

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        x1, x2 = X[:, 0], X[:, 1]
        b = 5.1 / (4.0 * math.pi**2)
        c = 5.0 / math.pi
        st = 5.0 / (4.0 * math.pi)  # s * t
        q = x2 - b * x1**2 + c * x1 - 6.0
        return np.asarray(q**2 + 20.0 * np.cos(0.5 * x1) ** 2 - st * np.cos(x1))


class SixHumpCamel(Objective):
    """Six-hump camel function on ``[-3, 3] x [-2, 2]``, two symmetric global minimizers.

    ``f(x) = (4 - 2.1 x1² + x1⁴/3) x1² + x1 x2 + (-4 + 4 x2²) x2²``.

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (2, 2)
        ``±(0.08984201310031806, -0.7126564030207396)`` (polished; f is even).
    optimal_value : float
        ``-1.0316284534898774``.
    """

    name = "six_hump_camel"
    dim = 2
    bounds = frozen([[-3.0, 3.0], [-2.0, 2.0]])
    optimal_value = -1.0316284534898774
    optimizers = frozen(
        [[0.08984201310031806, -0.7126564030207396], [-0.08984201310031806, 0.7126564030207396]]
    )
    reference = (
        "Dixon & Szegö (1978); Molga & Smutnicki (2005); bounds as in "
        + SFU
        + "camel6.html. Optimizers polished to double precision by ardlib; SFU's "
        "(±0.0898, ∓0.7126), f* = -1.0316 agree to the digits given."
    )

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        x1, x2 = X[:, 0], X[:, 1]
        p = x1 * x1
        q = x2 * x2
        return np.asarray(p * (4.0 + p * (p / 3.0 - 2.1)) + x1 * x2 + 4.0 * q * (q - 1.0))


class GoldsteinPrice(Objective):
    """Goldstein-Price function on ``[-2, 2]²``; minimum 3 at ``(0, -1)``.

    Published in expanded form; evaluated through ``s = x1 + x2`` and ``t = 2 x1 - 3 x2`` as
    ``[1 + (s + 1)² (3s² - 14s + 19)] [30 + t² (3t² - 16t + 18)]`` (algebraically identical).

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (1, 2)
    optimal_value : float
        ``3.0`` (exact).
    """

    name = "goldstein_price"
    dim = 2
    bounds = frozen([[-2.0, 2.0], [-2.0, 2.0]])
    optimal_value = 3.0
    optimizers = frozen([[0.0, -1.0]])
    reference = "Goldstein & Price (1971); Dixon & Szegö (1978); " + SFU + "goldpr.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        s = X[:, 0] + X[:, 1]
        t = 2.0 * X[:, 0] - 3.0 * X[:, 1]
        first = 1.0 + (s + 1.0) ** 2 * (19.0 + s * (3.0 * s - 14.0))
        second = 30.0 + t**2 * (18.0 + t * (3.0 * t - 16.0))
        return np.asarray(first * second)


class Beale(Objective):
    """Beale function on ``[-4.5, 4.5]²``; minimum 0 at ``(3, 0.5)``.

    ``f(x, y) = (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²``.  The residuals
    ``3(1 - 2^-k) - x(1 - y^k)`` are evaluated as ``x (y^k - 2^-k) - (x - 3)(1 - 2^-k)``,
    exact-to-rounding around the optimum, so small values keep their relative accuracy.

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (1, 2)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "beale"
    dim = 2
    bounds = frozen([[-4.5, 4.5], [-4.5, 4.5]])
    optimal_value = 0.0
    optimizers = frozen([[3.0, 0.5]])
    reference = "Beale (1958); Jamil & Yang (2013); " + SFU + "beale.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = X[:, 0], X[:, 1]
        a, b = x - 3.0, y - 0.5
        r1 = x * b - 0.5 * a
        r2 = x * b * (1.0 + b) - 0.75 * a
        r3 = x * b * (0.75 + b * (1.5 + b)) - 0.875 * a
        return np.asarray(r1 * r1 + r2 * r2 + r3 * r3)


class Booth(Objective):
    """Booth function on ``[-10, 10]²``; minimum 0 at ``(1, 3)``.

    ``f(x) = (x1 + 2 x2 - 7)² + (2 x1 + x2 - 5)²``, evaluated in ``a = x1 - 1``,
    ``b = x2 - 3`` (``(a + 2b)² + (2a + b)²``) so small values keep their relative accuracy.

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (1, 2)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "booth"
    dim = 2
    bounds = frozen([[-10.0, 10.0], [-10.0, 10.0]])
    optimal_value = 0.0
    optimizers = frozen([[1.0, 3.0]])
    reference = "Jamil & Yang (2013); " + SFU + "booth.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        a, b = X[:, 0] - 1.0, X[:, 1] - 3.0
        return np.asarray((a + 2.0 * b) ** 2 + (2.0 * a + b) ** 2)


class McCormick(Objective):
    """McCormick function on ``[-1.5, 4] x [-3, 4]``.

    ``f(x) = sin(x1 + x2) + (x1 - x2)² - 1.5 x1 + 2.5 x2 + 1``.  Stationarity gives
    ``x1 - x2 = 1`` and ``cos(x1 + x2) = -1/2``, so the minimizer is
    ``(1/2 - π/3, -1/2 - π/3)`` with ``f* = -√3/2 - π/3`` in closed form.

    Attributes
    ----------
    bounds : ndarray of shape (2, 2)
    optimizers : ndarray of shape (1, 2)
        ``(1/2 - π/3, -1/2 - π/3)`` rounded to double.
    optimal_value : float
        ``-√3/2 - π/3 = -1.9132229549810364``.
    """

    name = "mccormick"
    dim = 2
    bounds = frozen([[-1.5, 4.0], [-3.0, 4.0]])
    optimal_value = -1.9132229549810364
    optimizers = frozen([[-0.5471975511965977, -1.5471975511965979]])
    reference = (
        "McCormick (1976); Jamil & Yang (2013); "
        + SFU
        + "mccorm.html. Closed form x* = (1/2 - π/3, -1/2 - π/3), f* = -√3/2 - π/3 derived "
        "by ardlib; SFU's (-0.54719, -1.54719), -1.9133 agree to the digits given."
    )

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        x1, x2 = X[:, 0], X[:, 1]
        return np.asarray(np.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1.0)


class Forrester(Objective):
    """Forrester et al. one-dimensional function on ``[0, 1]``.

    ``f(x) = (6x - 2)² sin(12x - 4)``.  Evaluated with ``t = 3x - 1`` carried exactly as a
    double-double, so the sine keeps full relative accuracy next to its zeros.

    Attributes
    ----------
    bounds : ndarray of shape (1, 2)
    optimizers : ndarray of shape (1, 1)
        ``0.7572487578418559`` (polished).
    optimal_value : float
        ``-6.0207400557670825``.
    """

    name = "forrester"
    dim = 1
    bounds = frozen([[0.0, 1.0]])
    optimal_value = -6.0207400557670825
    optimizers = frozen([[0.7572487578418559]])
    reference = (
        "Forrester, Sóbester & Keane (2008), Engineering Design via Surrogate Modelling; "
        + SFU
        + "forretal08.html. Optimizer polished to double precision by "
        "ardlib; the commonly quoted x* = 0.75725, f* = -6.02074 agree to the digits given."
    )

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        x = X[:, 0]
        p, e1 = two_sum(2.0 * x, x)  # 3x == p + e1 exactly
        hi, e2 = two_sum(p, -1.0)  # 3x - 1 == hi + e1 + e2 exactly
        lo = e1 + e2  # only this tiny correction is rounded
        sine = np.sin(4.0 * hi) + 4.0 * lo * np.cos(4.0 * hi)
        return np.asarray(4.0 * (hi * hi + 2.0 * hi * lo) * sine)
