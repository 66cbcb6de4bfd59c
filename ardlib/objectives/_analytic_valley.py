"""Dimension-scalable valley and plate shaped benchmarks: Rosenbrock, Dixon-Price, ...

Sums of non-negative terms with zero minimum; each takes a keyword-only ``dim`` and spans
the box ``[low, high]^dim``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._analytic_common import SFU, ScalableObjective, two_square

__all__ = ["DixonPrice", "Powell", "Rosenbrock", "Zakharov"]


class Rosenbrock(ScalableObjective):
    """Rosenbrock function on ``[-5, 10]^d``; minimum 0 at ``(1, ..., 1)``.

    ``f(x) = Σ_{i<d} 100 (x_{i+1} - x_i²)² + (x_i - 1)²``, evaluated in ``u = x - 1``
    (``x_{i+1} - x_i² = u_{i+1} - u_i (u_i + 2)``) so that values near the optimum keep
    their relative accuracy.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 2``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "rosenbrock"
    domain = (-5.0, 10.0)
    min_dim = 2
    optimizer_coordinate = 1.0
    reference = "Rosenbrock (1960); " + SFU + "rosen.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        u = X - 1.0
        head, tail = u[:, :-1], u[:, 1:]
        return np.asarray(np.sum(100.0 * (tail - head * (head + 2.0)) ** 2 + head**2, axis=1))


class DixonPrice(ScalableObjective):
    """Dixon-Price function on ``[-10, 10]^d``; minimum 0.

    ``f(x) = (x_1 - 1)² + Σ_{i=2}^{d} i (2 x_i² - x_{i-1})²``.  The zero set is
    ``x_1 = 1``, ``x_i = 2^{-(2^i - 2)/2^i}``; only ``x_d`` enters squared alone, so for
    ``d >= 2`` its sign is free and there are two global minimizers.  ``x_i²`` is formed
    exactly (Dekker) so the residuals ``2 x_i² - x_{i-1}`` keep their relative accuracy next
    to the (irrational) optimizer.

    Parameters
    ----------
    dim : int, default 2
        Number of dimensions ``d >= 1``.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (k, d)
        ``k = 2`` for ``d >= 2`` (``x_d`` of either sign), ``k = 1`` for ``d = 1``.
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "dixon_price"
    domain = (-10.0, 10.0)
    reference = (
        "Dixon & Price (1989); " + SFU + "dixonpr.html (closed-form zero set). SFU lists "
        "one minimizer; x_d may take either sign, so there are two for d >= 2."
    )

    def _ground_truth(self, d: int) -> tuple[float, NDArray[np.float64]]:
        i = np.arange(1, d + 1)
        # The exponents -(2^i - 2)/2^i are dyadic rationals, exact in binary floating point.
        x = np.exp2(-(2.0**i - 2.0) / 2.0**i)
        if d == 1:
            return 0.0, x[None, :]
        mirrored = x.copy()
        mirrored[-1] = -mirrored[-1]
        return 0.0, np.stack([x, mirrored])

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        i = np.arange(2.0, X.shape[1] + 1.0)
        sq, sq_err = two_square(X[:, 1:])
        residual = (2.0 * sq - X[:, :-1]) + 2.0 * sq_err
        chain = np.sum(i * residual**2, axis=1)
        return np.asarray((X[:, 0] - 1.0) ** 2 + chain)


class Powell(ScalableObjective):
    """Powell singular function on ``[-4, 5]^d`` (``d`` a multiple of 4); minimum 0 at 0.

    Over blocks ``(a, b, c, e) = x_{4k-3..4k}``: ``Σ (a + 10b)² + 5(c - e)² + (b - 2c)⁴
    + 10(a - e)⁴``.  The Hessian at the optimum is singular.

    Parameters
    ----------
    dim : int, default 4
        Number of dimensions, a positive multiple of 4.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    optimizers : ndarray of shape (1, d)
    optimal_value : float
        ``0.0`` (exact).
    """

    name = "powell"
    domain = (-4.0, 5.0)
    min_dim = 4
    dim_multiple = 4
    optimizer_coordinate = 0.0
    reference = "Powell (1962); " + SFU + "powell.html."

    def __init__(self, *, dim: int = 4) -> None:
        super().__init__(dim=dim)

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        B = X.reshape(X.shape[0], X.shape[1] // 4, 4)
        a, b, c, e = B[..., 0], B[..., 1], B[..., 2], B[..., 3]
        terms = (a + 10.0 * b) ** 2 + 5.0 * (c - e) ** 2 + (b - 2.0 * c) ** 4 + 10.0 * (a - e) ** 4
        return np.asarray(np.sum(terms, axis=1))


class Zakharov(ScalableObjective):
    """Zakharov function on ``[-5, 10]^d``; minimum 0 at 0.

    ``f(x) = Σ x_i² + s² + s⁴`` with ``s = Σ 0.5 i x_i``.

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

    name = "zakharov"
    domain = (-5.0, 10.0)
    optimizer_coordinate = 0.0
    reference = "Jamil & Yang (2013); " + SFU + "zakharov.html."

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        s = X @ (0.5 * np.arange(1.0, X.shape[1] + 1.0))
        s2 = s * s
        return np.asarray(np.sum(X * X, axis=1) + s2 + s2 * s2)
