"""Acquisition functions on a fitted GP, with analytic input gradients.

All functions work in the GP's standardized output units on a *minimization* problem and
return a utility to MAXIMIZE, shape (m,), with its gradient, shape (m, d).

- :func:`log_ei`: log expected improvement, evaluated through ``log h(z)`` with
  ``h(z) = phi(z) + z Phi(z)`` in a form that stays finite and accurate far in the left
  tail (Ament et al. 2023, "Unexpected improvements to expected improvement", eq. 9),
  where plain EI underflows to 0 and gives an optimizer no gradient.
- :func:`ensemble_log_ei`: the log of EI averaged over the members of a
  :class:`~ardlib.gp.HyperparameterEnsemble` (EI integrated over the hyperparameters,
  Snoek et al. 2012), each member's EI against its own incumbent.
- :func:`ucb`: lower confidence bound ``-(mu - sqrt(beta) sigma)`` (Srinivas et al. 2010).
- :func:`noisy_log_ei`: augmented expected improvement for noisy observations
  (Huang et al. 2006): EI against the best posterior mean among evaluated points,
  times ``1 - sigma_n / sqrt(sigma^2 + sigma_n^2)`` which discounts points where more
  replication would not reduce uncertainty.

Written by hand: the closed forms are a few lines and the planners need them fused with
the GP's gradient path; a dependency would not save code.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import erfcx, log_ndtr, ndtr

from ..gp import GaussianProcess, HyperparameterEnsemble

__all__ = ["ensemble_log_ei", "log_ei", "log_h", "noisy_log_ei", "ucb"]

Array = NDArray[np.float64]
_C1 = 0.5 * np.log(2.0 * np.pi)
_C2 = 0.5 * np.log(np.pi / 2.0)
_INV_SQRT2 = 1.0 / np.sqrt(2.0)


def _log1mexp(x: Array) -> Array:
    """``log(1 - exp(x))`` for ``x < 0``, accurate on both sides of ``-log 2``."""
    out = np.empty_like(x)
    near = x > -np.log(2.0)
    # each side only when it has elements (the same values; empty masked operations cost
    # microseconds in the acquisition's gradient ascent, which evaluates a few points)
    if near.any():
        out[near] = np.log(-np.expm1(x[near]))
    if not near.all():
        out[~near] = np.log1p(-np.exp(x[~near]))
    return out


# Below this z the asymptotic expansion is used: its relative error in h is ~3/z^2 (3e-8 at
# the switch, i.e. 6e-16 relative in log h ~ -5e7), while the erfcx form would need
# log(1 - exp(x)) of an x that cancels to within rounding of 0 and can round to >= 0.
_Z_ASYMPTOTIC = -1e4


def log_h(z: Array) -> Array:
    """``log(phi(z) + z Phi(z))``, finite for every finite ``z``.

    Three regimes (Ament et al. 2023, with the asymptotic switch moved from
    ``-1/sqrt(eps)`` to ``-1e4`` where both forms agree to double precision): direct for
    ``z > -1``; via the scaled complementary error function for ``-1e4 < z <= -1``;
    asymptotic ``-z^2/2 - c1 - 2 log|z|`` below that.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    hi = z > -1.0
    # each regime only when it has elements (as in _log1mexp)
    if hi.any():
        zh = z[hi]
        out[hi] = np.log(np.exp(-0.5 * zh * zh - _C1) + zh * ndtr(zh))
    mid = (~hi) & (z > _Z_ASYMPTOTIC)
    if mid.any():
        zm = z[mid]
        out[mid] = (
            -0.5 * zm * zm - _C1 + _log1mexp(np.log(erfcx(-zm * _INV_SQRT2) * np.abs(zm)) + _C2)
        )
    lo = ~(hi | mid)
    if lo.any():
        zl = z[lo]
        out[lo] = -0.5 * zl * zl - _C1 - 2.0 * np.log(np.abs(zl))
    return out


def _dlog_h(z: Array, lh: Array) -> Array:
    """``d log h / dz = Phi(z) / h(z)``, computed in log space."""
    return np.exp(log_ndtr(z) - lh)


def _moments(
    gp: GaussianProcess, X: Array, grad: bool, bound: bool = False
) -> tuple[Array, Array, Array, Array]:
    if bound:  # every utility here increases with sigma: an upper bound for screening
        mu, var = gp.predict_var_bound_standardized(X)
        nothing = np.zeros((X.shape[0], 0))
        return mu, np.sqrt(var), nothing, nothing
    if not grad:  # value-only path for scoring many raw candidates: skip the (m, n, d) work
        mu, var = gp.predict_standardized(X)
        nothing = np.zeros((X.shape[0], 0))
        return mu, np.sqrt(var), nothing, nothing
    mu, var, dmu, dvar = gp.predict_standardized_grad(X)
    sigma = np.sqrt(var)
    dsigma = dvar / (2.0 * sigma)[:, None]
    return mu, sigma, dmu, dsigma


def _log_ei_core(
    mu: Array, sigma: Array, dmu: Array, dsigma: Array, best: float | Array
) -> tuple[Array, Array]:
    z = (best - mu) / sigma
    lh = log_h(z)
    val = lh + np.log(sigma)
    if dmu.shape[1] == 0:
        return val, dmu
    dz = -(dmu + z[:, None] * dsigma) / sigma[:, None]
    grad = _dlog_h(z, lh)[:, None] * dz + dsigma / sigma[:, None]
    return val, grad


def log_ei(
    gp: GaussianProcess, X: Array, *, best: float, grad: bool = True, bound: bool = False
) -> tuple[Array, Array]:
    """Log expected improvement below ``best`` (standardized units) at ``X`` (m, d).

    ``bound=True`` returns, without gradient, an upper bound of the value from
    :meth:`GaussianProcess.predict_var_bound_standardized` (EI increases with sigma), for
    screening candidates; the same holds for :func:`noisy_log_ei` and :func:`ucb`.

    Returns
    -------
    value : ndarray of shape (m,)
    grad : ndarray of shape (m, d), or (m, 0) when ``grad=False`` or ``bound=True``
    """
    return _log_ei_core(*_moments(gp, X, grad and not bound, bound), best)


def ensemble_log_ei(
    ens: HyperparameterEnsemble,
    X: Array,
    *,
    best: Array,
    grad: bool = True,
    bound: bool = False,
) -> tuple[Array, Array]:
    """``log(mean_s EI_s(x))`` over the ensemble's S members at ``X`` (m, d).

    Summed in log space (log-sum-exp of the members' log EI), so it stays finite where
    every member's EI underflows; the gradient is the members' log-EI gradients weighted
    by their share of the mean.

    Parameters
    ----------
    ens : HyperparameterEnsemble
    X : ndarray of shape (m, d)
    best : ndarray of shape (S,)
        Each member's incumbent (standardized units), e.g. the minimum of its
        ``train_mean_``.
    grad : bool, default True
        False skips the gradient (returned with shape (m, 0)).
    bound : bool, default False
        An upper bound of the value instead: the largest of the members' bounds (see
        :func:`log_ei`), since a mean is at most its largest term.

    Returns
    -------
    value : ndarray of shape (m,)
    grad : ndarray of shape (m, d), or (m, 0)
    """
    S, m = len(ens.members), X.shape[0]
    if bound:
        pairs = zip(ens.members, best, strict=True)
        vals = [log_ei(g, X, best=float(b), bound=True)[0] for g, b in pairs]
        return np.max(vals, axis=0), np.zeros((m, 0))
    b = np.repeat(np.asarray(best, dtype=float), m)
    if grad:
        mu, var, dmu, dvar = ens.predict_standardized_grad(X)
        sigma = np.sqrt(var.ravel())
        dsigma = dvar.reshape(S * m, -1) / (2.0 * sigma)[:, None]
        lv, lg = _log_ei_core(mu.ravel(), sigma, dmu.reshape(S * m, -1), dsigma, b)
    else:
        mu, var = ens.predict_standardized(X)
        none = np.zeros((S * m, 0))
        lv, lg = _log_ei_core(mu.ravel(), np.sqrt(var.ravel()), none, none, b)
    lv = lv.reshape(S, m)
    top = lv.max(axis=0)
    w = np.exp(lv - top)
    total = w.sum(axis=0)
    val = top + np.log(total) - np.log(S)
    if not grad:
        return val, np.zeros((m, 0))
    return val, np.einsum("sm,smd->md", w / total, lg.reshape(S, m, -1))


def noisy_log_ei(
    gp: GaussianProcess,
    X: Array,
    *,
    best: float,
    noise_var: float,
    grad: bool = True,
    bound: bool = False,
) -> tuple[Array, Array]:
    """Log augmented EI (Huang et al. 2006) at ``X`` (m, d).

    Parameters
    ----------
    best : float
        Posterior mean at the "effective best" evaluated point, standardized units.
    noise_var : float
        Observation noise variance, standardized units.
    grad : bool, default True
        False skips the gradient (returned with shape (m, 0)).
    bound : bool, default False
        An upper bound of the value instead (see :func:`log_ei`); both factors increase
        with sigma.
    """
    grad = grad and not bound
    mu, sigma, dmu, dsigma = _moments(gp, X, grad, bound)
    val, g = _log_ei_core(mu, sigma, dmu, dsigma, best)
    sn = np.sqrt(noise_var)
    s = np.sqrt(sigma * sigma + noise_var)
    val = val + np.log1p(-sn / s)
    if not grad:
        return val, g
    # d/dx log(1 - sn/s) = (sn / s^2) * ds/dx / (1 - sn/s),  ds/dx = sigma dsigma / s
    factor = (sn * sigma / s**3) / (1.0 - sn / s)
    return val, g + factor[:, None] * dsigma


def ucb(
    gp: GaussianProcess, X: Array, *, beta: float, grad: bool = True, bound: bool = False
) -> tuple[Array, Array]:
    """Negated lower confidence bound ``-(mu - sqrt(beta) sigma)`` at ``X`` (m, d).

    ``bound=True``: an upper bound of the value, as in :func:`log_ei`.
    """
    mu, sigma, dmu, dsigma = _moments(gp, X, grad and not bound, bound)
    rb = np.sqrt(beta)
    return -(mu - rb * sigma), -(dmu - rb * dsigma)
