"""A fitted GP and copies of it at draws of its hyperparameters, predicted all at once.

At a few observations the MAP hyperparameters are one guess among many that fit the data
about as well; an acquisition averaged over plausible hyperparameters explores where any
of them expects improvement (Snoek et al. 2012, "Practical Bayesian optimization of
machine learning algorithms", integrated acquisition; Osborne 2010). The draws here come
from a Laplace approximation of the hyperparameter posterior at the MAP, which costs a
finite-difference Hessian of the gradient the fit already has, instead of MCMC.

:class:`HyperparameterEnsemble` predicts every member in one set of array operations: the
planners call it about 50 times per ask in the acquisition's gradient ascent, where nine
separate models cost nine times the per-call overhead (a cold Hartmann-6 ask at n = 10
took 41 ms that way instead of 16 ms for the MAP model alone).

Written by hand because it is ardlib's GP: no library exposes a Laplace approximation of
its own hyperparameter posterior or a stacked predictor with input gradients.
"""

from __future__ import annotations

import copy

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dtrtri

from .._rng import RNGLike, as_generator
from .._validation import check_int, check_real
from ._kernel import _matern52_r2
from ._model import _LOG_L, _LOG_S2, GaussianProcess, GPError

__all__ = ["HyperparameterEnsemble"]

Array = NDArray[np.float64]

#: Step of the central differences of the gradient (log-hyperparameter units).
_HESS_STEP = 1e-4


def _hessian(gp: GaussianProcess, theta: Array, k: int) -> Array:
    """Central-difference Hessian of the negative log posterior in ``theta[:k]``."""
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros_like(theta)
        e[i] = _HESS_STEP
        g_hi = gp._neg_log_posterior(theta + e)[1][:k]
        g_lo = gp._neg_log_posterior(theta - e)[1][:k]
        H[i] = (g_hi - g_lo) / (2.0 * _HESS_STEP)
    return 0.5 * (H + H.T)


class HyperparameterEnsemble:
    """A fitted :class:`GaussianProcess` plus ``n_draws`` copies at Laplace draws of its
    log lengthscales and log signal variance.

    The draws are Gaussian around the MAP with the inverse Hessian of the negative log
    posterior (likelihood plus priors, on the fit's data) as covariance, its eigenvalues
    capped at ``max_sd**2`` (a flat direction, e.g. a lengthscale the data do not
    constrain, would otherwise give draws anywhere in the box), and clipped to the fit's
    box. The noise variance and the output standardization (constant mean included) stay
    the MAP's, so all members predict in the same units; each member is conditioned on
    the same observations. A draw whose covariance is not positive definite is dropped.

    Parameters
    ----------
    gp : GaussianProcess
        Fitted, not localized; a fantasy model (:meth:`GaussianProcess.fantasize`) is
        fine: the Hessian is that of the fit's data, and every member conditions on the
        fantasies too. Memory is O(S n^2) for the inverse factors, so this is meant for
        small n (the planners use it up to 30 observations).
    n_draws : int
        Draws besides the MAP model.
    rng : None, int, SeedSequence or Generator
        Draws the hyperparameters.
    max_sd : float, default 1.0
        Largest standard deviation of the draws along any direction, in log units.

    Attributes
    ----------
    members : list of GaussianProcess
        The MAP model first, then the draws.
    """

    def __init__(
        self, gp: GaussianProcess, n_draws: int, rng: RNGLike = None, *, max_sd: float = 1.0
    ) -> None:
        name = type(self).__name__
        check_int(n_draws, "n_draws", owner=name, low=0)
        check_real(max_sd, "max_sd", owner=name, low=0, low_inclusive=False)
        gp._check_fitted()
        if gp._var_idx is not None:
            raise ValueError(
                f"The 'gp' parameter of {name} must not be localized (GaussianProcess."
                "localized); pass the model it came from."
            )
        theta = np.asarray(gp.theta_, dtype=float)
        k = theta.shape[0] - 1  # log lengthscales and log signal variance, not the noise
        members = [gp]
        if n_draws:
            w, U = np.linalg.eigh(_hessian(gp, theta, k))
            sd = 1.0 / np.sqrt(np.maximum(w, 1.0 / max_sd**2))
            steps = (as_generator(rng).standard_normal((n_draws, k)) * sd) @ U.T
            lo = np.r_[np.full(k - 1, _LOG_L[0]), _LOG_S2[0]]
            hi = np.r_[np.full(k - 1, _LOG_L[1]), _LOG_S2[1]]
            for step in steps:
                t = theta.copy()
                t[:k] = np.clip(theta[:k] + step, lo, hi)
                member = copy.copy(gp)  # _condition replaces, never mutates, its arrays
                try:
                    member._condition(t, center=False)
                except GPError:
                    continue
                members.append(member)
        self.members = members
        self._X = gp.X_
        self._inv_l2 = np.stack([m._inv_l2 for m in members])  # (S, d)
        self._s2 = np.array([m.signal_var_ for m in members])  # (S,)
        self._alpha = np.stack([m._alpha for m in members])  # (S, n)
        # n stays small (the planners use this up to 30 observations): the inverse
        # factors turn every member's triangular solve into one batched product
        self._Linv = np.stack([dtrtri(m._L, lower=1)[0] for m in members])  # (S, n, n)

    @property
    def train_means(self) -> Array:
        """Each member's posterior mean at the observations, shape (S, n), standardized."""
        return np.stack([m.train_mean_ for m in self.members])

    def _moments(self, X: Array, diff: Array) -> tuple[Array, Array, Array, Array]:
        D2 = diff * diff  # (m, n, d)
        r2 = np.einsum("mnd,sd->smn", D2, self._inv_l2)
        Ks, M = _matern52_r2(r2, self._s2[:, None, None])  # (S, m, n)
        mu = np.einsum("smn,sn->sm", Ks, self._alpha)
        V = self._Linv @ Ks.transpose(0, 2, 1)  # L^-1 Ks^T, (S, n, m)
        var = self._s2[:, None] - np.einsum("snm,snm->sm", V, V)
        return mu, var, M, V

    def predict_standardized(self, X: Array) -> tuple[Array, Array]:
        """Every member's posterior mean and latent variance at validated ``X`` (m, d).

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points (unit-cube inputs, as the members were fitted).

        Returns
        -------
        mean, var : ndarray of shape (S, m)
            Standardized units; variances floored at 1e-12 times each member's signal
            variance, as :meth:`GaussianProcess.predict_standardized` does.
        """
        mu, var, _, _ = self._moments(X, X[:, None, :] - self._X[None, :, :])
        return mu, np.maximum(var, 1e-12 * self._s2[:, None])

    def predict_standardized_grad(self, X: Array) -> tuple[Array, Array, Array, Array]:
        """Like :meth:`predict_standardized`, plus the gradients with respect to ``X``.

        The stacked counterpart of :meth:`GaussianProcess.predict_standardized_grad`
        (the same formulas, one leading axis per member); the single model keeps its
        triangular solves, which stay cheap and stable at any n, where this one's
        inverse factors are meant for the small n of the planners' ensemble.

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points.

        Returns
        -------
        mean, var : ndarray of shape (S, m)
        dmu, dvar : ndarray of shape (S, m, d)
        """
        diff = X[:, None, :] - self._X[None, :, :]  # (m, n, d)
        mu, var, M, V = self._moments(X, diff)
        # dK(x, X_b)/dx_j = -M_b (x_j - X_bj) / l_j^2, per member
        dK = -(M[..., None] * diff[None]) * self._inv_l2[:, None, None, :]  # (S, m, n, d)
        dmu = np.einsum("smnd,sn->smd", dK, self._alpha)
        Kinv_ks = self._Linv.transpose(0, 2, 1) @ V  # K^-1 Ks^T, (S, n, m)
        dvar = -2.0 * np.einsum("smnd,snm->smd", dK, Kinv_ks)
        floor = 1e-12 * self._s2[:, None]
        dvar[var <= floor] = 0.0
        return mu, np.maximum(var, floor), dmu, dvar
