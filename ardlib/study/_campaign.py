"""Run one campaign: a planner against a problem under a noise model, step by step.

The planner and the noise model draw from separate streams derived from one *cell seed*:
``derive_seed(cell_seed, "planner")`` seeds a planner built from a spec, and the batch that
starts at evaluation ``t`` is measured with ``derive_seed(cell_seed, "noise", t)``.  The noise
therefore depends on the cell seed and the step only, never on the planner: two planners in
the same cell see the same noise draws (common random numbers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from .._rng import RNGLike, as_generator, derive_seed
from .._validation import check_int
from ..objectives._base import Objective
from ..objectives._noise_base import NoiseModel, Observation
from ..planners._base import NotReadyError, Planner
from ._specs import NoiseSpec, PlannerSpec, ProblemSpec
from ._tables import RESULT_FIELDS, TIMING_FIELDS, build_table, to_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Campaign", "cell_seed_from_rng", "run_campaign", "run_campaign_tables"]

_OWNER = "run_campaign"


@dataclass
class Campaign:
    """Outcome of :func:`run_campaign`.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per evaluation, deterministic columns only (given the seed, the same
        inputs give the same table): see :func:`run_campaign` for the columns.
    timings : pandas.DataFrame
        One row per batch: ``step`` (first evaluation of the batch), ``batch``, ``n``
        (batch size) and wall-clock ``ask_seconds``, ``observe_seconds``, ``tell_seconds``,
        ``recommend_seconds`` (:func:`time.perf_counter`).  Not deterministic.
    seed : int
        The cell seed every random stream of the campaign was derived from; pass it back as
        ``rng`` to repeat the campaign.
    problem : Objective
        The problem that was optimized.
    planner : Planner
        The planner, in its final state (told every observation).
    """

    results: pd.DataFrame
    timings: pd.DataFrame
    seed: int
    problem: Objective
    planner: Planner


class _Noiseless(NoiseModel):
    """Measurements equal the true values; nothing fails."""

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        return obs


def cell_seed_from_rng(rng: RNGLike) -> int:
    """The cell seed for ``rng``: an int is used as is; otherwise one draw in [0, 2**63)."""
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return check_int(int(rng), "rng", owner=_OWNER, low=0)
    return int(as_generator(rng).integers(2**63))


def _as_problem(problem: Objective | ProblemSpec | str) -> Objective:
    """The objective for an Objective, a ProblemSpec or a registry name."""
    if isinstance(problem, Objective):
        return problem
    if isinstance(problem, str):
        problem = ProblemSpec(problem)
    if isinstance(problem, ProblemSpec):
        return problem.build()
    raise TypeError(
        "The 'problem' parameter of run_campaign must be an Objective, a ProblemSpec or a "
        f"registry name. Got {type(problem).__name__}."
    )


def _as_planner(planner: Planner | PlannerSpec, problem: Objective, seed: int) -> Planner:
    """A fresh planner matching the problem: built from a spec, or a checked instance."""
    if isinstance(planner, PlannerSpec):
        rng = derive_seed(seed, "planner")
        return planner.build(bounds=problem.bounds.copy(), goal=problem.goal, rng=rng)
    if not isinstance(planner, Planner):
        raise TypeError(
            "The 'planner' parameter of run_campaign must be a Planner or a PlannerSpec. "
            f"Got {type(planner).__name__}."
        )
    if getattr(planner, "bounds_", None) is not None:
        raise ValueError(
            f"The 'planner' parameter of run_campaign must be a fresh planner; this "
            f"{type(planner).__name__} has already been used. Pass a new one or a PlannerSpec."
        )
    bounds = np.asarray(planner.bounds, dtype=float)
    if bounds.shape != problem.bounds.shape or not np.array_equal(bounds, problem.bounds):
        raise ValueError(
            f"The 'planner' parameter of run_campaign must search the problem's box "
            f"{problem.bounds.tolist()}. Got bounds {bounds.tolist()}."
        )
    if planner.goal != problem.goal:
        raise ValueError(
            f"The 'planner' parameter of run_campaign must have goal={problem.goal!r} like "
            f"the problem. Got goal={planner.goal!r}."
        )
    return planner


def _as_noise(noise: NoiseModel | NoiseSpec | None) -> NoiseModel:
    """The noise model to observe through (noise-free for None)."""
    if isinstance(noise, NoiseSpec):
        noise = noise.build()
    if noise is None:
        return _Noiseless()
    if not isinstance(noise, NoiseModel):
        raise TypeError(
            "The 'noise' parameter of run_campaign must be a NoiseModel, a NoiseSpec or None. "
            f"Got {type(noise).__name__}."
        )
    return noise


def _ask(planner: Planner, n: int, d: int) -> NDArray[np.float64]:
    """``planner.ask(n)``, checked to have shape (n, d)."""
    X = np.asarray(planner.ask(n), dtype=float)
    if X.shape != (n, d):
        raise ValueError(
            f"{type(planner).__name__}.ask({n}) must return an array of shape ({n}, {d}). "
            f"Got shape {X.shape}."
        )
    return X


def _recommend(planner: Planner, d: int) -> NDArray[np.float64]:
    """The recommendation of shape (d,), NaN-filled while the planner has no success."""
    try:
        return np.asarray(planner.recommend(), dtype=float).reshape(d)
    except NotReadyError:
        return np.full(d, np.nan)


def _measure(
    problem: Objective, noise: NoiseModel, X: NDArray[np.float64], t: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_], list[str | None], NDArray[np.float64]]:
    """Observe ``X`` (the batch starting at step ``t``): y_obs, failed, reasons, y_true."""
    n = X.shape[0]
    rng = np.random.default_rng(derive_seed(seed, "noise", t))
    obs = noise.observe(problem, X, step=np.arange(t, t + n), rng=rng)
    y = np.asarray(obs.y, dtype=float).reshape(n)
    failed = np.asarray(obs.failed, dtype=bool).reshape(n) | np.isnan(y)
    reasons: list[str | None] = [
        None if not f else (r if r is not None else "measurement returned NaN")
        for f, r in zip(failed, obs.reason, strict=True)
    ]
    y_true = np.asarray(obs.y_true, dtype=float).reshape(n)
    return np.where(failed, np.nan, y), failed, reasons, y_true


def _loop(
    problem: Objective, planner: Planner, noise: NoiseModel, budget: int, seed: int, batch: int
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Ask, measure, tell and recommend until ``budget`` evaluations; raw per-batch lists."""
    d = problem.dim
    rec: dict[str, list[Any]] = {k: [] for k in ("x", "y_obs", "failed", "reason", "y_true")}
    rec.update(x_rec=[], y_rec=[], n=[])
    tim: dict[str, list[Any]] = {f.name: [] for f in TIMING_FIELDS}
    t = b = 0
    while t < budget:
        n = min(batch, budget - t)
        t0 = time.perf_counter()
        X = _ask(planner, n, d)
        t1 = time.perf_counter()
        y_obs, failed, reasons, y_true = _measure(problem, noise, X, t, seed)
        t2 = time.perf_counter()
        planner.tell(X, y_obs)
        t3 = time.perf_counter()
        x_rec = _recommend(planner, d)
        t4 = time.perf_counter()
        ok = np.all(np.isfinite(x_rec))
        y_rec = float(problem.evaluate_true(x_rec[None])[0]) if ok else np.nan
        for key, val in zip(rec, (X, y_obs, failed, reasons, y_true, x_rec, y_rec, n), strict=True):
            rec[key].append(val)
        for key, val in zip(tim, (t, b, n, t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            tim[key].append(val)
        t, b = t + n, b + 1
    return rec, tim


def _regret(problem: Objective, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Goal-aware regret of true values; NaN when the optimum is unknown."""
    if problem.optimal_value is None:
        return np.full(values.shape, np.nan)
    return np.asarray(problem.regret(values), dtype=float)


def _results_table(problem: Objective, rec: dict[str, list[Any]]) -> pa.Table:
    """Per-evaluation table from the raw lists; oracle columns count successes only."""
    counts = np.asarray(rec["n"], dtype=np.int64)
    X, y_true = np.vstack(rec["x"]), np.concatenate(rec["y_true"])
    failed = np.concatenate(rec["failed"])
    sign = 1.0 if problem.goal == "minimize" else -1.0
    best = np.minimum.accumulate(np.where(failed, np.inf, sign * y_true))
    y_oracle = np.where(np.isfinite(best), sign * best, np.nan)
    y_rec = np.repeat(np.asarray(rec["y_rec"], dtype=float), counts)
    columns = {
        "step": np.arange(X.shape[0], dtype=np.int64),
        "batch": np.repeat(np.arange(counts.size, dtype=np.int64), counts),
        "x": X,
        "failed": failed,
        "fail_reason": [r for batch in rec["reason"] for r in batch],
        "y_obs": np.concatenate(rec["y_obs"]),
        "y_true": y_true,
        "regret_eval": _regret(problem, y_true),
        "y_true_oracle": y_oracle,
        "regret_oracle": _regret(problem, y_oracle),
        "x_rec": np.repeat(np.vstack(rec["x_rec"]), counts, axis=0),
        "y_true_rec": y_rec,
        "regret_rec": _regret(problem, y_rec),
    }
    return build_table(RESULT_FIELDS, columns)


def run_campaign_tables(
    problem: Objective,
    planner: Planner | PlannerSpec,
    budget: int,
    noise: NoiseModel | NoiseSpec | None,
    seed: int,
    batch_size: int,
) -> tuple[pa.Table, pa.Table, Planner]:
    """Arrow core of :func:`run_campaign` on validated input: (results, timings, planner)."""
    live = _as_planner(planner, problem, seed)
    rec, tim = _loop(problem, live, _as_noise(noise), budget, seed, batch_size)
    return _results_table(problem, rec), build_table(TIMING_FIELDS, tim), live


def run_campaign(
    problem: Objective | ProblemSpec | str,
    planner: Planner | PlannerSpec,
    budget: int,
    noise: NoiseModel | NoiseSpec | None = None,
    rng: RNGLike = None,
    *,
    batch_size: int = 1,
) -> Campaign:
    """Run one optimization campaign and score every step against the ground truth.

    Each round asks the planner for ``batch_size`` points (fewer in the last round),
    measures them through ``noise``, tells the planner the measured values (NaN for failed
    experiments) and asks for its recommendation, until ``budget`` evaluations are spent.

    Parameters
    ----------
    problem : Objective, ProblemSpec or str
        The problem; a name is built with ``ardlib.objectives.get_problem``.
    planner : Planner or PlannerSpec
        A fresh planner on the problem's bounds and goal (its own ``rng`` is kept), or a spec
        built here with ``rng=derive_seed(seed, "planner")``, the same for every planner
        given the same ``rng``.
    budget : int
        Number of evaluations, >= 1.
    noise : NoiseModel, NoiseSpec or None, default None
        Measurement noise and failures; None measures the true values.
    rng : None, int, SeedSequence or Generator
        The cell seed: an int is used as the seed itself (a study passes its derived cell
        seed); a Generator or SeedSequence gives one draw; None fresh entropy.  The seed used
        is returned as :attr:`Campaign.seed`.
    batch_size : int, default 1
        Points asked per round.  The noise of a round starting at evaluation ``t`` is drawn
        from ``derive_seed(seed, "noise", t)``.

    Returns
    -------
    Campaign
        ``results`` has one row per evaluation with columns ``step`` (0-based evaluation
        index), ``batch``, ``x`` (the evaluated point, list of d floats), ``failed``,
        ``fail_reason`` (missing on success), ``y_obs`` (measurement, NaN when failed),
        ``y_true`` (true value at ``x``), ``regret_eval`` (true regret at ``x``),
        ``y_true_oracle`` and ``regret_oracle`` (best true value, and its regret, among
        evaluations so far *whose measurement succeeded*; NaN before the first success),
        ``x_rec`` (the recommendation after the round, NaN-filled before any success),
        ``y_true_rec`` and ``regret_rec`` (true value and regret there).  Regret is
        goal-aware (``problem.regret``) and NaN when ``problem.optimal_value`` is None.

    Notes
    -----
    A failed experiment still has a known true value (``y_true``, ``regret_eval``), but
    the oracle columns ignore it: an experiment that failed tells the lab nothing, so it
    cannot be the best point the lab has found.
    """
    prob = _as_problem(problem)
    budget = check_int(budget, "budget", owner=_OWNER, low=1)
    batch_size = check_int(batch_size, "batch_size", owner=_OWNER, low=1)
    seed = cell_seed_from_rng(rng)
    results, timings, live = run_campaign_tables(prob, planner, budget, noise, seed, batch_size)
    return Campaign(to_frame(results), to_frame(timings), seed, prob, live)
