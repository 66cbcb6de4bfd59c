"""A planner written outside ardlib, used by ``benchmark_your_planner.ipynb``.

Replace :class:`LocalSearch` with your own: subclass :class:`ardlib.planners.Planner`, take
your settings as keyword arguments (stored under their own names), and implement ``_ask``.
The base class checks arguments, keeps every observation in ``X_`` and ``y_`` (failed
experiments in ``X_failed_``), clips proposals to the bounds and recommends the best
observed point unless you override ``_recommend``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ardlib.planners import Planner


class LocalSearch(Planner):
    """Random local search: ``n_initial`` uniform points, then Gaussian steps around the
    best observation; the step shrinks by ``shrink`` after a step that does not improve
    and grows by ``1 / shrink`` (up to ``step``) after one that does.

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    n_initial : int, default 5
        Uniform points before the local steps.
    step : float, default 0.2
        First step size, as a fraction of each dimension's range.
    shrink : float, default 0.85
        Factor applied to the step after a step that does not improve, in (0, 1].
    """

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: object = None,
        goal: str = "minimize",
        n_initial: int = 5,
        step: float = 0.2,
        shrink: float = 0.85,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)  # type: ignore[arg-type]
        self.n_initial = n_initial
        self.step = step
        self.shrink = shrink

    def _validate_params(self) -> None:
        if not (isinstance(self.n_initial, int) and self.n_initial >= 1):
            raise ValueError(f"n_initial must be an int >= 1. Got {self.n_initial!r}.")
        if not 0 < self.step <= 1:
            raise ValueError(f"step must be in (0, 1]. Got {self.step!r}.")
        if not 0 < self.shrink <= 1:
            raise ValueError(f"shrink must be in (0, 1]. Got {self.shrink!r}.")

    def _setup(self) -> None:
        self.step_ = float(self.step)
        self.best_ = np.inf

    def _tell(self, X: NDArray[np.float64], y: NDArray[np.float64]) -> None:
        signed = self._sign * y[~np.isnan(y)]
        if signed.size and signed.min() < self.best_:
            self.best_ = float(signed.min())
            if self.n_observations > self.n_initial:
                self.step_ = min(self.step_ / self.shrink, self.step)
        elif self.n_observations > self.n_initial:
            self.step_ *= self.shrink

    def _ask(self, n: int) -> NDArray[np.float64]:
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        if self.n_observations < self.n_initial:
            return lo + self.rng_.random((n, self.dim)) * (hi - lo)
        center = self.X_[int(np.argmin(self._sign * self.y_))]
        steps = self.rng_.normal(0.0, self.step_, (n, self.dim)) * (hi - lo)
        return np.clip(center + steps, lo, hi)
