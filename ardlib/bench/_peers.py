"""Compare ardlib's GP-BO side by side with peer libraries: BoTorch, scikit-optimize, Optuna.

Each peer is wrapped in a :class:`~ardlib.planners.Planner` (``ask``/``tell``/``recommend``)
so one loop, :func:`run_peer_study`, drives every planner the same way:

* **Same initial design.** Every planner built with the same ``rng`` starts with the same
  ``n_initial`` scrambled Sobol' points: :class:`~ardlib.planners.BayesianOptimization`
  draws them with its own :class:`~ardlib.planners.Sobol` from ``rng`` and each adapter draws
  them identically, then hands them to its library through that library's own "tell"
  (``Optimizer.tell``, ``Study.add_trial``, BoTorch's training data). The study checks that
  the initial points of every planner agree exactly and raises otherwise.
* **Same budget, same seeds, noiseless objectives, minimization** (maximization problems
  are negated inside every planner, as ardlib does).
* **Only the suggestion is timed:** ``ask()`` wall time is the peer's model fit plus
  acquisition optimization. scikit-optimize fits and optimizes inside ``tell``, so its
  adapter defers the library's ``tell`` into ``ask``.
* **Per-core:** the study runs with every BLAS/OpenMP pool limited to one thread
  (threadpoolctl) and ``torch.set_num_threads(1)``; all torch tensors are float64.

The peers are imported lazily, on a planner's first use, so ``ardlib`` imports without
them; a missing one raises :class:`ImportError` naming ``pip install -e .[peers]``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from .._rng import RNGLike, derive_seed
from .._validation import check_int
from ..objectives import Objective, get_problem
from ..planners import BayesianOptimization, Planner, Sobol

__all__ = [
    "PEERS",
    "BoTorchPlanner",
    "OptunaPlanner",
    "SkoptPlanner",
    "make_planner",
    "peer_versions",
    "per_core_threads",
    "run_peer_study",
]

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


class _PeerPlanner(Planner):
    """Shared plumbing: the Sobol' initial design, then the library's own suggestions.

    Subclasses implement :meth:`_setup_peer` (import and build the library's optimizer),
    :meth:`_peer_ask` (one model-based point, in the box) and may override
    :meth:`_peer_tell` (hand observations to the library).
    """

    library: str = ""

    def __init__(
        self, *, bounds: ArrayLike, rng: RNGLike = None, goal: str = "minimize", n_initial: int = 5
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.n_initial = n_initial

    def _validate_params(self) -> None:
        check_int(self.n_initial, "n_initial", owner=type(self).__name__, low=1)
        # Drawn first from rng, exactly as BayesianOptimization does: same seed, same points.
        self._init_X = Sobol(bounds=self.bounds_, rng=self.rng_).ask(self.n_initial)
        self.n_asked_ = 0
        self._peer_seed = int(self.rng_.integers(2**31 - 1))
        self._info: dict[str, Any] = {}
        self._setup_peer()

    def _ask(self, n: int) -> Array:
        out: list[Array] = []
        for _ in range(n):
            if self.n_asked_ < self.n_initial:
                out.append(self._init_X[self.n_asked_])
            else:
                out.append(np.asarray(self._peer_ask(), dtype=float).reshape(self.dim))
            self.n_asked_ += 1
        return np.asarray(out)

    def _tell(self, X: Array, y: Array) -> None:
        self._peer_tell(X, self._sign * y)

    def _setup_peer(self) -> None:
        raise NotImplementedError

    def _peer_ask(self) -> Array:
        raise NotImplementedError

    def _peer_tell(self, X: Array, y_min: Array) -> None:
        """Observations to minimize (NaN for failures); default: kept in ``X_``/``y_``."""

    @property
    def peer_info(self) -> dict[str, Any]:
        """Library, version and the settings the adapter uses (for the study record)."""
        self._ensure_setup()
        return {"library": self.library, "version": _version(self.library), **self._info}


class BoTorchPlanner(_PeerPlanner):
    """BoTorch's standard loop: ``SingleTaskGP`` + ``LogExpectedImprovement`` + ``optimize_acqf``.

    Inputs are scaled to the unit cube and outcomes standardized (``Standardize``); the GP
    has BoTorch's default kernel, priors and inferred noise, fitted by ``fit_gpytorch_mll``;
    the acquisition's incumbent is the best observation. Each ask refits from scratch, as
    in BoTorch's tutorials. All tensors are float64; torch's random state is forked and
    seeded from ``rng`` for each ask, so the caller's global state is untouched.

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
        name = type(self).__name__
        check_int(self.num_restarts, "num_restarts", owner=name, low=1)
        check_int(self.raw_samples, "raw_samples", owner=name, low=1)
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
            "optimizer": f"optimize_acqf(num_restarts={self.num_restarts}, "
            f"raw_samples={self.raw_samples})",
            "dtype": "float64",
        }

    def _peer_ask(self) -> Array:
        torch, bt = self._torch, self._botorch
        SingleTaskGP = bt["botorch.models"].SingleTaskGP
        Standardize = bt["botorch.models.transforms.outcome"].Standardize
        LogEI = bt["botorch.acquisition"].LogExpectedImprovement
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        train_X = torch.as_tensor((self.X_ - lo) / (hi - lo), dtype=torch.float64)
        train_Y = torch.as_tensor(-self._sign * self.y_, dtype=torch.float64)[:, None]
        unit = torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]).to(torch.float64)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.rng_.integers(2**31 - 1)))
            model = SingleTaskGP(train_X, train_Y, outcome_transform=Standardize(m=1))
            mll = self._mlls.ExactMarginalLogLikelihood(model.likelihood, model)
            bt["botorch.fit"].fit_gpytorch_mll(mll)
            acqf = LogEI(model, best_f=train_Y.max())
            cand, _ = bt["botorch.optim"].optimize_acqf(
                acqf,
                bounds=unit,
                q=1,
                num_restarts=int(self.num_restarts),
                raw_samples=int(self.raw_samples),
            )
        u = cand.detach().numpy().reshape(self.dim)
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
        name = type(self).__name__
        check_int(self.n_points, "n_points", owner=name, low=1)
        check_int(self.n_restarts_optimizer, "n_restarts_optimizer", owner=name, low=1)
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
        with warnings.catch_warnings():
            # "The objective has been evaluated at point ... before": skopt then picks a
            # random point itself, which is its documented behaviour.
            warnings.filterwarnings("ignore", message="The objective has been evaluated")
            if self._pending:
                xs, ys = zip(*self._pending, strict=True)
                self._pending = []
                self._opt.tell(list(xs), list(ys))  # fits the GP and optimizes EI
            return np.asarray(self._opt.ask(), dtype=float)


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
        self._sampler_name = cls.__name__
        self._study = optuna.create_study(
            direction="minimize", sampler=cls(seed=self._peer_seed, n_startup_trials=n0)
        )
        self._dists = {
            f"x{i}": optuna.distributions.FloatDistribution(float(lo), float(hi))
            for i, (lo, hi) in enumerate(self.bounds_)
        }
        self._trial: Any = None
        self._info = {"sampler": f"{cls.__name__}(n_startup_trials={n0})"}

    def _peer_ask(self) -> Array:
        self._trial = self._study.ask(self._dists)
        return np.array([self._trial.params[k] for k in self._dists])

    def _peer_tell(self, X: Array, y_min: Array) -> None:
        optuna = self._optuna
        for x, v in zip(X, y_min, strict=True):
            state = optuna.trial.TrialState.COMPLETE if v == v else optuna.trial.TrialState.FAIL
            value = float(v) if v == v else None
            trial, self._trial = self._trial, None
            asked = [trial.params[k] for k in self._dists] if trial is not None else None
            if asked is not None and np.allclose(x, asked, rtol=0.0, atol=1e-12):
                self._study.tell(trial, value, state=state)
                continue
            if trial is not None:  # asked but told something else: close the asked trial
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
            params = {k: float(xi) for k, xi in zip(self._dists, x, strict=True)}
            self._study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=self._dists, value=value, state=state
                )
            )


def _ardlib(
    *, bounds: ArrayLike, rng: RNGLike = None, goal: str = "minimize", n_initial: int = 5
) -> Planner:
    return BayesianOptimization(bounds=bounds, rng=rng, goal=goal, n_initial=n_initial)


#: Planner factories by name; each takes ``bounds``, ``rng``, ``goal`` and ``n_initial``.
PEERS: dict[str, Callable[..., Planner]] = {
    "ardlib": _ardlib,
    "botorch": BoTorchPlanner,
    "skopt": SkoptPlanner,
    "optuna": OptunaPlanner,
}


def make_planner(
    name: str,
    *,
    bounds: ArrayLike,
    rng: RNGLike = None,
    goal: str = "minimize",
    n_initial: int = 5,
    **options: Any,
) -> Planner:
    """A fresh planner of :data:`PEERS` by name (``"ardlib"`` is the default GP-BO).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`PEERS`.
    """
    if name not in PEERS:
        raise ValueError(
            f"The 'name' parameter of make_planner must be one of {sorted(PEERS)}. Got {name!r}."
        )
    return PEERS[name](bounds=bounds, rng=rng, goal=goal, n_initial=n_initial, **options)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def peer_versions() -> dict[str, str | None]:
    """Installed versions of ardlib, the peers and the numeric stack (None if missing)."""
    names = (
        "ardlib", "numpy", "scipy", "torch", "gpytorch", "botorch",
        "scikit-optimize", "scikit-learn", "optuna",
    )  # fmt: skip
    return {n: _version(n) for n in names}


@contextlib.contextmanager
def per_core_threads() -> Iterator[dict[str, Any]]:
    """Limit BLAS/OpenMP pools and torch to one thread for the duration; yields the settings.

    Torch is configured only when it is installed (its intra-op thread count is restored on
    exit); ardlib's planners already run their linear algebra single-threaded.
    """
    settings: dict[str, Any] = {"blas_openmp_threads": 1, "torch_threads": None}
    with threadpool_limits(limits=1):
        torch = importlib.import_module("torch") if importlib.util.find_spec("torch") else None
        before = torch.get_num_threads() if torch is not None else None
        try:
            if torch is not None:
                torch.set_num_threads(1)
                settings["torch_threads"] = torch.get_num_threads()
            yield settings
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)


def _as_problems(problems: Sequence[str | Objective]) -> list[tuple[str, Objective]]:
    out = []
    for p in problems:
        if isinstance(p, str):
            out.append((p, get_problem(p)))
        elif isinstance(p, Objective):
            out.append((p.name or type(p).__name__, p))
        else:
            raise TypeError(
                "The 'problems' parameter of run_peer_study must hold registry names or "
                f"Objective instances. Got {type(p).__name__}."
            )
    return out


def _campaign(
    problem: Objective, planner: Planner, budget: int, seen: dict[str, int]
) -> pd.DataFrame:
    """Ask/evaluate/tell one point at a time; one row per step.

    Columns ``step``, ``x``, ``y_true``, ``ask_ms`` (wall), ``ask_cpu_ms`` (process CPU)
    and ``warnings``: warnings raised inside ``ask`` (e.g. BoTorch's "optimization failed,
    trying again") are recorded, not shown, counted per ask and per distinct first line
    in ``seen``.
    """
    cols: dict[str, list[Any]] = {k: [] for k in ("x", "y_true", "ask_ms", "ask_cpu_ms")}
    cols["warnings"] = []
    for _ in range(budget):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            c0, t0 = time.process_time(), time.perf_counter()
            X = planner.ask(1)
            t1, c1 = time.perf_counter(), time.process_time()
        for w in caught:
            key = f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
            seen[key] = seen.get(key, 0) + 1
        y = problem.evaluate_true(X)
        planner.tell(X, y)
        for key, val in zip(
            cols, (X[0].tolist(), float(y[0]), (t1 - t0) * 1e3, (c1 - c0) * 1e3, len(caught)),
            strict=True,
        ):  # fmt: skip
            cols[key].append(val)
    return pd.DataFrame({"step": np.arange(budget), **cols})


def run_peer_study(
    problems: Sequence[str | Objective],
    planners: Sequence[str] | Mapping[str, Callable[..., Planner]],
    *,
    budget: int,
    n_initial: int = 5,
    seeds: Sequence[int],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run every planner on every problem for every seed, noiseless, one point per step.

    For each (problem, seed) every planner gets ``rng = derive_seed(seed, problem,
    "planner")``, hence the same Sobol' initial design (checked), and the planners run in
    turn so that slow drifts of the machine's load hit them alike. Everything runs inside
    :func:`per_core_threads`.

    Parameters
    ----------
    problems : sequence of str or Objective
        Registry names (e.g. ``"branin"``, ``"emulator:suzuki"``) or problems.
    planners : sequence of str or mapping of name to factory
        Names from :data:`PEERS`, or factories called with ``bounds``, ``rng``, ``goal``,
        ``n_initial`` (and ``options[name]``).
    budget : int
        Evaluations per campaign, ``> n_initial``.
    n_initial : int, default 5
        Size of the shared initial design.
    seeds : sequence of int
        Replicates (non-negative).
    options : mapping, optional
        Extra constructor keywords per planner name.
    progress : callable, optional
        Called with one line of text after each campaign.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``problem``, ``planner``, ``seed``, ``step`` (0-based, also
        the number of observations the ask was conditioned on), ``phase`` (``"initial"`` or
        ``"model"``), ``x`` (list of d floats), ``y_true``, ``regret`` (true regret of the
        best point evaluated so far; NaN without a known optimum), ``ask_ms`` (wall time
        of that ``ask()``), ``ask_cpu_ms`` (process CPU time of that ``ask()``: the same on
        an idle machine with one thread, and not inflated by other load) and ``warnings``
        (warnings raised inside it, recorded instead of shown). ``attrs["planners"]``
        describes each planner, ``attrs["threads"]`` the thread settings,
        ``attrs["warnings"]`` counts each planner's distinct warnings.

    Raises
    ------
    RuntimeError
        If two planners of one (problem, seed) asked different initial designs.
    """
    budget = check_int(budget, "budget", owner="run_peer_study", low=2)
    n_initial = check_int(n_initial, "n_initial", owner="run_peer_study", low=1, high=budget - 1)
    factories = dict(planners) if isinstance(planners, Mapping) else {p: PEERS[p] for p in planners}
    opts = {k: dict(v) for k, v in (options or {}).items()}
    rows: list[pd.DataFrame] = []
    info: dict[str, Any] = {}
    caught: dict[str, dict[str, int]] = {}
    with per_core_threads() as threads:
        for pname, problem in _as_problems(problems):
            for seed in seeds:
                rng = derive_seed(int(seed), pname, "planner")
                design: list[Any] | None = None
                for name, factory in factories.items():
                    t0 = time.perf_counter()
                    planner = factory(
                        bounds=problem.bounds.copy(), rng=rng, goal=problem.goal,
                        n_initial=n_initial, **opts.get(name, {}),
                    )  # fmt: skip
                    trace = _campaign(problem, planner, budget, caught.setdefault(name, {}))
                    initial = trace["x"].iloc[:n_initial].tolist()
                    if design is not None and initial != design:
                        raise RuntimeError(
                            f"{name} asked a different initial design than the first planner "
                            f"on {pname} (seed {seed}); the comparison would not be paired."
                        )
                    design = initial
                    info.setdefault(name, _describe(planner))
                    rows.append(_label(trace, problem, pname, name, int(seed), n_initial))
                    if progress is not None:
                        progress(_progress_line(rows[-1], time.perf_counter() - t0))
    df = pd.concat(rows, ignore_index=True)
    df.attrs["planners"] = info
    df.attrs["threads"] = threads
    df.attrs["warnings"] = caught
    return df


def _describe(planner: Planner) -> dict[str, Any]:
    if isinstance(planner, _PeerPlanner):
        return planner.peer_info
    return {"library": "ardlib", "version": _version("ardlib"), "planner": repr(planner)}


def _label(
    trace: pd.DataFrame, problem: Objective, pname: str, planner: str, seed: int, n_initial: int
) -> pd.DataFrame:
    """The campaign's rows with their cell, phase and best-so-far regret."""
    ys = trace["y_true"].to_numpy(float)
    sign = 1.0 if problem.goal == "minimize" else -1.0
    best = sign * np.minimum.accumulate(sign * ys)
    known = problem.optimal_value is not None
    regret = np.asarray(problem.regret(best), float) if known else np.full(ys.size, np.nan)
    steps = trace["step"].to_numpy()
    head = pd.DataFrame({"problem": pname, "planner": planner, "seed": seed, "step": steps})
    head["phase"] = np.where(steps < n_initial, "initial", "model")
    out = pd.concat([head, trace.drop(columns="step")], axis=1)
    out.insert(list(out.columns).index("y_true") + 1, "regret", regret)
    return out


def _progress_line(rows: pd.DataFrame, seconds: float) -> str:
    first = rows.iloc[0]
    model = rows.loc[rows["phase"] == "model", "ask_ms"]
    return (
        f"{first['problem']:<18} seed {first['seed']:<3} {first['planner']:<8} final regret "
        f"{rows['regret'].iloc[-1]:.3g}  median ask {model.median():.1f} ms  ({seconds:.1f} s)"
    )
