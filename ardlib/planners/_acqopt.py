"""Maximize an acquisition function over the unit cube: raw candidates, then gradients.

1. Score ``n_raw`` scrambled-Sobol candidates plus Gaussian perturbations of the best
   evaluated points (local candidates find the narrow basin a global design misses).
2. Start L-BFGS-B from the ``n_starts`` best candidates, all at once: the utilities of
   separate starts are independent, so one bounded problem over the stacked points with
   the summed utility has a block-separable gradient (the batching trick BoTorch uses) and
   costs one scipy call instead of ``n_starts``.
3. Return the best point found.

Written by hand because the batching and the failure penalty are specific to ardlib's
planners; scipy supplies the optimizer and the quasi-random candidates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.stats import qmc

__all__ = ["maximize_acquisition"]

Array = NDArray[np.float64]
Utility = Callable[..., tuple[Array, Array]]


def _raw_candidates(
    d: int, n_raw: int, anchors: Array, scales: Array, rng: np.random.Generator
) -> Array:
    sob = qmc.Sobol(d, scramble=True, rng=rng).random_base2(int(np.ceil(np.log2(n_raw))))
    if anchors.shape[0] == 0:
        return sob
    per = max(1, n_raw // (4 * anchors.shape[0]))
    local = []
    for s in (1.0, 0.1):
        noise = rng.standard_normal((anchors.shape[0], per, d)) * (s * scales)
        local.append((anchors[:, None, :] + noise).reshape(-1, d))
    return np.clip(np.vstack([sob, *local]), 0.0, 1.0)


def maximize_acquisition(
    utility: Utility,
    d: int,
    *,
    anchors: Array,
    scales: Array,
    rng: np.random.Generator,
    n_raw: int = 512,
    n_starts: int = 4,
    max_iter: int = 100,
) -> tuple[Array, float]:
    """Best point of ``utility`` in ``[0, 1]^d``.

    Parameters
    ----------
    utility : callable
        ``utility(X, grad=True)`` maps ``X`` of shape (m, d) to ``(value (m,), grad (m, d))``,
        to be maximized; with ``grad=False`` the gradient may be skipped.
    d : int
        Dimension.
    anchors : ndarray of shape (k, d)
        Points to perturb for local candidates (e.g. the best evaluated points).
    scales : ndarray of shape (d,)
        Perturbation standard deviation per dimension (e.g. the GP lengthscales).
    rng : numpy.random.Generator
    n_raw, n_starts, max_iter : int
        Candidate count, gradient starts, L-BFGS-B iterations.

    Returns
    -------
    x : ndarray of shape (d,)
    value : float
    """
    cand = _raw_candidates(d, n_raw, anchors, scales, rng)
    vals, _ = utility(cand, grad=False)
    finite = np.isfinite(vals)
    if not finite.any():
        return cand[0], float("-inf")
    order = np.argsort(np.where(finite, -vals, np.inf), kind="stable")
    starts = cand[order[:n_starts]]
    k = starts.shape[0]

    def neg(flat: Array) -> tuple[float, Array]:
        v, g = utility(flat.reshape(k, d))
        # A start that wanders onto -inf (e.g. a failed point) must not poison the others.
        v = np.where(np.isfinite(v), v, -1e10)
        g = np.where(np.isfinite(g), g, 0.0)
        return float(-v.sum()), -g.ravel()

    res = minimize(
        neg,
        starts.ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (k * d),
        options={"maxiter": max_iter},
    )
    pts = np.clip(res.x.reshape(k, d), 0.0, 1.0)
    v, _ = utility(pts, grad=False)
    pts = np.vstack([pts, cand[order[:1]]])
    v = np.r_[v, vals[order[0]]]
    i = int(np.nanargmax(np.where(np.isfinite(v), v, -np.inf)))
    return pts[i], float(v[i])
