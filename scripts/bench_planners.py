"""Planner speed and sample-efficiency benchmark (a measurement, not a test).

Measures, on this machine:

1. ``ask()`` latency of :class:`ardlib.planners.BayesianOptimization` for d = 2 (Branin)
   and d = 6 (Hartmann-6) at n = 10, 50, 100, 200 observations. For each (d, n) and seed,
   a campaign state with ``n - 10`` observations is built, then 10 ask/tell rounds are
   timed, so the sample mixes warm-started fits with the periodic full refits exactly as
   a campaign does. Reported: median, 90th percentile and max over all timed asks.
2. Evaluations to reach true regret < 1e-3 on noiseless Branin from 5 initial Sobol'
   points, over ``--seeds`` seeds (budget ``--budget``; a run that never gets there is
   counted at ``budget + 1``, i.e. censored, never dropped).

Usage: ``python scripts/bench_planners.py [--seeds 30] [--reps 3] [--out FILE.json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from tqdm import tqdm

from ardlib.objectives import get_problem
from ardlib.planners import BayesianOptimization, Sobol

TARGETS = {"ask_ms_median_d6_n100": 40.0, "evals_median": 26, "evals_p95": 35}


def ask_latency(problem_name: str, n: int, seed: int) -> list[float]:
    """Seconds per ask() for the 10 asks that bring a campaign from n-10 to n points."""
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


def evals_to_target(seed: int, budget: int, target: float = 1e-3) -> int:
    """Evaluations until true regret < target on Branin (budget + 1 if never)."""
    prob = get_problem("branin")
    planner = BayesianOptimization(bounds=prob.bounds, rng=seed, n_initial=5)
    for t in range(budget):
        X = planner.ask()
        y = prob.evaluate_true(X)
        planner.tell(X, y)
        if prob.regret(y)[0] < target:
            return t + 1
    return budget + 1


def main() -> None:
    """Run both benchmarks, print a table and optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="Branin seeds (>= 30)")
    ap.add_argument("--reps", type=int, default=3, help="seeds per latency cell")
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--out", default=None, help="write results as JSON here")
    args = ap.parse_args()

    latency: dict[str, dict[str, float]] = {}
    cells = [
        (d, name, n) for d, name in ((2, "branin"), (6, "hartmann6")) for n in (10, 50, 100, 200)
    ]
    for d, name, n in tqdm(cells, desc="ask() latency"):
        ts = np.concatenate([ask_latency(name, n, seed) for seed in range(args.reps)]) * 1e3
        latency[f"d{d}_n{n}"] = {
            "median_ms": float(np.median(ts)),
            "p90_ms": float(np.percentile(ts, 90)),
            "max_ms": float(ts.max()),
            "samples": int(ts.size),
        }
    evals = np.array(
        [evals_to_target(s, args.budget) for s in tqdm(range(args.seeds), desc="Branin")]
    )
    result = {
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "ask_latency": latency,
        "branin_evals_to_1e-3": {
            "seeds": args.seeds,
            "median": float(np.median(evals)),
            "p95": float(np.percentile(evals, 95)),
            "never_reached": int(np.sum(evals > args.budget)),
            "all": evals.tolist(),
        },
        "targets": TARGETS,
    }
    print(f"{'cell':<10} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}")
    for key, v in latency.items():
        print(f"{key:<10} {v['median_ms']:>10.1f} {v['p90_ms']:>8.1f} {v['max_ms']:>8.1f}")
    b = result["branin_evals_to_1e-3"]
    print(
        f"Branin evals to regret<1e-3 over {args.seeds} seeds: median {b['median']:.1f}, "
        f"p95 {b['p95']:.1f}, never reached {b['never_reached']}"
    )
    print(f"targets: {TARGETS}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
