"""Gaussian-process Bayesian optimization behind the ask/tell/recommend interface."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._rng import RNGLike
from .._threads import single_threaded_blas
from .._validation import check_choice, check_int, check_real
from ..gp import GaussianProcess, HyperparameterEnsemble
from . import _acquisition as acq
from ._acqopt import maximize_acquisition
from ._design import _DesignFirst

__all__ = ["BayesianOptimization"]

Array = NDArray[np.float64]
ACQUISITIONS = ("log_ei", "noisy_ei", "ucb")
RECOMMEND = ("observed", "model")


#: From this many fit points on, the GP's hyperparameter starts other than the first are
#: screened (GaussianProcess.screen_starts_from): on the full refits of two Hartmann-6
#: campaigns at n = 50-125 (28 fits) the warm and both deterministic starts reached the
#: same optimum every time. Below, every start runs to convergence: small data sets have
#: several optima, and screening there left Hartmann-6 campaigns of 40 evaluations
#: slightly worse in 26 of 38 seeds (median regret +0.002, p = 0.24).
_SCREEN_STARTS_FROM = 64

#: From this many GP observations on, raw candidates are screened with an upper bound of
#: the acquisition before the exact score (maximize_acquisition's ``upper``): at n = 1,000
#: about 1 in 9 of the 762 candidates then needs the O(n^2) variance (an exploitation
#: step's bound is the mean from the faster kernel product of the variance bound, so only
#: the candidates near the top get the exact mean). At n = 100 (cold asks on five
#: Hartmann-6 data sets) one batch of 64 candidates needed the exact score, and the
#: screening took 0.9 ms instead of 2.1 ms for the same starts and values, bit for bit.
#: Below, the exact scoring of every candidate costs about as much as the bound.
_BOUND_MIN_N = 64


#: Observations the acquisition's gradient ascent conditions the variance on at large n
#: (GaussianProcess.localized); the points it reaches are scored with the exact model.
_LOCAL_N = 256

#: Exploitation steps (``exploit_every``) start once the planner knows ``n_initial`` plus
#: this many experiments per dimension: in a campaign from scratch, after as many
#: model-based points. Counted in experiments, not asks, so a planner told earlier data
#: exploits from its first asks (see ``exploit_every``).
_EXPLOIT_AFTER_PER_DIM = 2


#: Up to this many GP observations, log_ei averages EI over ``n_hyper_draws`` Laplace
#: draws of the hyperparameters besides the MAP (HyperparameterEnsemble); beyond, the MAP
#: alone. At a handful of points the MAP lengthscales are one guess among many; with
#: more data the posterior narrows and the draws cost without changing the choice.
_ENSEMBLE_UP_TO = 30


def _upper_bound(util: Callable[..., tuple[Array, Array]], X: Array) -> Array:
    return util(X, grad=False, bound=True)[0]


def _noisy_incumbent(gp: GaussianProcess) -> float:
    """Posterior mean at the "effective best" evaluated point (fantasies included): the one
    minimizing mean + sd (Huang et al. 2006), standardized units.

    Exact, without the variance at every point: the minimizer's mean is at most the
    minimum of mean + sd, hence at most mean + sd of the point with the lowest mean, and
    only points whose mean (``train_mean_``, already computed) is that low need their
    variance (scoring all n points costs O(n^3)). With this and the ascent on the
    localized variance (as for log_ei), 12 warm noisy_ei asks at n = 1,000, d = 6 took
    23-24 ms median and 36-46 ms p90, 52-70 ms and 138-149 ms before (Hartmann-6 with
    noise sd 0.1, three alternating runs, load about 2.5, 2026-12-06).
    """
    mu = gp.train_mean_
    j = int(np.argmin(mu))
    m0, v0 = gp.predict_standardized(gp.X_[j : j + 1])
    bound = float(m0[0] + np.sqrt(v0[0]))
    # train_mean_ and predict_standardized may differ in the last bits: keep a margin
    idx = np.flatnonzero(mu <= bound + 1e-6 * (1.0 + abs(bound)))
    m, var = gp.predict_standardized(gp.X_[idx])
    return float(m[int(np.argmin(m + np.sqrt(var)))])


class BayesianOptimization(_DesignFirst):
    """GP-based Bayesian optimization (Matern-5/2 ARD GP, fitted constant mean, learned
    noise).

    The first ``n_initial`` points are a scrambled Sobol' design drawn from ``rng`` (the
    same points a :class:`Sobol` planner with the same seed proposes); the design only
    fills up to ``n_initial`` observations in total, so a planner told earlier experiments
    before its first ask (prior data, failed ones included) proposes ``n_initial`` minus
    their number from the design, none once it knows ``n_initial`` or more. Afterwards each
    ``ask`` fits the GP to the successful observations (inputs scaled to the unit cube,
    outputs standardized) and maximizes the acquisition with gradients from several
    starts. Batches (``n > 1``) are filled sequentially with the kriging believer: each
    chosen point is added as a fantasy observation at its posterior mean, with the fit's
    hyperparameters and output scaling (:meth:`GaussianProcess.fantasize`).

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    acquisition : {"log_ei", "noisy_ei", "ucb"}, default "log_ei"
        ``log_ei``: log expected improvement over the best posterior mean at an evaluated
        point, averaged over hyperparameter draws up to 30 observations (see
        ``n_hyper_draws``); ``noisy_ei``: augmented EI (Huang et al. 2006) for noisy observations;
        ``ucb``: lower confidence bound with ``beta``.
    beta : float, default 4.0
        Exploration weight of ``ucb`` (on standardized outputs).
    n_initial : int, default 5
        Size of the initial Sobol' design.
    n_restarts : int, default 2
        Random hyperparameter restarts at each full refit. From 64 observations on, only
        the first start runs to convergence and the others are screened
        (``GaussianProcess(screen_starts_from=64)``). A cold ask with 100 Hartmann-6
        observations took 27 ms (median of five data sets, one thread, load 2-5; 106 ms
        the day before these changes), BoTorch's standard loop 337 ms beside it.
    full_refit_every : int, default 5
        Between full refits, hyperparameters are optimized from the previous optimum only.
        Beyond ``max_fit_points`` observations a full refit comes once the observations
        have grown by ``full_refit_every / max_fit_points`` (3.9 % by default) since the
        last one, and between refits the hyperparameters are kept and the model's
        Cholesky factor is extended by the new points.
    n_raw : int, default 512
        Quasi-random candidates scored before gradient ascent.
    n_starts : int, default 4
        Gradient ascents of the acquisition per point.
    failure_radius : float, default 0.5
        Failed experiments (NaN outcomes) are never fed to the GP; the acquisition is
        multiplied by ``1 - exp(-q / 2)`` around each, with ``q`` the squared distance in
        units of ``failure_radius`` GP lengthscales, so a failed point is not asked again.
    exploit_every : int or None, default 2
        Once the planner knows ``n_initial + 2 d`` experiments (in a campaign from
        scratch: after its first ``2 d`` model-based points), every ``exploit_every``-th
        model-based point minimizes the posterior mean instead of the acquisition (pure
        exploitation; None disables). Alternating exploitation with EI converges to the
        optimum's neighbourhood far faster at equal robustness (De Ath et al. 2021, "Greed
        is good"); measured on noiseless Branin it cut the median evaluations to regret
        < 1e-3 from 32 to 25 (30 seeds). The first ``2 d`` model-based points are all EI:
        with the GP's fitted constant mean, early exploitation cost more than it gained.
        (Counted in experiments, so a planner told earlier data exploits from its first
        asks: at n = 1,000, d = 6 exploitation steps cost a fraction of an EI step, and
        counting asks made warm asks there 40 % slower.) Measured on noiseless Hartmann-6
        (five initial points, 2026-12-06), EI only for the first 12 model-based points
        against exploitation from the start, 80 paired seeds:
        median regret 0.70 against 0.76 after 20 evaluations (53 of 80 better, Wilcoxon
        p = 0.012) and 0.0018 against 0.0038 after 40 (p = 0.004); on 60 other seeds
        0.80 against 1.06 (p = 0.23) and 0.0042 against 0.019 (p = 0.089). Branin over
        50 seeds: median 21 evaluations to regret < 1e-3 either way, 95th percentile 27
        instead of 29.
    max_fit_points : int or None, default 128
        With more successful observations than this, the hyperparameters are fitted on a
        random subset of this size and the model conditioned on all of them
        (:class:`GaussianProcess`). From 64 observations on, the acquisition search
        screens its candidates with a cheap exact upper bound; beyond 256 it climbs on a
        variance from the 256 observations nearest its starts
        (:meth:`GaussianProcess.localized`), scoring the result exactly. Measured on
        Hartmann-6, one thread, on a shared 2-core machine (``ardlib bench peers --cold``,
        median of five data sets, 2026-12-06, load 2-5.7): a cold ask with 1,000
        observations took 182 ms and with 2,000 507 ms (BoTorch 26 s and 123 s beside
        it). An ask inside a campaign at 1,000 Hartmann-6 observations took 22.0 ms
        median, 55.2 ms p90, and 5,000 observations asked cold 6.1 s at 0.70 GB peak
        (2026-12-06, load 1-2; 211-247 ms, 330-408 ms p90, and 21 s at 1.3 GB before
        the subset fit and the Cholesky extension). Campaigns of up to 63 experiments
        are unchanged bit for bit by these. None always fits on every point.
    n_hyper_draws : int, default 8
        With ``acquisition="log_ei"`` and at most 30 observations, an EI step maximizes
        the log of EI averaged over the MAP model and this many draws of the log
        lengthscales and log signal variance from a Laplace approximation at the MAP
        (:class:`~ardlib.gp.HyperparameterEnsemble`; Snoek et al. 2012 integrate EI
        over the hyperparameters by MCMC); each model's EI is against its own best
        posterior mean at an evaluated point. 0 uses the MAP model alone. At a few
        points the MAP lengthscales are one guess among many that fit about as well, and
        EI on that guess alone explores too narrowly. Measured against 0 on noiseless
        problems (five initial points, budget 40, 240 paired seeds, 2026-12-07):
        Hartmann-6 after 20 evaluations 0.56 against 0.70 (136 of 240 better,
        p = 0.007); the Suzuki emulator after 20 5.2e-6 against 1.7e-6 (147 worse,
        p = 0.002; BoTorch's median there is 0.017); Branin, the crossed barrel and
        every cell after 40 not significantly different. Against BoTorch on 80 seeds no
        session had used, ardlib's median regret was at most BoTorch's in all eight
        cells (four problems, after 20 and 40), where with 0 it was above in two. Branin
        to regret < 1e-3 over 50 seeds: median 23, 95th percentile 30.1 (21 and 27 with
        0). A cold Hartmann-6 ask at n = 10 took 18.7 ms instead of 16.4 ms (median of
        five data sets), an ask inside a campaign at n = 10 about twice as long: all
        members are predicted in one set of array operations.
    recommendation : {"observed", "model"}, default "observed"
        ``observed``: the evaluated point with the best posterior mean (robust to noise,
        unlike the best noisy observation); ``model``: optimize the posterior mean over the
        box starting from the best evaluated points.

    Attributes
    ----------
    gp_ : GaussianProcess
        The model of the last fit.
    """

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: RNGLike = None,
        goal: str = "minimize",
        acquisition: str = "log_ei",
        beta: float = 4.0,
        n_initial: int = 5,
        n_restarts: int = 2,
        full_refit_every: int = 5,
        n_raw: int = 512,
        n_starts: int = 4,
        failure_radius: float = 0.5,
        recommendation: str = "observed",
        exploit_every: int | None = 2,
        max_fit_points: int | None = 128,
        n_hyper_draws: int = 8,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.acquisition = acquisition
        self.beta = beta
        self.n_initial = n_initial
        self.n_restarts = n_restarts
        self.full_refit_every = full_refit_every
        self.n_raw = n_raw
        self.n_starts = n_starts
        self.failure_radius = failure_radius
        self.recommendation = recommendation
        self.exploit_every = exploit_every
        self.max_fit_points = max_fit_points
        self.n_hyper_draws = n_hyper_draws

    def _validate_params(self) -> None:
        name = type(self).__name__
        check_choice(self.acquisition, "acquisition", ACQUISITIONS, owner=name)
        check_choice(self.recommendation, "recommendation", RECOMMEND, owner=name)
        check_real(self.beta, "beta", owner=name, low=0)
        check_int(self.n_initial, "n_initial", owner=name, low=1)
        check_int(self.n_restarts, "n_restarts", owner=name, low=0)
        check_int(self.full_refit_every, "full_refit_every", owner=name, low=1)
        check_int(self.n_raw, "n_raw", owner=name, low=1)
        check_int(self.n_starts, "n_starts", owner=name, low=1)
        if self.exploit_every is not None:
            check_int(self.exploit_every, "exploit_every", owner=name, low=1)
        if self.max_fit_points is not None:
            check_int(self.max_fit_points, "max_fit_points", owner=name, low=2)
        check_int(self.n_hyper_draws, "n_hyper_draws", owner=name, low=0)
        check_real(self.failure_radius, "failure_radius", owner=name, low=0, low_inclusive=False)

    def _setup(self) -> None:
        self._setup_design()  # first, so it matches a Sobol planner with the same rng
        self.gp_: GaussianProcess | None = None
        self._gp_rng = np.random.default_rng(self.rng_.integers(2**63))
        self._n_fits = 0
        self._fitted_on = -1
        self._refit_n = 0  # observations at the last full refit

    # ------------------------------------------------------------------ helpers
    def _to_unit(self, X: Array) -> Array:
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        return (X - lo) / (hi - lo)

    def _from_unit(self, U: Array) -> Array:
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        return lo + np.clip(U, 0.0, 1.0) * (hi - lo)

    def _fit(self) -> GaussianProcess:
        """Fit (or reuse) the GP on the successful observations, minimization sign."""
        n = self.y_.shape[0]
        if self.gp_ is not None and self._fitted_on == n:
            return self.gp_
        if self.gp_ is None:
            self.gp_ = GaussianProcess(
                n_restarts=self.n_restarts,
                screen_starts_from=_SCREEN_STARTS_FROM,
                max_fit_points=self.max_fit_points,
                rng=self._gp_rng,
            )
        every, m = int(self.full_refit_every), self.max_fit_points
        X, y = self._to_unit(self.X_), self._targets()
        if m is not None and n > m and self._refit_n > m:
            # Beyond max_fit_points the hyperparameters come from a random subset of m
            # points, and k new observations move the full-data posterior by O(k / n): a
            # full refit waits until the data have grown by every / m (3.9 % by default)
            # since the last one (about every 5 fits just above m, every 39 at n = 1,000).
            # Between, the hyperparameters stay and the Cholesky factor is extended by the
            # new points (GaussianProcess.fit with optimize=False), where a warm-started
            # re-fit on a fresh subset would mostly re-draw subset noise.
            full = n >= self._refit_n * (1.0 + every / m)
            if not full:
                self.gp_.fit(X, y, optimize=False)
        else:
            full = self._n_fits % every == 0
            if not full:
                self.gp_.fit(X, y, warm_start_only=True)
        if full:
            self.gp_.fit(X, y)
            self._refit_n = n
        self._n_fits += 1
        self._fitted_on = n
        return self.gp_

    def _targets(self) -> Array:
        """GP training targets: successful observations with the minimization sign."""
        return self._sign * self.y_

    def _utility(
        self, gp: GaussianProcess, *, exploit: bool = False, incumbent: float | None = None
    ) -> Callable[..., tuple[Array, Array]]:
        """The function to maximize: the acquisition (or, for an exploitation step, the
        negated posterior mean), times the failure penalty around failed points.

        ``incumbent`` is noisy_ei's effective best when already known (the localized
        model of the ascent takes the full model's, whose variance is exact).
        """
        base: Callable[..., tuple[Array, Array]]
        if exploit:
            base = self._mean_utility(gp)
        elif self.acquisition == "ucb":
            base = partial(acq.ucb, gp, beta=float(self.beta))
        elif self.acquisition == "noisy_ei":
            best = _noisy_incumbent(gp) if incumbent is None else incumbent
            base = partial(acq.noisy_log_ei, gp, best=best, noise_var=gp.noise_var_)
        elif self.n_hyper_draws and gp.X_.shape[0] <= _ENSEMBLE_UP_TO:
            ens = HyperparameterEnsemble(gp, int(self.n_hyper_draws), self.rng_)
            base = partial(acq.ensemble_log_ei, ens, best=ens.train_means.min(axis=1))
        else:
            base = partial(acq.log_ei, gp, best=float(np.min(gp.train_mean_)))
        if self.X_failed_.shape[0] == 0:
            return base
        F = self._to_unit(self.X_failed_)
        scale = self.failure_radius * gp.lengthscale_

        def penalized(X: Array, grad: bool = True, bound: bool = False) -> tuple[Array, Array]:
            v, g = base(X, grad=grad and not bound, bound=bound)  # pen does not bound
            grad = grad and not bound
            diff = (X[:, None, :] - F[None, :, :]) / scale  # (m, f, d)
            q = 0.5 * np.sum(diff * diff, axis=2)
            e = np.exp(-q)
            pen = np.sum(np.log1p(-np.minimum(e, 1.0 - 1e-16)), axis=1)
            if not grad:
                return v + pen, g
            dpen = np.einsum("mf,mfd->md", e / (1.0 - np.minimum(e, 1.0 - 1e-16)), diff / scale)
            return v + pen, g + dpen

        return penalized

    # ------------------------------------------------------------------ hooks
    def _ask(self, n: int) -> Array:
        out = self._design_points(n)
        if len(out) < n:
            with single_threaded_blas():
                out.extend(self._model_points(n - len(out)))
        self.n_asked_ += n
        return np.asarray(out).reshape(n, self.dim)

    def _model_points(self, n: int) -> list[Array]:
        if self.y_.shape[0] < 2:
            # Not enough successes for a model: continue the space-filling sequence, which
            # never repeats a point (failed ones included).
            return list(self._design.ask(n))
        gp = self._fit()
        U = self._to_unit(self.X_)
        z = (self._targets() - gp.y_mean_) / gp.y_std_
        pts: list[Array] = []
        exploit = int(self.exploit_every or 0)
        n_model = self.n_asked_ - self._n_design  # model-based points before this batch
        told = self._n_told()
        for k in range(n):
            # kriging believer: condition on the previous picks at their posterior means
            model = gp.fantasize(np.asarray(pts)) if k > 0 else gp
            anchors = U[np.argsort(z, kind="stable")[: min(5, U.shape[0])]]
            # Only a batch's first point may exploit: a fantasy at the posterior mean leaves
            # the mean unchanged, so a second exploitation pick would repeat the first.
            greedy = (
                bool(exploit)
                and k == 0
                and told >= self.n_initial + _EXPLOIT_AFTER_PER_DIM * self.dim
                and (n_model % exploit == exploit - 1)
            )
            noisy = not greedy and self.acquisition == "noisy_ei"
            best = _noisy_incumbent(model) if noisy else None
            util = self._utility(model, exploit=greedy, incumbent=best)
            upper = ascent = None
            if model.X_.shape[0] >= _BOUND_MIN_N:
                upper = partial(_upper_bound, util)
            if not greedy and model.X_.shape[0] > _LOCAL_N:
                ascent = partial(self._local_utility, model, best)
            x, _ = maximize_acquisition(
                util,
                self.dim,
                anchors=anchors,
                scales=gp.lengthscale_,
                rng=self.rng_,
                n_raw=int(self.n_raw),
                n_starts=int(self.n_starts),
                upper=upper,
                ascent=ascent,
            )
            pts.append(x)
        return [self._from_unit(p) for p in pts]

    def _local_utility(
        self, gp: GaussianProcess, incumbent: float | None, starts: Array
    ) -> Callable[..., tuple[Array, Array]]:
        """The utility on a model whose variance conditions on the _LOCAL_N observations
        most correlated with the starts (GaussianProcess.localized), for the ascent;
        noisy_ei keeps the full model's ``incumbent``."""
        return self._utility(gp.localized(starts, _LOCAL_N), incumbent=incumbent)

    def _mean_utility(self, gp: GaussianProcess) -> Callable[..., tuple[Array, Array]]:
        def neg_mean(X: Array, grad: bool = True, bound: bool = False) -> tuple[Array, Array]:
            if bound:  # the mean by the faster kernel product: equal up to rounding
                return -gp.predict_var_bound_standardized(X)[0], np.zeros((X.shape[0], 0))
            m, dm = gp.predict_mean_standardized(X, grad=grad)
            return -m, -dm

        return neg_mean

    def _recommend(self) -> Array:
        if self.y_.shape[0] < 2:
            return super()._recommend()
        with single_threaded_blas():
            gp = self._fit()
            U = self._to_unit(self.X_)
            mu = gp.train_mean_  # the posterior mean at U (the GP's training inputs)
            best = U[int(np.argmin(mu))]
            if self.recommendation == "model":
                anchors = U[np.argsort(mu, kind="stable")[: min(5, U.shape[0])]]
                x, v = maximize_acquisition(
                    self._mean_utility(gp),
                    self.dim,
                    anchors=anchors,
                    scales=gp.lengthscale_,
                    rng=np.random.default_rng(self.y_.shape[0]),
                    n_raw=256,
                    n_starts=3,
                )
                if -v < float(np.min(mu)):
                    best = x
        return self._from_unit(best)
