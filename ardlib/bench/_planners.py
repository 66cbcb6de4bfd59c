"""Planner speed and sample efficiency on this machine (a measurement, not a test).

1. ``ask()`` latency of :class:`~ardlib.planners.BayesianOptimization` on Branin (d = 2)
   and Hartmann-6 (d = 6) at n observations: for each (d, n) and seed, a campaign state
   with ``n - 10`` observations is built, then the asks that bring it to n are timed, so
   the sample mixes warm-started fits with the periodic full refits exactly as a campaign
   does.
2. Evaluations to reach a true regret below ``target`` on noiseless Branin from 5 initial
   Sobol' points; a run that never gets there within the budget counts as ``budget + 1``
   (censored, never dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._io import machine_info
from .._validation import check_int, check_real
from ..objectives import get_problem
from ..planners import BayesianOptimization, Sobol

__all__ = ["PlannerBenchmark", "planner_benchmark"]

# Problems whose ask() latency is measured, one per dimension.
_LATENCY_PROBLEMS = ("branin", "hartmann6")
_OWNER = "planner_benchmark"


@dataclass
class PlannerBenchmark:
    """Outcome of :func:`planner_benchmark`.

    Attributes
    ----------
    latency : DataFrame
        One row per (problem, n): ``cell`` (e.g. ``"d6_n100"``), ``problem``, ``d``,
        ``n``, ``median_ms``, ``p90_ms``, ``max_ms`` and ``samples`` (timed asks).
    evals : ndarray of shape (seeds,)
        Evaluations until the true regret on Branin fell below the target, per seed;
        ``budget + 1`` when it never did.
    settings : dict
        ``seeds``, ``reps``, ``budget``, ``sizes`` and ``target``.
    machine : dict
        :func:`ardlib.bench.machine_info` of the machine measured.
    """

    latency: pd.DataFrame
    evals: NDArray[np.int64]
    settings: dict[str, Any]
    machine: dict[str, Any]

    def evals_summary(self) -> dict[str, Any]:
        """Median, 95th percentile and censored count of :attr:`evals`.

        Returns
        -------
        dict
            ``seeds``, ``median``, ``p95``, ``never_reached`` and ``all`` (every seed).
        """
        return {
            "seeds": int(self.evals.size),
            "median": float(np.median(self.evals)),
            "p95": float(np.percentile(self.evals, 95)),
            "never_reached": int(np.sum(self.evals > self.settings["budget"])),
            "all": self.evals.tolist(),
        }

    def format(self) -> str:
        """The latency table and the Branin line, as ``ardlib bench planners`` prints them.

        Returns
        -------
        str
        """
        lines = [f"{'cell':<10} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}"]
        for r in self.latency.to_dict(orient="records"):
            lines.append(
                f"{r['cell']:<10} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} {r['max_ms']:>8.1f}"
            )
        b = self.evals_summary()
        lines.append(
            f"Branin evals to regret<{self.settings['target']:g} over {b['seeds']} seeds: "
            f"median {b['median']:.1f}, p95 {b['p95']:.1f}, never reached {b['never_reached']}"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record of the measurement.

        Returns
        -------
        dict
            ``machine``, ``settings``, ``ask_latency`` (cell -> ``median_ms``, ``p90_ms``,
            ``max_ms``, ``samples``) and ``branin_evals`` (:meth:`evals_summary`).
        """
        cols = ["median_ms", "p90_ms", "max_ms", "samples"]
        latency = self.latency.set_index("cell")[cols].to_dict(orient="index")
        return {
            "machine": self.machine,
            "settings": self.settings,
            "ask_latency": latency,
            "branin_evals": self.evals_summary(),
        }


def _ask_seconds(problem_name: str, n: int, seed: int) -> list[float]:
    """Seconds per ask() for the asks that bring a campaign from n - 10 to n points."""
    prob = get_problem(problem_name)
    planner = BayesianOptimization(bounds=prob.bounds, rng=seed)
    start = max(n - 10, planner.n_initial)
    X0 = Sobol(bounds=prob.bounds, rng=seed + 1000).ask(start)
    planner.ask(planner.n_initial)  # consume the initial design
    planner.tell(X0, prob.evaluate_true(X0))
    times = []
    while planner.n_observations < n:
        t0 = time.perf_counter()
        X = planner.ask()
        times.append(time.perf_counter() - t0)
        planner.tell(X, prob.evaluate_true(X))
    return times


def _evals_to_target(seed: int, budget: int, target: float) -> int:
    """Evaluations until true regret < target on Branin (budget + 1 if never)."""
    prob = get_problem("branin")
    planner = BayesianOptimization(bounds=prob.bounds, rng=seed, n_initial=5)
    for t in range(budget):
        X = planner.ask()
        planner.tell(X, y := prob.evaluate_true(X))
        if prob.regret(y)[0] < target:
            return t + 1
    return budget + 1


def planner_benchmark(
    *,
    seeds: int = 30,
    reps: int = 3,
    budget: int = 60,
    sizes: Sequence[int] = (10, 50, 100, 200),
    target: float = 1e-3,
    progress: Callable[[str], None] | None = None,
) -> PlannerBenchmark:
    """Time ``ask()`` of GP-BO by dimension and size, and count evaluations to a target.

    Parameters
    ----------
    seeds : int
        Branin campaigns, seeded ``0, ..., seeds - 1``.
    reps : int
        Campaigns per latency cell, seeded ``0, ..., reps - 1`` (their initial observations
        from :class:`~ardlib.planners.Sobol` seeded ``seed + 1000``).
    budget : int
        Evaluations per Branin campaign.
    sizes : sequence of int
        Observation counts n at which ``ask()`` is timed, each > 5 (the initial design).
    target : float
        True regret to reach on Branin, >= 0.
    progress : callable, optional
        Called with a line of text after each latency cell and each Branin campaign.

    Returns
    -------
    PlannerBenchmark

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).
    """
    seeds = check_int(seeds, "seeds", owner=_OWNER, low=1)
    reps = check_int(reps, "reps", owner=_OWNER, low=1)
    budget = check_int(budget, "budget", owner=_OWNER, low=1)
    ns = [check_int(n, "sizes", owner=_OWNER, low=6) for n in sizes]
    target = check_real(target, "target", owner=_OWNER, low=0)
    rows = []
    for name in _LATENCY_PROBLEMS:
        d = get_problem(name).dim
        for n in ns:
            ts = np.concatenate([_ask_seconds(name, n, seed) for seed in range(reps)]) * 1e3
            rows.append(
                {
                    "cell": f"d{d}_n{n}",
                    "problem": name,
                    "d": d,
                    "n": n,
                    "median_ms": float(np.median(ts)),
                    "p90_ms": float(np.percentile(ts, 90)),
                    "max_ms": float(ts.max()),
                    "samples": int(ts.size),
                }
            )
            if progress:
                progress(f"ask() latency d{d}_n{n}: median {rows[-1]['median_ms']:.1f} ms")
    evals = []
    for seed in range(seeds):
        evals.append(_evals_to_target(seed, budget, target))
        if progress:
            progress(f"Branin seed {seed + 1}/{seeds}: {evals[-1]} evaluations")
    settings = {"seeds": seeds, "reps": reps, "budget": budget, "sizes": ns, "target": target}
    return PlannerBenchmark(
        pd.DataFrame(rows), np.array(evals, dtype=np.int64), settings, machine_info()
    )
