"""Model-free planners: uniform random search and space-filling designs (scipy.stats.qmc)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import qmc

from .._rng import RNGLike
from ._base import Planner

__all__ = ["LatinHypercube", "RandomSearch", "Sobol"]


def _scale(U: NDArray[np.float64], bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    return bounds[:, 0] + U * (bounds[:, 1] - bounds[:, 0])


class RandomSearch(Planner):
    """Uniform random sampling of the box; recommends the best observation.

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    """

    def _ask(self, n: int) -> NDArray[np.float64]:
        return _scale(self.rng_.random((n, self.dim)), self.bounds_)


class _QMCPlanner(Planner):
    _engine: qmc.QMCEngine

    def _make_engine(self) -> qmc.QMCEngine:
        raise NotImplementedError

    def _ask(self, n: int) -> NDArray[np.float64]:
        if getattr(self, "_engine", None) is None:
            self._engine = self._make_engine()
        return _scale(self._engine.random(n), self.bounds_)


class Sobol(_QMCPlanner):
    """Scrambled Sobol' sequence (scipy.stats.qmc.Sobol), drawn in order across calls.

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
        Seeds the Owen scrambling.
    goal : {"minimize", "maximize"}
    scramble : bool, default True
    """

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: RNGLike = None,
        goal: str = "minimize",
        scramble: bool = True,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.scramble = scramble

    def _make_engine(self) -> qmc.QMCEngine:
        return qmc.Sobol(self.dim, scramble=bool(self.scramble), rng=self.rng_)

    def _ask(self, n: int) -> NDArray[np.float64]:
        # Sobol' balance properties hold for powers of two; scipy warns otherwise. Campaigns
        # ask one point at a time, so draw in blocks of 2**k and hand them out in order.
        if getattr(self, "_engine", None) is None:
            self._engine = self._make_engine()
            self._buffer = np.empty((0, self.dim))
        while self._buffer.shape[0] < n:
            drawn = int(self._engine.num_generated)
            # First block 2**m >= max(n, 16); then double (draw as many as drawn so far),
            # so the total drawn is always a power of two as scipy's balance check requires.
            m = int(np.ceil(np.log2(max(n, 16)))) if drawn == 0 else int(np.log2(drawn))
            self._buffer = np.vstack([self._buffer, self._engine.random_base2(m)])
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return _scale(out, self.bounds_)


class LatinHypercube(_QMCPlanner):
    """Latin hypercube design (scipy.stats.qmc.LatinHypercube).

    Each ``ask(n)`` call draws a fresh n-point Latin hypercube, so a batch asked at once is
    stratified; one-at-a-time asks degrade to uniform sampling (ask the whole design at once).

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    optimization : {None, "random-cd", "lloyd"}, default None
        Passed to scipy to improve space filling.
    """

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: RNGLike = None,
        goal: str = "minimize",
        optimization: str | None = None,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.optimization = optimization

    def _validate_params(self) -> None:
        if self.optimization not in (None, "random-cd", "lloyd"):
            raise ValueError(
                "The 'optimization' parameter of LatinHypercube must be one of None, "
                f"'random-cd', 'lloyd'. Got {self.optimization!r}."
            )

    def _make_engine(self) -> qmc.QMCEngine:
        return qmc.LatinHypercube(self.dim, optimization=self.optimization, rng=self.rng_)

    def _ask(self, n: int) -> NDArray[np.float64]:
        engine = self._make_engine()
        return _scale(engine.random(n), self.bounds_)
