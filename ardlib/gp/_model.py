"""Exact Gaussian-process regression with a Matern-5/2 ARD kernel and learned noise.

ardlib's own GP (numpy/scipy) because planner latency is a product feature: fitting is a
few milliseconds at n = 100 with analytic marginal-likelihood gradients, a reused
squared-difference tensor and warm starts, where general-purpose libraries spend tens to
hundreds of milliseconds per suggestion.

Model, on standardized outputs ``z = (y - mean(y)) / std(y)``::

    z = f(x) + eps,   f ~ GP(0, s2 * matern52(l)),   eps ~ N(0, sn2)

Hyperparameters ``theta = log([l_1..l_d, s2, sn2])`` are fitted by maximizing the log
marginal likelihood plus weak log-normal priors (MAP), from several starts with L-BFGS-B.
The lengthscale prior is the dimension-scaled one of Hvarfner et al. 2024 (inputs are
expected in the unit cube); the priors keep small-n fits away from degenerate solutions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.linalg.lapack import dpotri
from scipy.optimize import minimize

from .._rng import RNGLike, as_generator
from .._threads import single_threaded_blas
from .._validation import check_int, check_points, check_real
from ._kernel import matern52_from_sq, matern52_gram, sq_diffs

__all__ = ["GPError", "GaussianProcess", "Posterior"]

Array = NDArray[np.float64]
LOG_2PI = float(np.log(2.0 * np.pi))

# Hyperparameter box in log space (unit-cube inputs, standardized outputs).
_LOG_L = (np.log(5e-3), np.log(20.0))
_LOG_S2 = (np.log(1e-2), np.log(1e2))
_LOG_SN2 = (np.log(1e-12), np.log(10.0))
# Weak log-normal priors: (mean, sd) of the log value.
_PRIOR_S2 = (0.0, 2.0)
_PRIOR_SN2 = (-12.0, 4.0)
_PRIOR_L = (float(np.sqrt(2.0)), float(np.sqrt(3.0)))
_JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4)


class GPError(RuntimeError):
    """The GP could not be fitted or evaluated (e.g. a covariance matrix that stays
    singular after jitter escalation); never silently replaced by NaN."""


@dataclass(frozen=True)
class Posterior:
    """Posterior of the latent function at m test points (original output units).

    Attributes
    ----------
    mean : ndarray of shape (m,)
    var : ndarray of shape (m,)
        Variance of the latent function (observation noise excluded).
    """

    mean: Array
    var: Array

    @property
    def std(self) -> Array:
        """Posterior standard deviation, shape (m,)."""
        return np.sqrt(self.var)


#: Largest (m, n, d) array of squared differences a prediction builds at once (128 MB).
_CHUNK_ELEMENTS = 16_000_000


def _cholesky_with_jitter(K: Array) -> tuple[Array, float]:
    """Lower Cholesky factor of ``K``, adding diagonal jitter on failure (escalating)."""
    scale = float(np.mean(np.diag(K))) or 1.0
    for jitter in _JITTERS:
        try:
            A = K if jitter == 0.0 else K + (jitter * scale) * np.eye(K.shape[0])
            return cholesky(A, lower=True, check_finite=False), jitter * scale
        except np.linalg.LinAlgError:
            continue
    raise GPError(
        f"covariance matrix of size {K.shape[0]} is not positive definite even with "
        f"jitter {_JITTERS[-1] * scale:.1e}; inputs may contain duplicates at extreme "
        "lengthscales or non-finite values"
    )


class GaussianProcess:
    """GP regression, Matern-5/2 ARD kernel, learned noise, MAP hyperparameters.

    Parameters
    ----------
    n_restarts : int, default 3
        Random starts of the hyperparameter optimizer, in addition to the default start and
        the previous fit's optimum (warm start).
    max_iter : int, default 200
        L-BFGS-B iteration cap per start.
    noise_floor : float, default 1e-12
        Smallest noise variance, relative to the standardized output variance.
    fixed_noise : float or None, default None
        If given, the noise variance (standardized units) is fixed to this value instead
        of learned.
    max_fit_points : int or None, default None
        With more observations than this, the hyperparameters are fitted on a random
        subset of this size (drawn from ``rng``; the "subset of data" approximation,
        Rasmussen & Williams 2006, sec. 8.3.1) and the model is then conditioned on every
        point: a likelihood evaluation costs O(m^3) instead of O(n^3), and memory stays
        O(n^2). None fits on every point.
    rng : None, int, SeedSequence or Generator
        Draws the random restarts (and the subset).

    Attributes
    ----------
    lengthscale_ : ndarray of shape (d,)
    signal_var_ : float
        In standardized units.
    noise_var_ : float
        In standardized units; ``noise_var_ * y_std_**2`` in output units.
    y_mean_, y_std_ : float
    log_marginal_likelihood_ : float
        At the fitted hyperparameters (without the prior terms).
    """

    def __init__(
        self,
        *,
        n_restarts: int = 3,
        max_iter: int = 200,
        noise_floor: float = 1e-12,
        fixed_noise: float | None = None,
        max_fit_points: int | None = None,
        rng: RNGLike = None,
    ) -> None:
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.noise_floor = noise_floor
        self.fixed_noise = fixed_noise
        self.max_fit_points = max_fit_points
        self.rng = rng

    # ---------------------------------------------------------------- fitting
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        optimize: bool = True,
        warm_start_only: bool = False,
    ) -> GaussianProcess:
        """Fit hyperparameters and condition on ``X`` (n, d) and finite ``y`` (n,).

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,)
        optimize : bool, default True
            False keeps the previous fit's hyperparameters and only conditions on the
            new data (used for batch fantasies); requires a previous fit.
        warm_start_only : bool, default False
            Optimize from the previous fit's optimum alone (no default or random starts);
            the planners use this between periodic full refits to keep ``ask()`` fast.

        Returns
        -------
        GaussianProcess
            ``self``, fitted.

        Raises
        ------
        ValueError
            On malformed input (NaN in ``y`` included: drop failed runs first).
        GPError
            If no hyperparameter start yields a positive-definite covariance.
        """
        name = type(self).__name__
        X = check_points(X, owner=f"{name}.fit")
        y = np.asarray(y, dtype=float)
        if y.shape != (X.shape[0],) or not np.all(np.isfinite(y)):
            raise ValueError(
                f"The 'y' parameter of {name}.fit must be a finite array of shape "
                f"({X.shape[0]},). Got shape {y.shape}"
                + ("" if y.shape != (X.shape[0],) else " with NaN/inf")
                + "."
            )
        if X.shape[0] < 1:
            raise ValueError(f"The 'X' parameter of {name}.fit must hold at least one point.")
        n_restarts = check_int(self.n_restarts, "n_restarts", owner=name, low=0)
        max_iter = check_int(self.max_iter, "max_iter", owner=name, low=1)
        floor = check_real(self.noise_floor, "noise_floor", owner=name, low=0, low_inclusive=False)
        if self.fixed_noise is not None:
            check_real(self.fixed_noise, "fixed_noise", owner=name, low=0, low_inclusive=False)
        if getattr(self, "rng_", None) is None:
            self.rng_ = as_generator(self.rng)

        self.X_ = X.copy()  # never alias the caller's array
        self.y_mean_ = float(np.mean(y))
        std = float(np.std(y))
        self.y_std_ = std if std > 1e-12 * max(1.0, abs(self.y_mean_)) else 1.0
        self._z = (y - self.y_mean_) / self.y_std_
        m = self.max_fit_points
        if m is not None:
            m = check_int(m, "max_fit_points", owner=name, low=2)
        if m is not None and X.shape[0] > m:
            # Hyperparameters from a random subset; _condition uses every point.
            idx = np.sort(self.rng_.choice(X.shape[0], size=m, replace=False))
            self._D2: Array | None = None
            self._fit_D2, self._fit_z = sq_diffs(X[idx], X[idx]), self._z[idx]
        else:
            self._D2 = sq_diffs(X, X)
            self._fit_D2, self._fit_z = self._D2, self._z
        d = X.shape[1]

        lo = np.r_[np.full(d, _LOG_L[0]), _LOG_S2[0], max(_LOG_SN2[0], np.log(floor))]
        hi = np.r_[np.full(d, _LOG_L[1]), _LOG_S2[1], _LOG_SN2[1]]
        if self.fixed_noise is not None:
            lo[-1] = hi[-1] = np.log(self.fixed_noise)
        self._prior_l = (_PRIOR_L[0] + 0.5 * np.log(d), _PRIOR_L[1])
        prev: Array = np.asarray(getattr(self, "theta_", np.empty(0)), dtype=float)
        has_prev = prev.shape == lo.shape
        if not optimize:
            if not has_prev:
                raise RuntimeError(
                    f"{name}.fit(optimize=False) needs a previous fit of the same dimension; "
                    "call fit(X, y) first."
                )
            with single_threaded_blas():
                self._condition(prev)
            return self
        starts = [np.clip(prev, lo, hi)] if has_prev else []
        if not (warm_start_only and has_prev):
            # Two deterministic starts, a near-interpolating and a noisy one: the likelihood
            # often has one local optimum of each kind and random starts can miss either.
            for log_sn2 in (np.log(1e-3), np.log(0.1)):
                starts.append(np.clip(np.r_[np.full(d, np.log(0.3)), 0.0, log_sn2], lo, hi))
            for _ in range(n_restarts):
                starts.append(lo + (hi - lo) * self.rng_.uniform(0.15, 0.85, size=lo.shape))

        with single_threaded_blas():
            best = self._optimize(starts, lo, hi, max_iter)
        if best is None:
            raise GPError(f"{name}.fit: no hyperparameter start gave a finite likelihood.")
        with single_threaded_blas():
            self._condition(best[1])
        return self

    def _optimize(
        self, starts: list[Array], lo: Array, hi: Array, max_iter: int
    ) -> tuple[float, Array] | None:
        best: tuple[float, Array] | None = None
        for x0 in starts:
            res = minimize(
                self._neg_log_posterior,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(lo, hi, strict=True)),
                options={"maxiter": max_iter, "ftol": 1e-7},
            )
            # 1e25 marks a start whose covariance was never positive definite
            if np.isfinite(res.fun) and res.fun < 1e24 and (best is None or res.fun < best[0]):
                best = (float(res.fun), np.asarray(res.x))
        return best

    def _unpack(self, theta: Array) -> tuple[Array, float, float]:
        return np.exp(-2.0 * theta[:-2]), float(np.exp(theta[-2])), float(np.exp(theta[-1]))

    def _neg_log_posterior(self, theta: Array) -> tuple[float, Array]:
        """Negative log marginal likelihood minus log priors, and its gradient."""
        inv_l2, s2, sn2 = self._unpack(theta)
        K, M = matern52_from_sq(self._fit_D2, inv_l2, s2)
        n = K.shape[0]
        K[np.diag_indices(n)] += sn2
        try:
            L, jitter = _cholesky_with_jitter(K)
        except GPError:
            return 1e25, np.zeros_like(theta)
        if jitter:  # the gradient below is that of the jittered matrix
            K[np.diag_indices(n)] += jitter
        alpha = cho_solve((L, True), self._fit_z, check_finite=False)
        nll = 0.5 * self._fit_z @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * LOG_2PI
        Kinv, info = dpotri(L, lower=1)  # lower triangle of K^-1 from the factor
        if info != 0:
            return 1e25, np.zeros_like(theta)
        Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
        W = Kinv - np.outer(alpha, alpha)  # d nll / dK = W / 2
        grad = np.empty_like(theta)
        # dK/dlog l_j = M * D2_j / l_j^2 ; contract W*M against the squared differences.
        grad[:-2] = 0.5 * np.tensordot(W * M, self._fit_D2, axes=([0, 1], [0, 1])) * inv_l2
        grad[-2] = 0.5 * (np.sum(W * K) - (sn2 + jitter) * np.trace(W))  # dK/dlog s2 = s2 Kc
        grad[-1] = 0.5 * sn2 * np.trace(W)
        # Log-normal priors on l, s2, sn2 (Gaussian in theta).
        mu_l, sd_l = self._prior_l
        tl = theta[:-2]
        nlp = 0.5 * np.sum((tl - mu_l) ** 2) / sd_l**2
        grad[:-2] += (tl - mu_l) / sd_l**2
        for i, (mu, sd) in ((-2, _PRIOR_S2), (-1, _PRIOR_SN2)):
            nlp += 0.5 * (theta[i] - mu) ** 2 / sd**2
            grad[i] += (theta[i] - mu) / sd**2
        return float(nll + nlp), grad

    def _condition(self, theta: Array) -> None:
        inv_l2, s2, sn2 = self._unpack(theta)
        if self._D2 is not None:
            K, _ = matern52_from_sq(self._D2, inv_l2, s2)
        else:  # beyond max_fit_points: no (n, n, d) array
            K = matern52_gram(self.X_, inv_l2, s2)
        K[np.diag_indices(K.shape[0])] += sn2
        self._L, self.jitter_ = _cholesky_with_jitter(K)
        self._alpha = cho_solve((self._L, True), self._z, check_finite=False)
        self.theta_ = theta
        self.lengthscale_ = np.exp(theta[:-2])
        self._inv_l2 = inv_l2
        self.signal_var_ = s2
        self.noise_var_ = sn2
        n = K.shape[0]
        self.log_marginal_likelihood_ = float(
            -0.5 * self._z @ self._alpha - np.log(np.diag(self._L)).sum() - 0.5 * n * LOG_2PI
        )

    def fantasize(self, X: ArrayLike) -> GaussianProcess:
        """A copy also conditioned on ``X`` at its own posterior mean (kriging believer).

        The hyperparameters *and* the output standardization are kept, so the posterior
        mean is unchanged everywhere and only the variance shrinks near ``X``: the fantasy
        adds no information about the objective, only about where points are pending.
        (Refitting on the fantasy values would re-standardize the outputs under the old
        hyperparameters and move the mean.)

        Parameters
        ----------
        X : array-like of shape (k, d)
            Pending points.

        Returns
        -------
        GaussianProcess
            A new fitted model on ``n + k`` points; this one is not changed.
        """
        self._check_fitted()
        name = f"{type(self).__name__}.fantasize"
        Xn = check_points(X, owner=name)
        if Xn.shape[1] != self.X_.shape[1]:
            raise ValueError(
                f"The 'X' parameter of {name} must have {self.X_.shape[1]} columns. "
                f"Got shape {Xn.shape}."
            )
        with single_threaded_blas():
            mu, _, _ = self._mean_var(Xn)
            new = copy.copy(self)
            new.X_ = np.vstack([self.X_, Xn])
            new._z = np.r_[self._z, mu]
            new._D2 = None if self._D2 is None else sq_diffs(new.X_, new.X_)
            new._condition(self.theta_)
        return new

    # ---------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if getattr(self, "_L", None) is None:
            raise RuntimeError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) first."
            )

    def predict(self, X: ArrayLike) -> Posterior:
        """Posterior mean and latent variance at ``X`` (m, d), in output units.

        Parameters
        ----------
        X : array-like of shape (m, d)
            Query points (the training inputs' units).

        Returns
        -------
        Posterior
            ``mean`` and latent ``var``, shape (m,), output units.

        Raises
        ------
        RuntimeError
            If the model is not fitted yet.
        ValueError
            If ``X`` has a different number of columns than the training inputs.
        """
        self._check_fitted()
        Xt = check_points(X, owner=f"{type(self).__name__}.predict")
        if Xt.shape[1] != self.X_.shape[1]:
            raise ValueError(
                f"The 'X' parameter of {type(self).__name__}.predict must have "
                f"{self.X_.shape[1]} columns. Got shape {Xt.shape}."
            )
        with single_threaded_blas():
            mu, var = self.predict_standardized(Xt)
        return Posterior(self.y_mean_ + self.y_std_ * mu, var * self.y_std_**2)

    def predict_standardized(self, X: Array) -> tuple[Array, Array]:
        """Posterior mean and latent variance, standardized units, at validated ``X`` (m, d).

        Variances are floored at 1e-12 * signal variance so ``sqrt`` stays finite.

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points.

        Returns
        -------
        mean, var : ndarray of shape (m,)
        """
        n, d = self.X_.shape
        rows = max(1, _CHUNK_ELEMENTS // (n * d))
        if X.shape[0] <= rows:
            mu, var, _ = self._mean_var(X)
        else:  # bounded memory at large n: the (m, n, d) differences chunk by chunk
            parts = [self._mean_var(X[i : i + rows])[:2] for i in range(0, X.shape[0], rows)]
            mu, var = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        return mu, np.maximum(var, 1e-12 * self.signal_var_)

    def predict_standardized_grad(self, X: Array) -> tuple[Array, Array, Array, Array]:
        """Like :meth:`predict_standardized`, plus ``dmu`` and ``dvar`` of shape (m, d).

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points.

        Returns
        -------
        mean, var : ndarray of shape (m,)
        dmu, dvar : ndarray of shape (m, d)
            Their gradients with respect to ``X``.
        """
        mu, var, (M, V) = self._mean_var(X)
        floor = 1e-12 * self.signal_var_
        # dK(x, X_b)/dx_j = -M_b (x_j - X_bj) / l_j^2
        diff = X[:, None, :] - self.X_[None, :, :]
        dK = -(M[:, :, None] * diff) * self._inv_l2  # (m, n, d)
        dmu = np.einsum("mnd,n->md", dK, self._alpha)
        Kinv_ks = solve_triangular(self._L.T, V, lower=False, check_finite=False)  # (n, m)
        dvar = -2.0 * np.einsum("mnd,nm->md", dK, Kinv_ks)
        dvar[var <= floor] = 0.0
        return mu, np.maximum(var, floor), dmu, dvar

    def _mean_var(self, X: Array) -> tuple[Array, Array, tuple[Array, Array]]:
        Ks, M = matern52_from_sq(sq_diffs(X, self.X_), self._inv_l2, self.signal_var_)
        mu = Ks @ self._alpha
        V = solve_triangular(self._L, Ks.T, lower=True, check_finite=False)
        var = self.signal_var_ - np.einsum("ij,ij->j", V, V)
        return mu, var, (M, V)
