"""Table-driven Dixon-Szegö problems: Hartmann 3-D and 6-D, Shekel S(4, m).

Their minimizers are known only numerically.  Each was polished once, offline, by Newton's
method in 60-digit arithmetic from the published approximation, checked to be a strict local
minimum (positive-definite Hessian) and the best of many local searches, and rounded to the
nearest double; ``optimal_value`` is the correctly rounded function value at that stored
point.  Nothing is optimized at import.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int
from ._analytic_common import SFU
from ._base import Objective, frozen

__all__ = ["Hartmann3", "Hartmann6", "Shekel"]


class _Hartmann(Objective):
    """``-Σ_i α_i exp(-Σ_j A_ij (x_j - P_ij)²)`` with ``α = (1, 1.2, 3, 3.2)``; subclasses
    set the (4, d) tables ``_A`` and ``_P``."""

    _ALPHA = frozen([1.0, 1.2, 3.0, 3.2])
    _A: ClassVar[NDArray[np.float64]]
    _P: ClassVar[NDArray[np.float64]]

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        inner = np.einsum("ij,nij->ni", self._A, (X[:, None, :] - self._P[None, :, :]) ** 2)
        return np.asarray(-(np.exp(-inner) @ self._ALPHA))


class Hartmann3(_Hartmann):
    """Hartmann function in 3 dimensions on ``[0, 1]³`` (4 exponential wells).

    ``f(x) = -Σ_{i=1}^{4} α_i exp(-Σ_{j=1}^{3} A_ij (x_j - P_ij)²)``.

    Attributes
    ----------
    bounds : ndarray of shape (3, 2)
    optimizers : ndarray of shape (1, 3)
        ``(0.11458887665506896, 0.55564889461693, 0.8525469846866774)`` (polished).
    optimal_value : float
        ``-3.8627797873326624``.
    """

    name = "hartmann3"
    dim = 3
    bounds = frozen([[0.0, 1.0]] * 3)
    optimal_value = -3.8627797873326624
    optimizers = frozen([[0.11458887665506896, 0.55564889461693, 0.8525469846866774]])
    reference = (
        "Hartmann (1973); Dixon & Szegö (1978); constants as in "
        + SFU
        + "hart3.html. Optimizer polished to double precision by ardlib: SFU's "
        "x* = (0.114614, 0.555649, 0.852547) is off by 2.5e-5 in x1 (its value there is "
        "-3.862779786949, not the minimum); f* = -3.86278 is right to the digits given."
    )
    _A = frozen([[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]])
    _P = frozen(
        np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
        / 10_000.0
    )


class Hartmann6(_Hartmann):
    """Hartmann function in 6 dimensions on ``[0, 1]⁶`` (4 exponential wells).

    ``f(x) = -Σ_{i=1}^{4} α_i exp(-Σ_{j=1}^{6} A_ij (x_j - P_ij)²)``.  Its minimum is
    about -3.32237; -3.86278, which some libraries attach to it, is Hartmann-3's.

    Attributes
    ----------
    bounds : ndarray of shape (6, 2)
    optimizers : ndarray of shape (1, 6)
        Polished to double precision (see :attr:`reference`).
    optimal_value : float
        ``-3.3223680114155147``.
    """

    name = "hartmann6"
    dim = 6
    bounds = frozen([[0.0, 1.0]] * 6)
    optimal_value = -3.3223680114155147
    optimizers = frozen(
        [
            [
                0.20168951100670543,
                0.15001069182345797,
                0.476873974221897,
                0.2753324304940561,
                0.31165161660011326,
                0.6573005340656203,
            ]
        ]
    )
    reference = (
        "Hartmann (1973); Dixon & Szegö (1978); constants as in "
        + SFU
        + "hart6.html. Optimizer polished to double precision by ardlib; SFU's "
        "(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573), f* = -3.32237 agree to "
        "the digits given. Not -3.86278 (that is Hartmann-3's minimum)."
    )
    _A = frozen(
        [
            [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
            [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
            [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
            [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
        ]
    )
    _P = frozen(
        np.array(
            [
                [1312, 1696, 5569, 124, 8283, 5886],
                [2329, 4135, 8307, 3736, 1004, 9991],
                [2348, 1451, 3522, 2883, 3047, 6650],
                [4047, 8828, 8732, 5743, 1091, 381],
            ]
        )
        / 10_000.0
    )


class Shekel(Objective):
    """Shekel function S(4, m) on ``[0, 10]⁴``: ``m`` inverted wells.

    ``f(x) = -Σ_{i=1}^{m} 1 / (Σ_{j=1}^{4} (x_j - C_ji)² + β_i)``.

    Parameters
    ----------
    m : {5, 7, 10}, default 10
        Number of wells (the three variants of Dixon & Szegö).

    Attributes
    ----------
    bounds : ndarray of shape (4, 2)
    optimizers : ndarray of shape (1, 4)
        Close to, but not at, ``(4, 4, 4, 4)`` (see :attr:`reference`).
    optimal_value : float
        -10.153199679058227 (m=5), -10.402915336777744 (m=7), -10.536443153483528 (m=10).

    Raises
    ------
    ValueError
        If ``m`` is not one of 5, 7, 10.
    """

    name = "shekel"
    dim = 4
    bounds = frozen([[0.0, 10.0]] * 4)
    reference = (
        "Shekel (1971); Dixon & Szegö (1978); constants as in "
        + SFU
        + "shekel.html. Optimizers polished to double precision by ardlib. The literature's "
        "x* = (4, 4, 4, 4) is only approximate: the minimizers are (4.0000372, 4.0001333, "
        "4.0000372, 4.0001333) for m=5, (4.0005728, 3.9996062, ...) for m=7 and "
        "(4.0007469, 3.9995095, ...) for m=10; SFU's f* -10.1532, -10.4029, -10.5364 are "
        "right to the digits given."
    )
    _BETA = frozen([0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5])
    _C = frozen(
        [
            [4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0],
            [4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6],
            [4.0, 1.0, 8.0, 6.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0],
            [4.0, 1.0, 8.0, 6.0, 7.0, 9.0, 3.0, 1.0, 2.0, 3.6],
        ]
    )
    _OPTIMA: ClassVar[dict[int, tuple[float, tuple[float, float]]]] = {
        5: (-10.153199679058227, (4.000037152819676, 4.00013327659156)),
        7: (-10.402915336777744, (4.000572819251117, 3.9996062096096887)),
        10: (-10.536443153483528, (4.000746868270634, 3.9995094800857736)),
    }

    def __init__(self, *, m: int = 10) -> None:
        m_ = check_int(m, "m", owner="Shekel")
        if m_ not in self._OPTIMA:
            raise ValueError(f"The 'm' parameter of Shekel must be one of 5, 7, 10. Got {m!r}.")
        self.m = m_
        value, (a, b) = self._OPTIMA[m_]
        self.optimal_value = value
        self.optimizers = frozen([[a, b, a, b]])

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        centres = self._C[:, : self.m].T  # (m, 4)
        dist2 = np.sum((X[:, None, :] - centres[None, :, :]) ** 2, axis=2)  # (n, m)
        return np.asarray(-np.sum(1.0 / (dist2 + self._BETA[: self.m]), axis=1))

    def __repr__(self) -> str:
        return f"Shekel(m={self.m})"
