"""``seed_demo``: fill a database with real campaigns, so the dashboard shows real data.

Each (problem, planner) pair is one :func:`ardlib.study.run_campaign` under lab-like noise
(Gaussian measurement noise plus 5% failed experiments), all planners of a problem sharing
the cell seed (common random numbers, as in a study).  Every evaluation becomes an
``experiments`` row (the point, observed and true values, failed ones marked failed), every
campaign an ``optimization_runs`` row with its best value and best-so-far trace, and the
reasoning engine answers a few queries about the campaigns (``ai_queries`` rows).

Values depend only on ``rng``; the timeline is anchored at ``now`` (default: the current
time), so pass ``now`` too for identical databases.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete

from .._rng import derive_seed
from ..objectives import Compose, FailureModel, GaussianNoise, Objective, get_problem
from ..study import Campaign, PlannerSpec, run_campaign
from . import _tables as t
from ._db import Database
from ._reasoning import final_answer, parse_context
from ._settings import Settings

__all__ = ["DEMO_USER", "SeedReport", "seed_demo"]

logger = logging.getLogger("ardlib.service")

DEMO_USER = "ardlib-seed-demo"
# (registry name, budget, measurement noise sd in the objective's units; None: the lab's own)
DEMO_PROBLEMS: tuple[tuple[str, int, float | None], ...] = (
    ("branin", 40, 0.1),
    ("hartmann3", 40, 0.05),
    ("emulator:suzuki", 30, None),
)
# (preset, class, API method name)
DEMO_PLANNERS: tuple[tuple[str, str, str], ...] = (
    ("random", "ardlib.planners.RandomSearch", "random_search"),
    ("sobol", "ardlib.planners.Sobol", "sobol"),
    ("gpbo", "ardlib.planners.BayesianOptimization", "bayesian_optimization"),
)
FAILURE_PROB = 0.05


@dataclass(frozen=True)
class SeedReport:
    """What :func:`seed_demo` wrote.

    Attributes
    ----------
    n_runs, n_experiments, n_ai_queries : int
    problems : tuple of str
        Problems that were run.
    skipped : tuple of str
        Problems that could not be built here (an emulator without its lab data), with why.
    seconds : float
    """

    n_runs: int
    n_experiments: int
    n_ai_queries: int
    problems: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float


def _names(problem: Objective) -> list[str]:
    dataset = getattr(problem, "dataset", None)
    names = getattr(dataset, "parameter_names", None)
    if names is not None and len(names) == problem.dim:
        return [str(n) for n in names]
    return [f"x{i + 1}" for i in range(problem.dim)]


def _opt(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _convergence(results: pd.DataFrame, goal: str) -> list[dict[str, Any]]:
    """Best-so-far per evaluation: observed (successes only), true, and true regret."""
    sign = 1.0 if goal == "minimize" else -1.0
    obs = np.where(results["failed"].to_numpy(), np.inf, sign * results["y_obs"].to_numpy())
    best_obs = sign * np.minimum.accumulate(obs)
    return [
        {
            "step": int(step) + 1,
            "best_observed": _opt(b),
            "best_true": _opt(bt),
            "regret": _opt(r),
        }
        for step, b, bt, r in zip(
            results["step"],
            best_obs,
            results["y_true_oracle"],
            results["regret_oracle"],
            strict=True,
        )
    ]


@dataclass
class _Cell:
    problem: Objective
    name: str
    budget: int
    noise_sd: float
    seed: int


def _cells(
    problems: Sequence[tuple[str, int, float | None]], rng: int
) -> tuple[list[_Cell], list[str]]:
    cells, skipped = [], []
    for name, budget, sd in problems:
        try:
            problem = get_problem(name)
        except (OSError, ValueError, RuntimeError) as exc:
            logger.warning("seed-demo: skipping %s: %s", name, exc)
            skipped.append(f"{name}: {exc}")
            continue
        noise_sd = float(sd if sd is not None else getattr(problem, "noise_sd", 0.0))
        cells.append(_Cell(problem, name, budget, noise_sd, derive_seed(rng, "seed-demo", name)))
    return cells, skipped


def _timeline(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and durations in minutes: 15-45 min experiments, 2-10 min apart."""
    g = np.random.default_rng(seed)
    durations = np.round(g.uniform(15.0, 45.0, n) * 60.0) / 60.0  # whole seconds
    gaps = np.round(g.uniform(2.0, 10.0, n) * 60.0) / 60.0
    starts = np.concatenate([[0.0], np.cumsum(durations + gaps)[:-1]])
    return starts, durations


def _columns(res: pd.DataFrame) -> dict[str, np.ndarray]:
    """The campaign table as numpy arrays (points stacked to shape (n, d))."""
    cols = {k: res[k].to_numpy() for k in res.columns if k not in ("x", "x_rec", "fail_reason")}
    cols["x"] = np.vstack(list(res["x"])).astype(float)
    cols["x_rec"] = np.vstack(list(res["x_rec"])).astype(float)
    cols["fail_reason"] = np.array([str(r) for r in res["fail_reason"]], dtype=object)
    return cols


def _run_rows(
    cell: _Cell, preset: str, cls: str, method: str, campaign: Campaign, t0: datetime
) -> tuple[t.OptimizationRun, list[t.Experiment]]:
    problem, c = cell.problem, _columns(campaign.results)
    names = _names(problem)
    n = len(c["step"])
    starts, durations = _timeline(derive_seed(cell.seed, "timeline", preset), n)
    when = [t0 + timedelta(minutes=float(s)) for s in starts]
    ends = [w + timedelta(minutes=float(d)) for w, d in zip(when, durations, strict=True)]
    failed = c["failed"].astype(bool)
    y_obs = c["y_obs"].astype(float)
    sign = 1.0 if problem.goal == "minimize" else -1.0
    ok = np.flatnonzero(~failed)
    best = int(ok[np.argmin(sign * y_obs[ok])]) if ok.size else None
    noise = Compose(GaussianNoise(sd=cell.noise_sd), FailureModel(prob=FAILURE_PROB))

    def named(x: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(names, x, strict=True)}

    run = t.OptimizationRun(
        name=f"{cell.name} / {preset}",
        method=method,
        objective=cell.name,
        goal=problem.goal,
        parameter_space={"bounds": problem.bounds.tolist(), "names": names},
        config={
            "planner": preset,
            "planner_class": cls,
            "noise": noise.spec(),
            "seed": campaign.seed,
            "budget": cell.budget,
        },
        status="completed",
        budget=cell.budget,
        best_value=None if best is None else float(y_obs[best]),
        best_parameters=None if best is None else named(c["x"][best]),
        results={
            "convergence": _convergence(campaign.results, problem.goal),
            "optimal_value": problem.optimal_value,
            "final_regret": _opt(float(c["regret_rec"][-1])),
            "best_found_regret": _opt(float(c["regret_oracle"][-1])),
            "recommended": {
                "parameters": named(c["x_rec"][-1]),
                "true_value": _opt(float(c["y_true_rec"][-1])),
            },
            "n_experiments": n,
            "n_failed": int(failed.sum()),
        },
        start_time=when[0],
        end_time=ends[-1],
        created_by=DEMO_USER,
        created_at=when[0],
    )
    experiments = [
        t.Experiment(
            method=method,
            parameters=named(c["x"][i]),
            context={"problem": cell.name, "planner": preset, "step": i, "seed": campaign.seed},
            noise_estimate=cell.noise_sd,
            results={
                "observed": None if failed[i] else float(y_obs[i]),
                "true_value": float(c["y_true"][i]),
                "regret": _opt(float(c["regret_eval"][i])),
            },
            status="failed" if failed[i] else "completed",
            start_time=when[i],
            end_time=ends[i],
            error_message=str(c["fail_reason"][i]) if failed[i] else None,
            created_by=DEMO_USER,
            created_at=ends[i],
        )
        for i in range(n)
    ]
    return run, experiments


def _queries(
    cells: list[_Cell], campaigns: dict[str, Campaign], t_end: datetime
) -> list[t.AIQuery]:
    """Ask the reasoning engine about the first 12 GP-BO evaluations of each problem."""
    out = []
    asks: list[tuple[str, dict[str, Any] | None]] = [("What should we measure next?", None)]
    for cell in cells:
        res = campaigns[cell.name].results.iloc[:12]
        context: dict[str, Any] | None = {
            "parameter_space": {
                "bounds": cell.problem.bounds.tolist(),
                "names": _names(cell.problem),
            },
            "observations": {
                "X": [list(map(float, x)) for x in res["x"]],
                "y": [
                    None if f else float(y)
                    for f, y in zip(res["failed"], res["y_obs"], strict=True)
                ],
            },
            "goal": cell.problem.goal,
            "seed": 0,
        }
        asks.append((f"Which {cell.name} experiment should run next?", context))
    for k, (query, context) in enumerate(asks):
        started = time.perf_counter()
        answer = final_answer(parse_context(context))
        latency = (time.perf_counter() - started) * 1000.0
        out.append(
            t.AIQuery(
                query=query,
                context=context,
                selected_model=answer.model,
                latency_ms=latency,
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                trace_id=f"seed-demo-{k}",
                created_by=DEMO_USER,
                created_at=t_end - timedelta(minutes=5 * (len(asks) - k)),
            )
        )
    return out


def seed_demo(
    database_url: str | None = None,
    *,
    rng: int = 0,
    now: datetime | None = None,
    replace: bool = True,
    problems: Sequence[tuple[str, int, float | None]] = DEMO_PROBLEMS,
) -> SeedReport:
    """Fill a database with campaigns really run by ardlib's planners.

    Parameters
    ----------
    database_url : str, optional
        Default: ``Settings.from_env().database_url`` (``DATABASE_URL`` or the SQLite file).
    rng : int, default 0
        Seed of every campaign, noise stream and timeline.
    now : datetime, optional
        Timezone-aware end of the timeline (the last experiment ends shortly before it);
        default the current time.
    replace : bool, default True
        Delete earlier seed-demo rows (``created_by == "ardlib-seed-demo"``) first.
    problems : sequence of (name, budget, noise_sd or None)
        Default: Branin and Hartmann-3 (40 evaluations) and the Suzuki emulator (30;
        skipped when its lab data is missing).

    Returns
    -------
    SeedReport

    Raises
    ------
    ValueError
        If ``rng`` is not an int >= 0 or ``now`` is not timezone-aware.
    """
    started = time.perf_counter()
    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise ValueError(f"The 'rng' parameter of seed_demo must be an int >= 0. Got {rng!r}.")
    now = now if now is not None else t.utcnow()
    if now.tzinfo is None:
        raise ValueError(f"The 'now' parameter of seed_demo must be timezone-aware. Got {now!r}.")
    db = Database(database_url or Settings.from_env().database_url)
    try:
        db.create_schema()
        cells, skipped = _cells(problems, rng)
        runs, experiments, gpbo = _campaign_rows(cells, now)
        queries = _queries(cells, gpbo, now)
        with db.writing() as session:
            if replace:
                for table in (t.Experiment, t.OptimizationRun, t.AIQuery):
                    session.execute(delete(table).where(table.created_by == DEMO_USER))
            for run, exps in zip(runs, experiments, strict=True):
                session.add(run)
                session.flush()
                for e in exps:
                    e.optimization_run_id = run.id
                session.add_all(exps)
            session.add_all(queries)
    finally:
        db.dispose()
    return SeedReport(
        n_runs=len(runs),
        n_experiments=sum(map(len, experiments)),
        n_ai_queries=len(queries),
        problems=tuple(c.name for c in cells),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )


def _block_minutes(cell: _Cell) -> float:
    """Length of a problem's block: its slowest planner's timeline."""
    ends = []
    for preset, _cls, _method in DEMO_PLANNERS:
        starts, durations = _timeline(derive_seed(cell.seed, "timeline", preset), cell.budget)
        ends.append(float(starts[-1] + durations[-1]))
    return max(ends)


def _campaign_rows(
    cells: list[_Cell], now: datetime
) -> tuple[list[t.OptimizationRun], list[list[t.Experiment]], dict[str, Campaign]]:
    """Run every campaign; problems one after another (2 h apart), planners side by side,
    the last experiment ending 15 minutes before ``now``."""
    gap = timedelta(hours=2)
    blocks = [timedelta(minutes=_block_minutes(c)) for c in cells]
    t0 = now - timedelta(minutes=15) - sum(blocks, timedelta()) - gap * max(len(cells) - 1, 0)
    runs, experiments, gpbo = [], [], {}
    for cell, block in zip(cells, blocks, strict=True):
        noise = Compose(GaussianNoise(sd=cell.noise_sd), FailureModel(prob=FAILURE_PROB))
        for preset, cls, method in DEMO_PLANNERS:
            campaign = run_campaign(
                cell.problem, PlannerSpec(preset, cls, {}), cell.budget, noise, rng=cell.seed
            )
            run, exps = _run_rows(cell, preset, cls, method, campaign, t0)
            runs.append(run)
            experiments.append(exps)
            if preset == "gpbo":
                gpbo[cell.name] = campaign
        t0 += block + gap
    return runs, experiments, gpbo
