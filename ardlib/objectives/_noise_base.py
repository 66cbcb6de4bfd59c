"""The observation contract: how a noise/failure model turns true values into measurements.

A model never touches global random state: :meth:`NoiseModel.observe` takes ``rng``.
Models compose left to right with :class:`Compose` (input noise first, then output noise,
then failures), each seeing the :class:`Observation` the previous one produced.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._rng import RNGLike, as_generator
from .._validation import check_points
from ._base import Objective

__all__ = ["NoiseModel", "Observation"]


@dataclass(frozen=True)
class Observation:
    """What a lab reports for a batch of requested points.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        The requested points.
    X_actual : ndarray of shape (n, d)
        Where the experiment actually ran (differs from ``X`` under input noise).
    y_true : ndarray of shape (n,)
        Noise-free objective at the requested points ``X`` (what regret is scored on).
    y : ndarray of shape (n,)
        The measured values; NaN where the experiment failed.
    failed : ndarray of bool, shape (n,)
    reason : tuple of (str or None), length n
        Why each failed experiment failed; None for successes.
    step : ndarray of int, shape (n,)
        Campaign step of each experiment (drives drift models).
    """

    X: NDArray[np.float64]
    X_actual: NDArray[np.float64]
    y_true: NDArray[np.float64]
    y: NDArray[np.float64]
    failed: NDArray[np.bool_]
    reason: tuple[str | None, ...]
    step: NDArray[np.int64]

    def with_(self, **changes: object) -> Observation:
        """A copy with some fields replaced (observations are immutable).

        Parameters
        ----------
        **changes
            Field name -> new value.

        Returns
        -------
        Observation
        """
        return replace(self, **changes)  # type: ignore[arg-type]


class NoiseModel(ABC):
    """Base class: turns noise-free values into measurements, explicitly seeded."""

    def observe(
        self,
        objective: Objective,
        X: ArrayLike,
        *,
        step: int | ArrayLike = 0,
        rng: RNGLike = None,
    ) -> Observation:
        """Run the experiments at ``X`` on ``objective`` and report what was measured.

        Parameters
        ----------
        objective : Objective
        X : array-like of shape (n, d)
        step : int or array-like of shape (n,), default 0
            Campaign step index of each experiment.
        rng : None, int, SeedSequence or Generator
            Draws this call's noise; the only source of randomness.

        Returns
        -------
        Observation
        """
        pts = check_points(X, objective.bounds, owner=f"{type(self).__name__}.observe")
        n = pts.shape[0]
        steps = np.broadcast_to(np.asarray(step, dtype=np.int64), (n,)).copy()
        y_true = objective.evaluate_true(pts)
        obs = Observation(
            X=pts,
            X_actual=pts,
            y_true=y_true,
            y=y_true.copy(),
            failed=np.zeros(n, dtype=bool),
            reason=(None,) * n,
            step=steps,
        )
        return self.transform(objective, obs, as_generator(rng))

    @abstractmethod
    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        """Apply this model to an observation; must not mutate ``obs``.

        Parameters
        ----------
        objective : Objective
            The problem measured.
        obs : Observation
            The observation so far (never mutated).
        rng : numpy.random.Generator
            The only source of randomness.

        Returns
        -------
        Observation
            A new observation.
        """

    def spec(self) -> dict[str, object]:
        """JSON-able description (class name and settings), used for hashing studies.

        Returns
        -------
        dict
            ``model`` (the class name) and the settings.
        """
        return {"model": type(self).__name__, **{k: _jsonable(v) for k, v in vars(self).items()}}


def _jsonable(v: object) -> object:
    if isinstance(v, NoiseModel):
        return v.spec()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v
