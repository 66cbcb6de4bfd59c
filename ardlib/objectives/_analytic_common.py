"""Shared pieces of the analytic benchmarks: accurate kernels, the scalable base.

The kernels here exist for floating-point accuracy, not speed: the contract tests hold every
function to 1e-13 relative agreement with 50-digit arithmetic, which rules out the textbook
``1 - cos(2πx)`` (cancellation near integers) and ``sin(12x - 4)`` with a rounded argument.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int
from ._base import Objective, frozen

__all__: list[str] = []

SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments (SFU), "


def sin_pi_squared(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sin(π x)²`` accurate to a few ulps relative, also next to the zeros at integers.

    ``x - rint(x)`` is exact for ``|x| < 2**52``, so the argument handed to ``sin`` is
    ``π r`` with ``|r| <= 1/2`` instead of a large, already rounded ``π x``.
    """
    r = x - np.rint(x)
    return np.asarray(np.sin(np.pi * r) ** 2)


def two_sum(
    a: NDArray[np.float64], b: NDArray[np.float64] | float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Knuth's error-free sum: ``s + e == a + b`` exactly, with ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def two_square(a: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dekker's error-free square: ``p + e == a * a`` exactly, with ``p = fl(a * a)``.

    Veltkamp's split makes the product exact without a fused multiply-add; valid for
    ``|a| < 2**995``.
    """
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    lo = a - hi
    p = a * a
    e = ((hi * hi - p) + 2.0 * hi * lo) + lo * lo
    return p, e


class ScalableObjective(Objective):
    """Base for problems defined for any dimension ``d`` on the box ``[low, high]^d``.

    Subclasses set :attr:`domain` and, when ``d`` is restricted, :attr:`min_dim` and
    :attr:`dim_multiple`; then ``__init__`` only validates ``dim`` and builds the box.  The
    ground truth for that ``d`` is data where it can be: a single optimizer with every
    coordinate :attr:`optimizer_coordinate` and value ``d *`` :attr:`optimal_value_per_dim`;
    otherwise :meth:`_ground_truth` supplies ``(optimal_value, optimizers)``.

    Parameters
    ----------
    dim : int, default 2
        Number of input dimensions ``d``.

    Raises
    ------
    ValueError
        If ``dim`` is not an int >= :attr:`min_dim` (and a multiple of
        :attr:`dim_multiple` where that applies).
    """

    domain: ClassVar[tuple[float, float]] = (0.0, 1.0)
    min_dim: ClassVar[int] = 1
    dim_multiple: ClassVar[int] = 1
    optimizer_coordinate: ClassVar[float | None] = None
    optimal_value_per_dim: ClassVar[float] = 0.0

    def __init__(self, *, dim: int = 2) -> None:
        owner = type(self).__name__
        d = check_int(dim, "dim", owner=owner, low=self.min_dim)
        if d % self.dim_multiple:
            raise ValueError(
                f"The 'dim' parameter of {owner} must be an int multiple of "
                f"{self.dim_multiple}. Got {dim!r}."
            )
        self._set_box(np.tile(self.domain, (d, 1)))
        value, where = self._ground_truth(d)
        self.optimal_value = value
        self.optimizers = None if where is None else frozen(np.atleast_2d(where))

    def _ground_truth(self, d: int) -> tuple[float | None, NDArray[np.float64] | None]:
        """``(optimal_value, optimizers of shape (k, d))`` for dimension ``d``, or Nones."""
        if self.optimizer_coordinate is None:
            return None, None
        return d * self.optimal_value_per_dim, np.full((1, d), self.optimizer_coordinate)
