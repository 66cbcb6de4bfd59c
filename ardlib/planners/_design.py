"""Model-free planners (uniform random search, space-filling designs from scipy.stats.qmc)
and the initial design that model-based planners propose first (``_DesignFirst``)."""

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


class _DesignFirst(Planner):
    """A model-based planner's initial design, shared by BayesianOptimization and the peer
    adapters: ``n_initial`` scrambled Sobol' points drawn first from ``rng`` (so both start
    from the same points as a Sobol planner of the same seed), proposed until the planner
    knows ``n_initial`` experiments, asked or told."""

    n_initial: int

    def _setup_design(self) -> None:
        self._design = Sobol(bounds=self.bounds_, rng=self.rng_)
        self._init_X = self._design.ask(self.n_initial)
        self.n_asked_ = 0
        self._n_design = 0  # initial-design points proposed so far

    def _design_points(self, n: int) -> list[NDArray[np.float64]]:
        """The next of at most ``n`` design points: the design fills up to ``n_initial``
        experiments, so a planner told earlier ones models them from its first ask (the
        told count includes failures)."""
        k = min(n, max(0, self.n_initial - max(self.n_asked_, self._n_told())))
        out = list(self._init_X[self._n_design : self._n_design + k])
        self._n_design += k
        return out
