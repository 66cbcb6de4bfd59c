"""Maximize an acquisition function over the unit cube: raw candidates, then gradients.

1. Score ``n_raw`` scrambled-Sobol candidates plus Gaussian perturbations of the best
   evaluated points (local candidates find the narrow basin a global design misses).
   Given a cheap upper bound of the utility, only the candidates whose bound can reach
   the ``n_starts`` best values are scored exactly (branch and bound): the same starts
   as scoring every candidate, at a fraction of the cost when the exact score is the
   expensive part (the posterior variance with many observations).
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
#: Candidates scored exactly per round of the branch and bound (_screen).
_SCREEN_BATCH = 64
_SCREEN_SLACK = 1e-6


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


def _screen(utility: Utility, upper: Callable[[Array], Array], cand: Array, k: int) -> Array:
    """Exact utility of every candidate that can be among the ``k`` best, -inf elsewhere.

    Candidates are scored exactly in decreasing order of their upper bound until the next
    bound is below the k-th best exact value found: no candidate left can then enter the
    top k, so the top k (and their order) are those of scoring everything.
    """
    # the slack covers rounding differences between the bound's and the exact evaluation
    ub = np.nan_to_num(upper(cand), nan=np.inf) + _SCREEN_SLACK
    order = np.argsort(-ub, kind="stable")
    vals = np.full(cand.shape[0], -np.inf)
    done = 0
    while done < order.size:
        idx = order[done : done + _SCREEN_BATCH]
        vals[idx], _ = utility(cand[idx], grad=False)
        done += idx.size
        if done >= k and done < order.size:
            scored = vals[order[:done]]
            kth = np.partition(np.where(np.isfinite(scored), scored, -np.inf), -k)[-k]
            if ub[order[done]] < kth:
                break
    return vals


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
    upper: Callable[[Array], Array] | None = None,
    ascent: Callable[[Array], Utility] | None = None,
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
    upper : callable, optional
        ``upper(X)`` maps ``X`` (m, d) to an upper bound of the utility (m,), cheaper than
        the utility itself; candidates that cannot be among the ``n_starts`` best are
        then never scored exactly (see the module docstring).
    ascent : callable, optional
        ``ascent(starts)`` maps the start points (k, d) to a cheaper approximation of
        ``utility`` near them, used for the gradient ascent only; the points it reaches
        are scored with ``utility`` itself before the best is chosen.

    Returns
    -------
    x : ndarray of shape (d,)
    value : float
    """
    cand = _raw_candidates(d, n_raw, anchors, scales, rng)
    if upper is None:
        vals, _ = utility(cand, grad=False)
    else:
        vals = _screen(utility, upper, cand, n_starts)
    finite = np.isfinite(vals)
    if not finite.any():
        return cand[0], float("-inf")
    order = np.argsort(np.where(finite, -vals, np.inf), kind="stable")
    starts = cand[order[:n_starts]]
    k = starts.shape[0]
    climb = utility if ascent is None else ascent(starts)

    def neg(flat: Array) -> tuple[float, Array]:
        v, g = climb(flat.reshape(k, d))
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
