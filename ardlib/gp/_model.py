"""Exact Gaussian-process regression with a Matern-5/2 ARD kernel and learned noise.

ardlib's own GP (numpy/scipy) because planner latency is a product feature: a cold fit at
n = 100, d = 6 took 16-21 ms (five Hartmann-6 data sets, one thread, 2026-12-06) with
analytic marginal-likelihood gradients, a reused squared-difference tensor and screened
starts, where general-purpose libraries spend hundreds of milliseconds per suggestion.

Model, on outputs standardized by the sample standard deviation, ``z = (y - mean(y)) /
std(y)``::

    z = c + f(x) + eps,   f ~ GP(0, s2 * matern52(l)),   eps ~ N(0, sn2)

with a constant prior mean ``c`` fitted with the hyperparameters (``mean="constant"``,
the default; ``mean="sample"`` fixes ``c = 0``, i.e. the sample mean). After the fit the
standardization's offset ``y_mean_`` absorbs ``c``.

Hyperparameters ``theta = log([l_1..l_d, s2, sn2])`` are fitted by maximizing the log
marginal likelihood plus weak log-normal priors (MAP), from several starts with L-BFGS-B.
The lengthscale prior is the dimension-scaled one of Hvarfner et al. 2024 (inputs are
expected in the unit cube), LogNormal(sqrt(2) + log(d) / 2, sqrt(3)) in ``l``; the priors
keep small-n fits away from degenerate solutions.

A MAP fit depends on the variable the prior density is written in. The density of that
LogNormal in ``l`` (as BoTorch/GPyTorch evaluate it) is a Gaussian in ``log l`` times
``1 / l``, so its mode in ``log l`` lies ``sd^2 = 3`` below the mean: at d = 6, l ~ 0.5
instead of ~10. ardlib fits ``theta = log l`` and uses that Gaussian in ``theta`` with the
mean moved down by 3, which is the same objective up to a constant. With the mean
unmoved (before 2026-12-06), small-n fits called 2-4 of Hartmann-6's 6 dimensions
irrelevant (median l ~ 8 at n = 5-10 where BoTorch finds ~0.5 on the same data) and EI
piled points on the box's faces. Measured, 20 paired seeds, noiseless, 5 initial points:
Hartmann-6 median regret 1.67 -> 1.08 after 20 evaluations (p = 0.019), 0.192 -> 0.081
after 40 (p = 0.0012, 17 of 20 seeds better); Branin unchanged (evaluations to regret
< 1e-3 over 50 seeds: median 23, p95 31 either way); Suzuki after 20 evaluations 2.4e-6
-> 1.1e-4 (raw p = 0.033, not significant after Holm over the 12 comparisons), crossed
barrel not significantly different.

The constant mean is profiled out of the likelihood: for given hyperparameters its
maximum-likelihood value is the generalized least-squares estimate
``1' K^-1 z / 1' K^-1 1`` (ordinary kriging, as in Jones et al. 1998's EGO; BoTorch's
``SingleTaskGP`` fits the same constant as a ``ConstantMean`` by gradient), at the cost
of one more triangular solve per evaluation. With the sample mean instead, a campaign's
cluster of good points drags the prior mean down, so EI expects improvement everywhere
it has not looked and keeps exploring. Measured with the planner's exploitation steps
unchanged, 100 paired seeds, noiseless Hartmann-6 (five initial points, 2026-12-06):
median regret after 40 evaluations 0.0055 instead of 0.124 (89 of 100 seeds better,
Wilcoxon p = 2e-12); after 20, 0.76 against 0.75 (p = 0.72); Branin over 50 seeds,
median evaluations to regret < 1e-3 21 instead of 23, 95th percentile 29 instead of 31.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import cho_solve, cholesky
from scipy.linalg.blas import dsyr
from scipy.linalg.lapack import dpotrf, dpotri, dpotrs, dtrtrs
from scipy.optimize import minimize

from .._rng import RNGLike, as_generator
from .._threads import single_threaded_blas
from .._validation import check_choice, check_int, check_points, check_real
from ._kernel import _matern52_r2, matern52_from_sq, matern52_gram, sq_diffs

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
# The Gaussian in log l that is the LogNormal density in l up to a constant has its mean
# moved down by sd^2 (see the module docstring); written as 3.0, since sqrt(3) ** 2 rounds
# to 2.9999999999999996 and 3.0 is the value every measurement since e020288 used
_PRIOR_L_IN_L = 3.0
_JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4)
# L-BFGS-B iterations every start gets before all but the best are dropped (_optimize).
_SCREEN_ITERS = 8
# A screened start stops at iteration _ABORT_FROM or later once it trails the best full
# start at the same iteration by more than _ABORT_MARGIN nats per fit point; one that
# runs its _SCREEN_ITERS iterations and is then ahead is polished to convergence as
# before. Measured on 736 cold fits of 64-250 points (17 test functions and 4 emulators,
# uniform data, three screened starts each, every start also run to convergence): the
# fits reached the best optimum of all starts (to 1e-3) in exactly the same 722 cases as
# without the early stop, with 70 likelihood evaluations on average instead of 86 (53
# instead of 66 on Hartmann-6 at 100-128 points). Margin and iteration were chosen on
# the first 516 fits and confirmed on the other 220 (other functions and data); a margin
# of 0.1 missed an optimum more in the held-out part.
_ABORT_FROM = 2
_ABORT_MARGIN = 0.3
#: From this many fit points, the likelihood works on the n (n - 1) / 2 distinct pairs
#: of points instead of the n^2 entries of the kernel matrix (_PairTable,
#: _neg_log_posterior_pairs). It is faster at every size (one thread: 33 against 46 us
#: per evaluation at n = 10, 87 against 132 at 63, 181 against 271 at 100), but its sums
#: round differently; below this size the full-matrix path is kept, so fits there, and
#: with them planner campaigns shorter than 64 observations (the Branin and Hartmann-6
#: sample-efficiency campaigns), stay bit for bit as they were.
_PAIRS_FROM = 64
#: ... and up to this many: the table takes about as much memory as the (n, n, d) array,
#: 50 MB at n = 1,024, d = 6 (the planners fit on at most max_fit_points = 128).
_PAIRS_UP_TO = 1024


@dataclass(frozen=True)
class _PairTable:
    """The distinct pairs ``i > j`` of n fit points, for the likelihood's hot loop.

    The kernel matrix is symmetric with a constant diagonal, so its n^2 entries take
    n (n - 1) / 2 + 1 distinct values: the kernel is evaluated on those and expanded by
    one gather, and the gradient sums over the pairs (see ``_neg_log_posterior``).

    Attributes
    ----------
    D2 : ndarray of shape (d, p + 1)
        Squared differences of the p pairs, one row per dimension (``r^2 = inv_l2 @ D2``
        and the lengthscale gradient are then products with long rows, twice as fast as
        with rows of length d); the last column is zero (the diagonal, r = 0).
    expand : ndarray of shape (n * n,)
        Row of ``D2`` for each entry of the row-major n x n matrix.
    rows, cols : ndarray of shape (p,)
        ``i`` and ``j`` of each pair.
    fpos : ndarray of shape (p,)
        Position of entry ``(i, j)`` in a column-major (LAPACK) n x n array.
    """

    D2: Array
    expand: NDArray[np.intp]
    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    fpos: NDArray[np.intp]

    @classmethod
    def of(cls, D2: Array) -> _PairTable:
        """The table of the squared differences ``D2`` (n, n, d) of a point set.

        Parameters
        ----------
        D2 : ndarray of shape (n, n, d)
            From :func:`sq_diffs` of the points with themselves.

        Returns
        -------
        _PairTable
        """
        n, _, d = D2.shape
        rows, cols = np.tril_indices(n, -1)
        p = rows.size
        expand = np.full(n * n, p, dtype=np.intp)
        expand[rows * n + cols] = np.arange(p)
        expand[cols * n + rows] = np.arange(p)
        table = np.zeros((d, p + 1))
        table[:, :p] = D2[rows, cols].T
        return cls(table, expand, rows, cols, cols * n + rows)


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


#: Largest (m, n, d) array of squared differences a prediction builds at once (8 MB):
#: kept below glibc's largest mmap threshold (32 MB), so each chunk reuses heap memory
#: instead of faulting in fresh pages; the 762 x 1,000 candidate scoring of an ask at
#: n = 1,000 took 9.5 ms in chunks of 128 rows against 26 ms in one piece.
_CHUNK_ELEMENTS = 1_000_000


def _profiled(L: Array, z: Array, alpha: Array | None) -> tuple[Array, Array, float]:
    """The constant prior mean profiled out of the likelihood.

    With ``K = L L'`` and ``alpha = K^-1 z`` (solved here when None), the constant ``c``
    maximizing the likelihood of ``z - c`` is its generalized least-squares estimate
    ``1' K^-1 z / 1' K^-1 1``. Returns ``(z - c, K^-1 (z - c), c)``: the likelihood and
    its hyperparameter gradient at ``c`` are the usual ones with ``z - c`` in place of
    ``z`` (``c`` is a stationary point, so its own dependence on them drops out).
    """
    k1, _ = dpotrs(L, np.ones(z.shape[0]), lower=1)
    if alpha is None:
        alpha, _ = dpotrs(L, z, lower=1)
    c = float(alpha.sum() / k1.sum())
    return z - c, alpha - c * k1, c


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
    screen_starts_from : int or None, default None
        With at least this many fit points, only the first start (the warm one, else the
        first default one) runs to convergence; every other start runs a few L-BFGS-B
        iterations and continues only if it is then ahead of the first one at the same
        iteration, and stops earlier, from the second iteration on, once it trails the
        first one by more than 0.3 nats per fit point.
        On a cold fit of 100 Hartmann-6 points (five data sets) this took 47-62
        likelihood evaluations (66-79 without the early stop) instead of 145-158 and
        reached the same optimum. None runs every start to convergence.
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
    mean : {"constant", "sample"}, default "constant"
        The prior mean of the standardized outputs. ``"constant"``: a constant fitted
        with the hyperparameters, profiled out of the likelihood at its generalized
        least-squares value ``1' K^-1 z / 1' K^-1 1`` (ordinary kriging, as in Jones et
        al. 1998's EGO; GPyTorch's ``ConstantMean`` fits the same constant by gradient).
        ``"sample"``: the sample mean of ``y`` (ardlib before 2026-12-06). See the module
        docstring for what the choice measured.
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
        The standardization ``z = (y - y_mean_) / y_std_``: ``y_std_`` is the sample
        standard deviation, ``y_mean_`` the prior mean (see ``mean``) in output units.
    log_marginal_likelihood_ : float
        At the fitted hyperparameters (without the prior terms).
    train_mean_ : ndarray of shape (n,)
        Posterior mean of the latent function at ``X_``, standardized units (what
        :meth:`predict_standardized` gives there, without its O(n^2 d) work).
    """

    # localized(): the training rows the variance conditions on, and their factor
    _var_idx: NDArray[np.intp] | None = None
    _var_L: Array | None = None
    # the distinct pairs of the fit points, from _PAIRS_FROM of them (_neg_log_posterior)
    _pairs: _PairTable | None = None

    def __init__(
        self,
        *,
        n_restarts: int = 3,
        screen_starts_from: int | None = None,
        max_iter: int = 200,
        noise_floor: float = 1e-12,
        fixed_noise: float | None = None,
        max_fit_points: int | None = None,
        mean: str = "constant",
        rng: RNGLike = None,
    ) -> None:
        self.n_restarts = n_restarts
        self.screen_starts_from = screen_starts_from
        self.max_iter = max_iter
        self.noise_floor = noise_floor
        self.fixed_noise = fixed_noise
        self.max_fit_points = max_fit_points
        self.mean = mean
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
            new data; requires a previous fit. Beyond ``max_fit_points`` observations,
            when ``X`` extends the previous fit's inputs by new rows, the Cholesky factor
            is extended by the new rows (O(n^2 k) for k new points instead of O(n^3)).
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
        screen_from = self.screen_starts_from
        if screen_from is not None:
            screen_from = check_int(screen_from, "screen_starts_from", owner=name, low=1)
        max_iter = check_int(self.max_iter, "max_iter", owner=name, low=1)
        floor = check_real(self.noise_floor, "noise_floor", owner=name, low=0, low_inclusive=False)
        if self.fixed_noise is not None:
            check_real(self.fixed_noise, "fixed_noise", owner=name, low=0, low_inclusive=False)
        check_choice(self.mean, "mean", ("constant", "sample"), owner=name)
        self._profile = self.mean == "constant"
        if getattr(self, "rng_", None) is None:
            self.rng_ = as_generator(self.rng)

        # inputs of the current factor, for extending it (fit(optimize=False))
        prev_X = getattr(self, "X_", None) if getattr(self, "_L", None) is not None else None
        self.X_ = X.copy()  # never alias the caller's array
        self.y_mean_ = float(np.mean(y))
        std = float(np.std(y))
        self.y_std_ = std if std > 1e-12 * max(1.0, abs(self.y_mean_)) else 1.0
        self._z = (y - self.y_mean_) / self.y_std_
        m = self.max_fit_points
        if m is not None:
            m = check_int(m, "max_fit_points", owner=name, low=2)
        large = m is not None and X.shape[0] > m
        self._D2: Array | None = None
        if large and optimize:
            # Hyperparameters from a random subset; _condition uses every point.
            idx = np.sort(self.rng_.choice(X.shape[0], size=m, replace=False))
            self._fit_D2, self._fit_z = sq_diffs(X[idx], X[idx]), self._z[idx]
        elif not large:
            self._D2 = sq_diffs(X, X)
            self._fit_D2, self._fit_z = self._D2, self._z
        if optimize:
            pairs = _PAIRS_FROM <= self._fit_z.shape[0] <= _PAIRS_UP_TO
            self._pairs = _PairTable.of(self._fit_D2) if pairs else None
        # (large and not optimize: conditioning only, no subset, no (n, n, d) array)
        d = X.shape[1]

        lo = np.r_[np.full(d, _LOG_L[0]), _LOG_S2[0], max(_LOG_SN2[0], np.log(floor))]
        hi = np.r_[np.full(d, _LOG_L[1]), _LOG_S2[1], _LOG_SN2[1]]
        if self.fixed_noise is not None:
            lo[-1] = hi[-1] = np.log(self.fixed_noise)
        self._prior_l = (_PRIOR_L[0] - _PRIOR_L_IN_L + 0.5 * np.log(d), _PRIOR_L[1])
        prev: Array = np.asarray(getattr(self, "theta_", np.empty(0)), dtype=float)
        has_prev = prev.shape == lo.shape
        if not optimize:
            if not has_prev:
                raise RuntimeError(
                    f"{name}.fit(optimize=False) needs a previous fit of the same dimension; "
                    "call fit(X, y) first."
                )
            n_old = 0 if prev_X is None else prev_X.shape[0]
            extend = (
                large
                and 0 < n_old < X.shape[0]
                and prev_X is not None
                and np.array_equal(X[:n_old], prev_X)
            )
            with single_threaded_blas():
                if not (extend and self._extend(n_old)):
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

        screened = screen_from is not None and self._fit_z.shape[0] >= screen_from
        n_full = 1 if screened else len(starts)
        with single_threaded_blas():
            best = self._optimize(starts, n_full, lo, hi, max_iter)
        if best is None:
            raise GPError(f"{name}.fit: no hyperparameter start gave a finite likelihood.")
        with single_threaded_blas():
            self._condition(best[1])
        return self

    def _optimize(
        self, starts: list[Array], n_full: int, lo: Array, hi: Array, max_iter: int
    ) -> tuple[float, Array] | None:
        """Best (value, theta) from L-BFGS-B over ``starts``, or None if all failed.

        The first ``n_full`` starts run to convergence. The others are screened: each
        runs ``_SCREEN_ITERS`` iterations and continues only if it is then at least as
        good as the best full start was after as many iterations (multi-start with
        pruning; see ``screen_starts_from``). A screened start stops early, from
        iteration ``_ABORT_FROM`` on, once it trails the best full start at the same
        iteration by more than ``_ABORT_MARGIN`` nats per fit point (see there).

        Parameters
        ----------
        starts : list of ndarray of shape (d + 2,)
        n_full : int
            Starts run to convergence (the first ones).
        lo, hi : ndarray of shape (d + 2,)
            The box.
        max_iter : int
            Iteration cap per start.

        Returns
        -------
        (float, ndarray) or None
        """
        bounds = list(zip(lo, hi, strict=True))

        screening = n_full < len(starts)
        # best full start's value after each of its first _SCREEN_ITERS iterations (its
        # final value after it converged)
        bar = np.full(_SCREEN_ITERS, np.inf)
        margin = _ABORT_MARGIN * self._fit_z.shape[0]

        def run(x0: Array, iters: int, screen: bool) -> tuple[float, Array, list[float], int]:
            trace: list[float] = []

            def record(intermediate_result: Any) -> None:
                if len(trace) < _SCREEN_ITERS:
                    f = float(intermediate_result.fun)
                    trace.append(f)
                    j = len(trace) - 1
                    if screen and j + 1 >= _ABORT_FROM and f > bar[j] + margin:
                        raise StopIteration  # scipy ends the run at this iterate

            res = minimize(
                self._neg_log_posterior,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                callback=record if screening else None,  # scipy's callback costs ~10 us
                options={"maxiter": iters, "ftol": 1e-7},
            )
            return float(res.fun), np.asarray(res.x), trace, int(res.status)

        best: tuple[float, Array] | None = None
        for i, x0 in enumerate(starts):
            full = i < n_full
            f, x, trace, status = run(
                x0, max_iter if full else min(_SCREEN_ITERS, max_iter), not full
            )
            # 1e25 marks a start whose covariance was never positive definite
            if not (np.isfinite(f) and f < 1e24):
                continue
            if full:
                np.minimum(bar, trace + [f] * (_SCREEN_ITERS - len(trace)), out=bar)
            elif status == 1 and max_iter > _SCREEN_ITERS and f <= bar[-1]:
                # ran its _SCREEN_ITERS iterations unconverged and is ahead: polish it
                polished = run(x, max_iter - _SCREEN_ITERS, False)
                if np.isfinite(polished[0]) and polished[0] <= f:
                    f, x = polished[0], polished[1]
            if best is None or f < best[0]:
                best = (f, x)
        return best

    def _unpack(self, theta: Array) -> tuple[Array, float, float]:
        return np.exp(-2.0 * theta[:-2]), float(np.exp(theta[-2])), float(np.exp(theta[-1]))

    def _neg_log_posterior(self, theta: Array) -> tuple[float, Array]:
        """Negative log marginal likelihood minus log priors, and its gradient.

        The hot loop of a fit. LAPACK is called directly (the scipy wrappers' checks cost
        as much as the factorization at n ~ 10) and ``K^-1`` is symmetrized by one
        addition (its upper triangle is zero); both give the same bits as before.

        From ``_PAIRS_FROM`` fit points on, :meth:`_neg_log_posterior_pairs` instead.

        Parameters
        ----------
        theta : ndarray of shape (d + 2,)
            ``log([l_1..l_d, s2, sn2])``.

        Returns
        -------
        value : float
        grad : ndarray of shape (d + 2,)
        """
        inv_l2, s2, sn2 = self._unpack(theta)
        if self._pairs is not None:
            return self._neg_log_posterior_pairs(theta, self._pairs, inv_l2, s2, sn2)
        K, M = matern52_from_sq(self._fit_D2, inv_l2, s2)
        n = K.shape[0]
        K.flat[:: n + 1] += sn2
        L, info = dpotrf(K, lower=1, clean=1)
        jitter = 0.0
        if info != 0:
            try:
                L, jitter = _cholesky_with_jitter(K)
            except GPError:
                return 1e25, np.zeros_like(theta)
            K.flat[:: n + 1] += jitter  # the gradient below is that of the jittered matrix
        z = self._fit_z
        alpha, _ = dpotrs(L, z, lower=1)
        if self._profile:
            z, alpha, _ = _profiled(L, z, alpha)
        nll = 0.5 * z @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * LOG_2PI
        Kinv, info = dpotri(L, lower=1)  # lower triangle of K^-1; the upper stays 0
        if info != 0:
            return 1e25, np.zeros_like(theta)
        grad = np.empty_like(theta)
        Kinv = Kinv + Kinv.T
        Kinv.flat[:: n + 1] *= 0.5
        W = Kinv - np.outer(alpha, alpha)  # d nll / dK = W / 2
        # dK/dlog l_j = M * D2_j / l_j^2 ; contract W*M against the squared differences.
        grad[:-2] = 0.5 * np.tensordot(W * M, self._fit_D2, axes=([0, 1], [0, 1])) * inv_l2
        trW = np.trace(W)
        grad[-2] = 0.5 * (np.sum(W * K) - (sn2 + jitter) * trW)  # dK/dlog s2 = s2 Kc
        grad[-1] = 0.5 * sn2 * trW
        return float(nll + self._neg_log_prior(theta, grad)), grad

    def _neg_log_posterior_pairs(
        self, theta: Array, pairs: _PairTable, inv_l2: Array, s2: float, sn2: float
    ) -> tuple[float, Array]:
        """:meth:`_neg_log_posterior` over the distinct pairs of fit points.

        The kernel is evaluated on the n (n - 1) / 2 pairs and the diagonal only, and
        expanded by a gather; the gradient sums over the pairs, without the symmetrized
        ``K^-1``, an (n, n) ``W`` or the contraction with the (n, n, d) array. The
        factorization, the inverse and the rank-one update of ``W`` work in place on
        column-major arrays. At n = 100, d = 6 an evaluation took 0.19 ms instead of
        0.27 ms (one thread). Value and gradient agree with the full-matrix path to
        rounding (their sums run in another order; about 1e-12 relative).

        Parameters
        ----------
        theta : ndarray of shape (d + 2,)
        pairs : _PairTable
            Of the fit points.
        inv_l2, s2, sn2
            ``theta`` unpacked (:meth:`_unpack`).

        Returns
        -------
        value : float
        grad : ndarray of shape (d + 2,)
        """
        z = self._fit_z
        n = z.shape[0]
        Kp, Mp = _matern52_r2(inv_l2 @ pairs.D2, s2)
        # the last entry is the diagonal (r = 0): adding the noise there before the gather
        # gives the same bits as adding it to the gathered diagonal
        Kp[-1] += sn2
        # symmetric, so the row-major gather is also the column-major matrix LAPACK wants
        K = np.take(Kp, pairs.expand).reshape(n, n).T
        L, info = dpotrf(K, lower=1, clean=0, overwrite_a=1)  # the upper triangle is K's
        if info != 0:
            try:
                L, _ = _cholesky_with_jitter(np.take(Kp, pairs.expand).reshape(n, n))
            except GPError:
                return 1e25, np.zeros_like(theta)
            # the jitter sits on the diagonal, where no derivative of K below has weight
        alpha, _ = dpotrs(L, z, lower=1)
        if self._profile:
            z, alpha, _ = _profiled(L, z, alpha)
        nll = 0.5 * z @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * LOG_2PI
        Kinv, info = dpotri(L, lower=1, overwrite_c=1)  # lower triangle of K^-1
        if info != 0:
            return 1e25, np.zeros_like(theta)
        # d nll / dK = W / 2 with W = K^-1 - alpha alpha^T, kept in the lower triangle.
        # W is symmetric and dK/dlog l_j vanishes on the diagonal (D2 = 0 there), so the
        # sums over i != j are twice those over the pairs i > j; on the diagonal
        # K = s2 + sn2 + jitter, so tr(W dK/dlog s2) = 2 sum_{i>j} W_ij K_ij + s2 tr(W).
        W = dsyr(-1.0, alpha, lower=1, a=Kinv, overwrite_a=1)  # in place, lower triangle
        w = W.ravel(order="F")[pairs.fpos]
        trW = float(np.trace(W))
        grad = np.empty_like(theta)
        grad[:-2] = (pairs.D2[:, :-1] @ (w * Mp[:-1])) * inv_l2
        grad[-2] = w @ Kp[:-1] + 0.5 * s2 * trW
        grad[-1] = 0.5 * sn2 * trW
        return float(nll + self._neg_log_prior(theta, grad)), grad

    def _neg_log_prior(self, theta: Array, grad: Array) -> float:
        """Negative log prior of ``theta`` (up to a constant); adds its gradient to ``grad``.

        Log-normal priors on l, s2 and sn2, i.e. Gaussian in ``theta``.

        Parameters
        ----------
        theta : ndarray of shape (d + 2,)
        grad : ndarray of shape (d + 2,)
            The likelihood's gradient, updated in place.

        Returns
        -------
        float
        """
        mu_l, sd_l = self._prior_l
        tl = theta[:-2]
        nlp = 0.5 * np.sum((tl - mu_l) ** 2) / sd_l**2
        grad[:-2] += (tl - mu_l) / sd_l**2
        for i, (mu, sd) in ((-2, _PRIOR_S2), (-1, _PRIOR_SN2)):
            nlp += 0.5 * (theta[i] - mu) ** 2 / sd**2
            grad[i] += (theta[i] - mu) / sd**2
        return float(nlp)

    def _condition(self, theta: Array, *, center: bool = True) -> None:
        """Factorize the covariance at ``theta`` and solve for the weights; ``center``
        moves the prior mean to its fitted constant first (:meth:`_center`)."""
        inv_l2, s2, sn2 = self._unpack(theta)
        if self._D2 is not None:
            K, _ = matern52_from_sq(self._D2, inv_l2, s2)
        else:  # beyond max_fit_points: no (n, n, d) array
            K = matern52_gram(self.X_, inv_l2, s2)
        n = K.shape[0]
        prior_diag = K.diagonal().copy()
        K.flat[:: n + 1] += sn2
        self._L, self.jitter_ = _cholesky_with_jitter(K)
        if center:
            self._center()
        self._alpha = cho_solve((self._L, True), self._z, check_finite=False)
        K.flat[:: n + 1] = prior_diag
        # the posterior mean at the data, the same bits as predict_standardized(X_) gives
        # when K comes from the squared differences (the K @ alpha of _mean_var)
        self.train_mean_ = K @ self._alpha
        self.theta_ = theta
        self.lengthscale_ = np.exp(theta[:-2])
        self._inv_l2 = inv_l2
        self.signal_var_ = s2
        self.noise_var_ = sn2
        self._set_lml()

    def _center(self) -> None:
        """With ``mean="constant"``, shift the standardized outputs by the constant prior
        mean's GLS estimate under the current factor (the value the likelihood profiled
        out), and the standardization's offset ``y_mean_`` with them.

        Only :meth:`fit` centers: a fantasy at the posterior mean would leave the estimate
        unchanged in exact arithmetic, and re-estimating it would only add rounding.
        """
        if self._profile:
            self._z, _, c = _profiled(self._L, self._z, None)
            self.y_mean_ += c * self.y_std_

    def _set_lml(self) -> None:
        n = self._z.shape[0]
        self.log_marginal_likelihood_ = float(
            -0.5 * self._z @ self._alpha - np.log(np.diag(self._L)).sum() - 0.5 * n * LOG_2PI
        )

    def _extend(self, n_old: int, *, center: bool = True) -> bool:
        """Extend the factor of the first ``n_old`` rows of ``X_`` to every row.

        The block Cholesky factorization (Golub & Van Loan 2013, sec. 4.2): with ``L`` the
        factor of the old points' covariance ``K11`` (noise and jitter included),
        ``C = L^-1 K12`` and ``L22 = chol(K22 - C^T C)``, the factor of the whole matrix is
        ``[[L, 0], [C^T, L22]]``: exact, in O(n^2 k) for k new points instead of the
        O(n^3) of a refactorization. The hyperparameters and jitter stay; the weights
        ``alpha`` are solved again because the standardized outputs change with every
        point. Returns False (nothing changed) if the new block is not positive definite,
        so the caller refactorizes with jitter escalation.
        """
        A, B = self.X_[:n_old], self.X_[n_old:]
        k = B.shape[0]
        s2, noise = self.signal_var_, self.noise_var_ + self.jitter_
        K12, _ = matern52_from_sq(sq_diffs(A, B), self._inv_l2, s2)
        K22, _ = matern52_from_sq(sq_diffs(B, B), self._inv_l2, s2)
        K22.flat[:: k + 1] += noise
        C, info = dtrtrs(self._L, K12, lower=1)
        if info != 0:
            return False
        L22, info = dpotrf(K22 - C.T @ C, lower=1, clean=1)
        if info != 0:
            return False
        n = n_old + k
        L = np.zeros((n, n), order="F")
        L[:n_old, :n_old] = self._L
        L[n_old:, :n_old] = C.T
        L[n_old:, n_old:] = L22
        self._L = L
        if center:
            self._center()
        self._alpha, _ = dpotrs(L, self._z, lower=1)
        # K alpha = z with K the noisy covariance, so the noise-free mean is z - noise alpha
        self.train_mean_ = self._z - noise * self._alpha
        self._set_lml()
        return True

    def localized(self, centers: Array, size: int) -> GaussianProcess:
        """A copy whose variance conditions on the ``size`` most relevant observations.

        The posterior mean stays exact; the variance (and its gradient) conditions on the
        ``size`` training points most correlated with any of ``centers``, a local
        subset-of-data variance (Gramacy & Apley 2015): at least the exact variance,
        and close to it near ``centers`` because observations farther away are screened
        by the nearer ones. Prediction then costs O(size^2) per point instead of O(n^2).
        The planners use it for the gradient ascent of the acquisition from start points
        and score the points it returns with the exact model.

        Parameters
        ----------
        centers : ndarray of shape (c, d)
            Points (unit-cube inputs) near which predictions will be made.
        size : int
            Observations to condition the variance on; ``self`` when ``size >= n``.

        Returns
        -------
        GaussianProcess
            A new model sharing this one's arrays (or ``self``).
        """
        self._check_fitted()
        n = self.X_.shape[0]
        if size >= n:
            return self
        s2 = self.signal_var_
        with single_threaded_blas():
            Kc, _ = matern52_from_sq(sq_diffs(centers, self.X_), self._inv_l2, s2)
            idx = np.sort(np.argpartition(-Kc.max(axis=0), size - 1)[:size])
            Xs = self.X_[idx]
            K, _ = matern52_from_sq(sq_diffs(Xs, Xs), self._inv_l2, s2)
            K.flat[:: size + 1] += self.noise_var_ + self.jitter_
            L, info = dpotrf(K, lower=1, clean=1)
        if info != 0:
            return self
        new = copy.copy(self)
        new._var_idx, new._var_L = idx, L
        return new

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
            # beyond max_fit_points the factor is extended rather than recomputed
            if new._D2 is not None or not new._extend(self.X_.shape[0], center=False):
                new._condition(self.theta_, center=False)
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

    def _chunk_rows(self) -> int:
        """Query points per chunk: the (rows, n, d) differences stay under _CHUNK_ELEMENTS."""
        n, d = self.X_.shape
        return max(1, _CHUNK_ELEMENTS // (n * d))

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
        rows = self._chunk_rows()
        if X.shape[0] <= rows:
            mu, var, _ = self._mean_var(X)
        else:  # bounded memory at large n: the (m, n, d) differences chunk by chunk
            parts = [self._mean_var(X[i : i + rows])[:2] for i in range(0, X.shape[0], rows)]
            mu, var = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        return mu, np.maximum(var, 1e-12 * self.signal_var_)

    def predict_mean_standardized(self, X: Array, *, grad: bool = False) -> tuple[Array, Array]:
        """Posterior mean (standardized units) at validated ``X`` (m, d), without variance.

        The same mean as :meth:`predict_standardized` (and the same ``dmu`` as
        :meth:`predict_standardized_grad`) without the triangular solves the variance
        needs: O(m n d) instead of O(m n^2).

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points.
        grad : bool, default False
            Also return the gradient of the mean.

        Returns
        -------
        mean : ndarray of shape (m,)
        dmu : ndarray of shape (m, d), or (m, 0) when ``grad`` is False
        """
        rows = self._chunk_rows()
        parts = []
        for i in range(0, max(X.shape[0], 1), rows):
            Xc = X[i : i + rows]
            Ks, M = matern52_from_sq(sq_diffs(Xc, self.X_), self._inv_l2, self.signal_var_)
            mu = Ks @ self._alpha
            if grad:
                dK = -(M[:, :, None] * (Xc[:, None, :] - self.X_[None, :, :])) * self._inv_l2
                parts.append((mu, np.einsum("mnd,n->md", dK, self._alpha)))
            else:
                parts.append((mu, np.zeros((Xc.shape[0], 0))))
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def predict_var_bound_standardized(self, X: Array) -> tuple[Array, Array]:
        """Posterior mean and an upper bound on the latent variance at validated ``X`` (m, d).

        The bound is the variance given the single most correlated training point,
        ``s2 - max_i k(x, x_i)^2 / (s2 + noise)``: conditioning on more observations never
        increases a Gaussian posterior variance, so it is at least the exact variance
        (Rasmussen & Williams 2006, sec. 2.2), and it costs O(m n d) instead of the
        O(m n^2) of the triangular solve. For screening candidates of an acquisition
        that increases with the variance.

        Parameters
        ----------
        X : ndarray of shape (m, d)
            Validated query points.

        Returns
        -------
        mean, var_bound : ndarray of shape (m,)
        """
        rows = self._chunk_rows()
        s2, noise = self.signal_var_, self.noise_var_ + self.jitter_
        mu, bound = np.empty(X.shape[0]), np.empty(X.shape[0])
        # r^2 = |a|^2 + |b|^2 - 2 a.b on lengthscale-scaled inputs (a BLAS product, 3x
        # faster than the squared differences at 762 x 1,000; as in matern52_gram its
        # rounding, ~1e-14 in r^2, is far below what a screening bound needs)
        scale = np.sqrt(self._inv_l2)
        Ts = self.X_ * scale
        t_sq = np.einsum("ij,ij->i", Ts, Ts)
        for i in range(0, X.shape[0], rows):
            Qs = X[i : i + rows] * scale
            r2 = np.einsum("ij,ij->i", Qs, Qs)[:, None] + t_sq[None, :] - 2.0 * (Qs @ Ts.T)
            Ks, _ = _matern52_r2(np.maximum(r2, 0.0, out=r2), s2)
            mu[i : i + rows] = Ks @ self._alpha
            kmax = Ks.max(axis=1)
            bound[i : i + rows] = s2 - kmax * kmax / (s2 + noise)
        # slack for the rounding of the exact variance (a difference of O(s2) terms)
        return mu, np.maximum(bound, 0.0) + 1e-10 * s2

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
        diff = X[:, None, :] - self.X_[None, :, :]  # the differences sq_diffs squares
        mu, var, (M, V) = self._mean_var(X, diff * diff)
        floor = 1e-12 * self.signal_var_
        if self._var_idx is None:
            # dK(x, X_b)/dx_j = -M_b (x_j - X_bj) / l_j^2
            dK = -(M[:, :, None] * diff) * self._inv_l2  # (m, n, d)
            dmu = np.einsum("mnd,n->md", dK, self._alpha)
            Kinv_ks, _ = dtrtrs(self._L, V, lower=1, trans=1)  # L^-T V = K^-1 Ks^T, (n, m)
            dvar = -2.0 * np.einsum("mnd,nm->md", dK, Kinv_ks)
        else:  # localized(): sum_b M_b w_b (x - X_b) as matrix products, no (m, n, d) array
            idx = self._var_idx
            W, _ = dtrtrs(self._var_L, V, lower=1, trans=1)  # (size, m)
            A = M * self._alpha
            dmu = -(X * A.sum(axis=1)[:, None] - A @ self.X_) * self._inv_l2
            B = M[:, idx] * W.T
            dvar = 2.0 * (X * B.sum(axis=1)[:, None] - B @ self.X_[idx]) * self._inv_l2
        dvar[var <= floor] = 0.0
        return mu, np.maximum(var, floor), dmu, dvar

    def _mean_var(
        self, X: Array, D2: Array | None = None
    ) -> tuple[Array, Array, tuple[Array, Array]]:
        """Mean, variance (standardized, unfloored) and the (M, V) the gradients reuse.

        Parameters
        ----------
        X : ndarray of shape (m, d)
        D2 : ndarray of shape (m, n, d), optional
            ``sq_diffs(X, X_)`` if the caller has it.

        Returns
        -------
        mean, var : ndarray of shape (m,)
        (M, V) : the kernel's radial factor (m, n) and ``L^-1 Ks^T``
        """
        if D2 is None:
            D2 = sq_diffs(X, self.X_)
        Ks, M = matern52_from_sq(D2, self._inv_l2, self.signal_var_)
        mu = Ks @ self._alpha
        if self._var_idx is None:
            V, _ = dtrtrs(self._L, Ks.T, lower=1)  # L^-1 Ks^T, (n, m), as solve_triangular
        else:
            V, _ = dtrtrs(self._var_L, Ks[:, self._var_idx].T, lower=1)
        var = self.signal_var_ - np.einsum("ij,ij->j", V, V)
        return mu, var, (M, V)
