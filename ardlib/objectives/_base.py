"""The :class:`Objective` contract: a problem to optimize with its ground truth attached."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_bounds, check_points

__all__ = ["Goal", "Objective"]

Goal = Literal["minimize", "maximize"]


def frozen(values: ArrayLike) -> NDArray[np.float64]:
    """A read-only float copy of ``values``: ground truth must not be edited in place."""
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


class Objective(ABC):
    """A benchmark problem: noise-free values plus everything known about its optimum.

    Subclasses set the class attributes (or instance attributes in ``__init__`` for
    dimension-scalable problems) and implement :meth:`_evaluate` on already-validated input.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"branin"``.
    dim : int
        Number of input dimensions ``d``.
    bounds : ndarray of shape (d, 2)
        ``[low, high]`` per dimension; the feasible set is this box.
    goal : {"minimize", "maximize"}
        Direction of optimization.
    optimal_value : float or None
        The best attainable value, where known.
    optimizers : ndarray of shape (k, d) or None
        All known points attaining ``optimal_value`` (inside the bounds).
    reference : str
        Where the definition and the optimum come from.
    """

    name: ClassVar[str] = ""
    goal: Goal = "minimize"
    reference: str = ""

    dim: int
    bounds: NDArray[np.float64]
    optimal_value: float | None = None
    optimizers: NDArray[np.float64] | None = None

    def evaluate_true(self, X: ArrayLike) -> NDArray[np.float64]:
        """Noise-free objective values.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points inside :attr:`bounds`, one per row.

        Returns
        -------
        ndarray of shape (n,)

        Raises
        ------
        ValueError
            If ``X`` is not 2-D with ``d`` columns, holds NaN/inf, or leaves the bounds.
        """
        pts = check_points(X, self.bounds, owner=type(self).__name__)
        return np.asarray(self._evaluate(pts), dtype=float).reshape(pts.shape[0])

    __call__ = evaluate_true

    @abstractmethod
    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values at validated points ``X`` of shape (n, d); returns shape (n,)."""

    def regret(self, values: ArrayLike) -> NDArray[np.float64]:
        """Simple regret of true values: distance to :attr:`optimal_value`, >= 0 when exact.

        ``f - f*`` when minimizing, ``f* - f`` when maximizing.

        Parameters
        ----------
        values : array-like
            True objective values.

        Returns
        -------
        ndarray
            Same shape as ``values``.

        Raises
        ------
        ValueError
            If the problem has no known optimal value.
        """
        if self.optimal_value is None:
            raise ValueError(
                f"{type(self).__name__} has no known optimal_value, so regret is undefined."
            )
        v = np.asarray(values, dtype=float)
        sign = 1.0 if self.goal == "minimize" else -1.0
        return sign * (v - self.optimal_value)

    def better(self, a: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:
        """Elementwise: is ``a`` strictly better than ``b`` for this problem's goal?

        Parameters
        ----------
        a, b : array-like
            Values to compare (broadcast).

        Returns
        -------
        ndarray of bool
        """
        a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.asarray(a_ < b_ if self.goal == "minimize" else a_ > b_)

    def _set_box(self, bounds: ArrayLike) -> None:
        """Validate and store ``bounds`` (read-only) and ``dim``."""
        self.bounds = frozen(check_bounds(bounds, owner=type(self).__name__))
        self.dim = self.bounds.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"
