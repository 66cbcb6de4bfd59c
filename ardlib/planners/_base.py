"""The ask/tell/recommend contract every planner follows.

Constructors store keyword-only settings under their own names and nothing else
(scikit-learn style); validation happens on first use; learned state ends in ``_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._rng import RNGLike, as_generator
from .._validation import check_bounds, check_int, check_points, check_values

__all__ = ["NotReadyError", "Planner"]


class NotReadyError(RuntimeError):
    """A planner method was called before the call it depends on (e.g. recommend before tell)."""


class Planner(ABC):
    """Base class of experiment planners.

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
        Search box, ``[low, high]`` per dimension.
    rng : None, int, SeedSequence or Generator
        Source of every random choice the planner makes.
    goal : {"minimize", "maximize"}
        Direction; planners minimize internally and flip signs for ``"maximize"``.

    Notes
    -----
    ``tell`` accepts NaN in ``y`` for failed experiments: they are recorded in
    ``X_failed_`` and never enter a model as numbers.
    """

    def __init__(self, *, bounds: ArrayLike, rng: RNGLike = None, goal: str = "minimize") -> None:
        self.bounds = bounds
        self.rng = rng
        self.goal = goal

    # -- state ---------------------------------------------------------------------------
    def _ensure_setup(self) -> None:
        if getattr(self, "bounds_", None) is not None:
            return
        name = type(self).__name__
        bounds = check_bounds(self.bounds, owner=name)
        if self.goal not in ("minimize", "maximize"):
            raise ValueError(
                f"The 'goal' parameter of {name} must be one of 'minimize', 'maximize'. "
                f"Got {self.goal!r}."
            )
        self._sign = 1.0 if self.goal == "minimize" else -1.0
        self.rng_ = as_generator(self.rng)
        d = bounds.shape[0]
        self.X_ = np.empty((0, d))
        self.y_ = np.empty(0)
        self.X_failed_ = np.empty((0, d))
        self.bounds_ = bounds  # set before the hooks, which may use it ...
        try:
            self._validate_params()
            self._setup()
        except Exception:
            del self.bounds_  # ... and unset on failure: the next call validates again
            raise

    def _validate_params(self) -> None:  # noqa: B027 - optional hook
        """Check subclass settings (and nothing else); called once, on first use."""

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Create learned state after validation (e.g. draw an initial design)."""

    @property
    def dim(self) -> int:
        """Number of input dimensions."""
        self._ensure_setup()
        return int(self.bounds_.shape[0])

    @property
    def n_observations(self) -> int:
        """Number of successful observations told so far."""
        self._ensure_setup()
        return int(self.y_.shape[0])

    def _n_told(self) -> int:
        """Experiments told so far, failed ones included (for hooks, after setup)."""
        return int(self.X_.shape[0] + self.X_failed_.shape[0])

    # -- public API ---------------------------------------------------------------------
    def ask(self, n: int = 1) -> NDArray[np.float64]:
        """Propose the next ``n`` points to evaluate.

        Parameters
        ----------
        n : int, default 1
            Number of points.

        Returns
        -------
        ndarray of shape (n, d)
            Points inside the bounds.
        """
        self._ensure_setup()
        n = check_int(n, "n", owner=f"{type(self).__name__}.ask", low=1)
        X = np.asarray(self._ask(n), dtype=float)
        return np.clip(X, self.bounds_[:, 0], self.bounds_[:, 1])

    def tell(self, X: ArrayLike, y: ArrayLike) -> None:
        """Record outcomes: ``X`` of shape (n, d), ``y`` of shape (n,), NaN for a failure.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Evaluated points, inside the bounds.
        y : array-like of shape (n,)
            Outcomes; NaN marks a failed experiment.
        """
        self._ensure_setup()
        owner = f"{type(self).__name__}.tell"
        pts = check_points(X, self.bounds_, owner=owner)
        vals = check_values(y, pts.shape[0], owner=owner)
        ok = ~np.isnan(vals)
        self.X_ = np.vstack([self.X_, pts[ok]])
        self.y_ = np.concatenate([self.y_, vals[ok]])
        self.X_failed_ = np.vstack([self.X_failed_, pts[~ok]])
        self._tell(pts, vals)

    def recommend(self) -> NDArray[np.float64]:
        """The point the planner believes is best, shape (d,).

        Returns
        -------
        ndarray of shape (d,)
            A copy.

        Raises
        ------
        NotReadyError
            If no successful observation has been told yet.
        """
        self._ensure_setup()
        if self.y_.shape[0] == 0:
            raise NotReadyError(
                f"{type(self).__name__}.recommend() needs at least one successful observation; "
                "call tell(X, y) first."
            )
        return np.array(self._recommend(), dtype=float).reshape(self.dim)  # a copy, never a view

    # -- hooks ---------------------------------------------------------------------------
    @abstractmethod
    def _ask(self, n: int) -> NDArray[np.float64]:
        """Return ``n`` points of shape (n, d)."""

    def _tell(self, X: NDArray[np.float64], y: NDArray[np.float64]) -> None:  # noqa: B027
        """React to new observations (already appended to ``X_``/``y_``)."""

    def _recommend(self) -> NDArray[np.float64]:
        """Default: the best observed point (right for model-free planners without noise)."""
        return self.X_[int(np.argmin(self._sign * self.y_))]

    def get_params(self) -> dict[str, Any]:
        """Constructor settings, as stored (scikit-learn style).

        Returns
        -------
        dict
            Constructor parameter name -> stored value.
        """
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params().items() if k not in ("bounds", "rng")
        )
        return f"{type(self).__name__}({args})"
