"""Peer Bayesian-optimization libraries as ardlib planners: BoTorch, scikit-optimize, Optuna.

Each adapter is an ordinary :class:`~ardlib.planners.Planner` (``ask``/``tell``/
``recommend``), so a :class:`~ardlib.study.Study` runs it beside ardlib's own planners with
the same seeds, initial designs and result store (``ardlib bench peers``):

* **Same initial design.** Built with the same ``rng``, an adapter asks the same
  ``n_initial`` scrambled Sobol' points as :class:`~ardlib.planners.BayesianOptimization`,
  then hands them to its library through the library's own "tell" (``Optimizer.tell``,
  ``Study.add_trial``, BoTorch's training data).
* **Only the suggestion is timed:** scikit-optimize fits and optimizes inside ``tell``, so
  its adapter defers the library's ``tell`` into ``ask``.
* **One thread:** torch is limited to one intra-op thread on first use; BLAS pools are
  limited by the study engine.

The libraries are imported on a planner's first use, so ardlib imports without them; a
missing one raises :class:`ImportError` naming ``pip install -e .[peers]``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._io import dist_version
from .._rng import RNGLike
from .._validation import check_int
from ._design import _DesignFirst

__all__ = ["BoTorchPlanner", "OptunaPlanner", "SkoptPlanner"]

Array = NDArray[np.float64]
_INSTALL = "pip install -e .[peers]"


def _require(module: str, package: str) -> Any:
    """Import ``module`` or raise an ImportError that says how to install it."""
    try:
        with warnings.catch_warnings():  # the peers' own import-time deprecation notices
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The peer comparison needs {package!r}, which is not installed; install the "
            f"peers extra with `{_INSTALL}` (torch first, from the CPU build)."
        ) from exc


class _PeerPlanner(_DesignFirst):
    """Shared plumbing: the Sobol' initial design, then the library's own suggestions.

    Subclasses implement :meth:`_setup_peer` (import and build the library's optimizer),
    :meth:`_peer_ask` (one model-based point, in the box) or :meth:`_peer_ask_batch` (the
    model-based points of one ask together; by default successive single asks) and may
    override :meth:`_peer_tell` (hand observations to the library).
    """

    library: str = ""

    def __init__(
        self, *, bounds: ArrayLike, rng: RNGLike = None, goal: str = "minimize", n_initial: int = 5
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.n_initial = n_initial

    def _validate_params(self) -> None:
        # every setting beyond the base's is a count (n_initial, restarts, samples, points)
        for key, value in self.get_params().items():
            if key not in ("bounds", "rng", "goal"):
                check_int(value, key, owner=type(self).__name__, low=1)

    def _setup(self) -> None:
        self._setup_design()  # first, as BayesianOptimization: same seed, same points
        self._peer_seed = int(self.rng_.integers(2**31 - 1))
        self._info: dict[str, Any] = {}
        self._setup_peer()

    def _ask(self, n: int) -> Array:
        out = self._design_points(n)
        n_design = len(out)
        if n > n_design:
            batch = np.asarray(self._peer_ask_batch(n - n_design), dtype=float)
            out += list(batch.reshape(n - n_design, self.dim))
        self.n_asked_ += n
        return np.asarray(out)

    def _tell(self, X: Array, y: Array) -> None:
        self._peer_tell(X, self._sign * y)

    def _setup_peer(self) -> None:
        raise NotImplementedError

    def _peer_ask(self) -> Array:
        raise NotImplementedError

    def _peer_ask_batch(self, q: int) -> Array:
        """``q`` model-based points, shape (q, d); default: ``q`` successive single asks."""
        return np.array(
            [np.asarray(self._peer_ask(), dtype=float).reshape(self.dim) for _ in range(q)]
        )

    def _peer_tell(self, X: Array, y_min: Array) -> None:
        """Observations to minimize (NaN for failures); default: kept in ``X_``/``y_``."""

    @property
    def peer_info(self) -> dict[str, Any]:
        """Library, version and the settings the adapter uses (for the study record)."""
        self._ensure_setup()
        return {"library": self.library, "version": dist_version(self.library), **self._info}


class BoTorchPlanner(_PeerPlanner):
    """BoTorch's standard loop: ``SingleTaskGP`` + ``LogExpectedImprovement`` + ``optimize_acqf``.

    Inputs are scaled to the unit cube and outcomes standardized (``Standardize``); the GP
    has BoTorch's default kernel, priors and inferred noise, fitted by ``fit_gpytorch_mll``;
    the acquisition's incumbent is the best observation. Each ask refits from scratch, as
    in BoTorch's tutorials. All tensors are float64; torch's random state is forked and
    seeded from ``rng`` for each ask, so the caller's global state is untouched.

    A batch (``ask(n)`` with ``q > 1`` model-based points) is BoTorch's standard batch
    loop: one refit, then ``qLogExpectedImprovement`` (default quasi-Monte-Carlo sampler)
    maximized jointly over the ``q`` points by ``optimize_acqf(q=q)``. One model-based
    point is exactly the sequential loop above. Before any successful observation there
    is nothing to model, and the asks continue the Sobol' sequence (as
    :class:`~ardlib.planners.BayesianOptimization` does).

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    n_initial : int, default 5
        Size of the Sobol' initial design (the same points as ardlib's with the same rng).
    num_restarts : int, default 10
        Gradient restarts of ``optimize_acqf``.
    raw_samples : int, default 512
        Quasi-random candidates scoring the restarts' starting points.
    """

    library = "botorch"

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: RNGLike = None,
        goal: str = "minimize",
        n_initial: int = 5,
        num_restarts: int = 10,
        raw_samples: int = 512,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal, n_initial=n_initial)
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples

    def _setup_peer(self) -> None:
        self._torch = _require("torch", "torch")
        self._botorch = {
            m: _require(m, "botorch")
            for m in (
                "botorch.acquisition", "botorch.fit", "botorch.models",
                "botorch.models.transforms.outcome", "botorch.optim",
            )
        }  # fmt: skip
        self._mlls = _require("gpytorch.mlls", "gpytorch")
        self._info = {
            "model": "SingleTaskGP (default kernel and priors, Standardize outcomes)",
            "acquisition": "LogExpectedImprovement(best_f = best observation)",
            "batch_acquisition": "qLogExpectedImprovement(best_f = best observation, default "
            "sampler), optimize_acqf(q = batch) jointly, one refit per ask",
            "optimizer": f"optimize_acqf(num_restarts={self.num_restarts}, "
            f"raw_samples={self.raw_samples})",
            "dtype": "float64",
        }

    def _peer_ask_batch(self, q: int) -> Array:
        if self.y_.shape[0] == 0:  # nothing to model yet
            return self._design.ask(q)
        # One core per ask, as ardlib's own; torch's thread count is process-wide, so the
        # caller's is restored afterwards.
        threads = self._torch.get_num_threads()
        self._torch.set_num_threads(1)
        try:
            return self._botorch_ask(q)
        finally:
            self._torch.set_num_threads(threads)

    def _botorch_ask(self, q: int) -> Array:
        torch, bt = self._torch, self._botorch
        SingleTaskGP = bt["botorch.models"].SingleTaskGP
        Standardize = bt["botorch.models.transforms.outcome"].Standardize
        acquisition = bt["botorch.acquisition"]
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        train_X = torch.as_tensor((self.X_ - lo) / (hi - lo), dtype=torch.float64)
        train_Y = torch.as_tensor(-self._sign * self.y_, dtype=torch.float64)[:, None]
        unit = torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]).to(torch.float64)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.rng_.integers(2**31 - 1)))
            model = SingleTaskGP(train_X, train_Y, outcome_transform=Standardize(m=1))
            mll = self._mlls.ExactMarginalLogLikelihood(model.likelihood, model)
            bt["botorch.fit"].fit_gpytorch_mll(mll)
            if q == 1:
                acqf = acquisition.LogExpectedImprovement(model, best_f=train_Y.max())
            else:
                acqf = acquisition.qLogExpectedImprovement(model, best_f=train_Y.max())
            cand, _ = bt["botorch.optim"].optimize_acqf(
                acqf,
                bounds=unit,
                q=q,
                num_restarts=int(self.num_restarts),
                raw_samples=int(self.raw_samples),
            )
        u = cand.detach().numpy().reshape(q, self.dim)
        return lo + np.clip(u, 0.0, 1.0) * (hi - lo)


class SkoptPlanner(_PeerPlanner):
    """scikit-optimize's ``Optimizer`` configured as ``gp_minimize`` with ``acq_func="EI"``.

    The estimator is ``cook_estimator("GP", noise="gaussian")`` (constant x Matern-5/2 ARD,
    normalized outputs, learned noise, 2 hyperparameter restarts) and EI (``xi=0.01``) is
    maximized by L-BFGS-B from the best 5 of 10,000 random points: ``gp_minimize``'s
    defaults apart from the acquisition (its default is ``"gp_hedge"``). ``Optimizer.tell``
    is where skopt fits and optimizes, so the adapter buffers observations and calls it
    inside ``ask``; ``ask`` times therefore include the fit, as for every other planner.

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    n_initial : int, default 5
    n_points : int, default 10000
        Random points scored before the L-BFGS-B restarts.
    n_restarts_optimizer : int, default 5
        L-BFGS-B restarts of the acquisition.
    """

    library = "scikit-optimize"

    def __init__(
        self,
        *,
        bounds: ArrayLike,
        rng: RNGLike = None,
        goal: str = "minimize",
        n_initial: int = 5,
        n_points: int = 10_000,
        n_restarts_optimizer: int = 5,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal, n_initial=n_initial)
        self.n_points = n_points
        self.n_restarts_optimizer = n_restarts_optimizer

    def _setup_peer(self) -> None:
        skopt = _require("skopt", "scikit-optimize")
        cook_estimator = _require("skopt.utils", "scikit-optimize").cook_estimator
        space = [(float(lo), float(hi)) for lo, hi in self.bounds_]
        estimator = cook_estimator(
            "GP", space=space, random_state=self._peer_seed, noise="gaussian"
        )
        self._opt = skopt.Optimizer(
            space,
            base_estimator=estimator,
            n_initial_points=int(self.n_initial),
            acq_func="EI",
            acq_optimizer="lbfgs",
            random_state=self._peer_seed,
            acq_func_kwargs={"xi": 0.01},
            acq_optimizer_kwargs={
                "n_points": int(self.n_points),
                "n_restarts_optimizer": int(self.n_restarts_optimizer),
                "n_jobs": 1,
            },
        )
        self._pending: list[tuple[list[float], float]] = []
        self._info = {
            "model": "cook_estimator('GP', noise='gaussian')",
            "acquisition": "EI(xi=0.01)",
            "optimizer": f"lbfgs(n_points={self.n_points}, "
            f"n_restarts_optimizer={self.n_restarts_optimizer})",
        }

    def _peer_tell(self, X: Array, y_min: Array) -> None:
        # skopt has no notion of a failed point: a failure is simply not told.
        self._pending += [(x.tolist(), float(v)) for x, v in zip(X, y_min, strict=True) if v == v]

    def _peer_ask(self) -> Array:
        return self._peer_ask_batch(1)[0]

    def _peer_ask_batch(self, q: int) -> Array:
        # A batch is skopt's own: ask(n_points=q) with its default constant liar (cl_min),
        # not q successive asks, which return one point q times (nothing told in between).
        with warnings.catch_warnings():
            # "The objective has been evaluated at point ... before": skopt then picks a
            # random point itself, which is its documented behaviour.
            warnings.filterwarnings("ignore", message="The objective has been evaluated")
            if self._pending:
                xs, ys = zip(*self._pending, strict=True)
                self._pending = []
                self._opt.tell(list(xs), list(ys))  # fits the GP and optimizes EI
            if q == 1:
                return np.asarray([self._opt.ask()], dtype=float)
            return np.asarray(self._opt.ask(n_points=q), dtype=float)


class OptunaPlanner(_PeerPlanner):
    """Optuna's ``GPSampler`` (or ``TPESampler`` where GPSampler does not exist).

    Parameters are ``x0 .. x{d-1}`` with ``FloatDistribution`` bounds; the initial design
    and every observation enter the study as completed trials (``add_trial``), or through
    ``Study.tell`` for the trial the adapter asked. ``n_startup_trials = n_initial``, so the
    sampler models from the first model-based ask on. The sampler's defaults are kept
    (``deterministic_objective=False``: the noise is learned, as ardlib and BoTorch do).
    Optuna's log level is set to WARNING (it logs every trial at INFO).

    Parameters
    ----------
    bounds : array-like of shape (d, 2)
    rng : None, int, SeedSequence or Generator
    goal : {"minimize", "maximize"}
    n_initial : int, default 5
    """

    library = "optuna"

    def _setup_peer(self) -> None:
        self._optuna = optuna = _require("optuna", "optuna")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers = optuna.samplers
        cls = getattr(samplers, "GPSampler", None) or samplers.TPESampler
        n0 = int(self.n_initial)
        self._study = optuna.create_study(
            direction="minimize", sampler=cls(seed=self._peer_seed, n_startup_trials=n0)
        )
        self._dists = {
            f"x{i}": optuna.distributions.FloatDistribution(float(lo), float(hi))
            for i, (lo, hi) in enumerate(self.bounds_)
        }
        self._asked: list[Any] = []  # trials asked and not yet told (RUNNING)
        self._info = {"sampler": f"{cls.__name__}(n_startup_trials={n0})"}

    def _peer_ask(self) -> Array:
        # One trial at a time; in a batch the later asks see the earlier ones RUNNING, which
        # GPSampler models (its qLogEI over running trials), so a batch is Optuna's own.
        trial = self._study.ask(self._dists)
        self._asked.append(trial)
        return np.array([trial.params[k] for k in self._dists])

    def _peer_tell(self, X: Array, y_min: Array) -> None:
        optuna = self._optuna
        for x, v in zip(X, y_min, strict=True):
            state = optuna.trial.TrialState.COMPLETE if v == v else optuna.trial.TrialState.FAIL
            value = float(v) if v == v else None
            match = next((t for t in self._asked if self._same_point(t, x)), None)
            if match is not None:  # an asked trial: finish it
                self._asked.remove(match)
                self._study.tell(match, value, state=state)
                continue
            params = {k: float(xi) for k, xi in zip(self._dists, x, strict=True)}
            self._study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=self._dists, value=value, state=state
                )
            )
        told = self._n_told()  # this tell included
        if self._asked and told >= self.n_asked_:
            # every ask so far is answered, with other points than some asked trials: those
            # were not run, and a RUNNING trial would weigh on every later ask
            for trial in self._asked:
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self._asked = []

    def _same_point(self, trial: Any, x: Array) -> bool:
        asked = [trial.params[k] for k in self._dists]
        return bool(np.allclose(x, asked, rtol=0.0, atol=1e-12))
