"""Side-by-side study: ardlib's GP-BO against BoTorch, scikit-optimize and Optuna.

Runs :func:`ardlib.bench._peers.run_peer_study` (same budget, same Sobol' initial design
per seed, same seeds, noiseless objectives, one thread per planner: BLAS/OpenMP pools and
torch limited to one thread, torch in float64) and writes

* ``<out>.parquet``: one row per evaluation (problem, planner, seed, step, regret of the
  best point so far, ask wall and CPU time in ms, warnings raised inside the ask);
* ``<out>.json``: versions, machine, settings, runtime and the summary per problem and
  peer (:func:`ardlib.bench._peer_summary.summarize_peers`): median ask-time ratio
  ardlib/peer at n <= 100 with a bootstrap CI (wall time, and process CPU time, which
  other load on a shared machine does not inflate), final-regret difference ardlib - peer with
  a bootstrap CI, paired Wilcoxon p-value.

The issue's target: ardlib >= 10x faster per suggestion than BoTorch's SingleTaskGP +
LogEI at n <= 100, with final regret not significantly worse.

Usage::

    python scripts/run_peers.py --smoke
    nice -n 10 python scripts/run_peers.py --seeds 10 --budget 40
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from ardlib.bench import machine_info
from ardlib.bench._peer_summary import summarize_peers
from ardlib.bench._peers import peer_versions, run_peer_study

PROBLEMS = ("branin", "hartmann6", "emulator:suzuki")
PLANNERS = ("ardlib", "botorch", "skopt", "optuna")
FAIRNESS = (
    "Same budget, same n_initial scrambled Sobol' points per (problem, seed) for every "
    "planner (checked equal), same seeds, noiseless objectives, minimization (maximized "
    "problems negated). Only ask() is timed: model fit + acquisition optimization "
    "(skopt's fitting tell is deferred into ask). Per-core: BLAS/OpenMP pools limited to "
    "1 thread (threadpoolctl), torch.set_num_threads(1), torch tensors float64; planners "
    "of one seed run back to back on one process."
)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_summary(summary: Any) -> None:
    print(
        f"{'problem':<17}{'peer':<8}{'ms ardlib':>10}{'ms peer':>9}{'speedup [CI]':>22}"
        f"{'regret diff [CI]':>34}{'p':>8}"
    )
    for r in summary.itertuples():
        print(
            f"{r.problem:<17}{r.peer:<8}{r.ask_ms_ref:>10.1f}{r.ask_ms_peer:>9.1f}"
            f"{r.speedup:>9.1f} [{r.speedup_low:5.1f}, {r.speedup_high:5.1f}]"
            f"{r.regret_diff:>12.3g} [{r.regret_diff_low:9.3g}, {r.regret_diff_high:9.3g}]"
            f"{r.p_value:>8.3f}"
        )


def main() -> None:
    """Run the study, print progress and the summary, write parquet + JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--planners", nargs="+", default=list(PLANNERS))
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--n-initial", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=10, help="replicates 0 .. seeds-1")
    ap.add_argument("--max-n", type=int, default=100, help="largest n of a timed ask")
    ap.add_argument("--out", default="data/benchmarks/peers", help="path without suffix")
    ap.add_argument("--smoke", action="store_true", help="branin, 2 seeds, budget 10")
    args = ap.parse_args()
    if args.smoke:
        args.problems, args.seeds, args.budget = ["branin"], 2, 10
        args.out = args.out + "_smoke"

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seeds))
    print(f"peer study: {args.problems} x {args.planners} x {len(seeds)} seeds, "
          f"budget {args.budget} ({args.n_initial} initial)")  # fmt: skip
    print(f"fairness: {FAIRNESS}")
    t0 = time.perf_counter()
    results = run_peer_study(
        args.problems,
        args.planners,
        budget=args.budget,
        n_initial=args.n_initial,
        seeds=seeds,
        progress=lambda line: print(f"[{time.perf_counter() - t0:7.1f} s] {line}", flush=True),
    )
    runtime = time.perf_counter() - t0
    summary = summarize_peers(results, reference="ardlib", max_n=args.max_n, rng=0)
    summary_cpu = summarize_peers(
        results, reference="ardlib", max_n=args.max_n, time_column="ask_cpu_ms", rng=0
    )
    rows, rows_cpu = (t.to_dict(orient="records") for t in (summary, summary_cpu))
    results.to_parquet(out.with_suffix(".parquet"), index=False)
    record = {
        "description": __doc__.splitlines()[0],
        "versions": peer_versions(),
        "machine": machine_info(),  # load_average: at the end of the run
        "threads": results.attrs["threads"],
        "fairness": FAIRNESS,
        "settings": {
            "problems": args.problems,
            "planners": args.planners,
            "budget": args.budget,
            "n_initial": args.n_initial,
            "seeds": seeds,
            "max_n": args.max_n,
            "seed_rule": "planner rng = derive_seed(seed, problem, 'planner'), same for all",
        },
        "planners": results.attrs["planners"],
        "warnings_in_ask": {
            "asks_with_warnings": {
                str(k): int(v)
                for k, v in (results["warnings"] > 0).groupby(results["planner"]).sum().items()
            },
            "asks": {str(k): int(v) for k, v in results.groupby("planner").size().items()},
            "distinct": results.attrs["warnings"],
        },
        "runtime_seconds": runtime,
        "results_file": str(out.with_suffix(".parquet")),
        "summary": rows,
        "summary_cpu_time": rows_cpu,
        "target": {
            "statement": "ardlib >= 10x faster per suggestion than botorch at n <= 100, final "
            "regret not significantly worse (two-sided paired Wilcoxon, 5 %)",
            "per_problem": {
                r["problem"]: {
                    "speedup_wall": r["speedup"],
                    "speedup_wall_ci": [r["speedup_low"], r["speedup_high"]],
                    "speedup_cpu": c["speedup"],
                    "speedup_cpu_ci": [c["speedup_low"], c["speedup_high"]],
                    "faster_10x": r["speedup"] >= 10,
                    "faster_10x_whole_ci": r["speedup_low"] >= 10,
                    "regret_diff": r["regret_diff"],
                    "regret_diff_ci": [r["regret_diff_low"], r["regret_diff_high"]],
                    "p_value": r["p_value"],
                    "not_significantly_worse": not r["worse"],
                }
                for r, c in zip(rows, rows_cpu, strict=True)
                if r["peer"] == "botorch"
            },
        },
    }
    with open(out.with_suffix(".json"), "w") as fh:
        json.dump(_clean(record), fh, indent=2)
    print(f"\nruntime {runtime / 60:.1f} min; versions {record['versions']}")
    print(f"threads: {record['threads']} (per-core comparison)")
    print("wall time of ask():")
    _print_summary(summary)
    print("process CPU time of ask():")
    _print_summary(summary_cpu)
    print(f"wrote {out.with_suffix('.parquet')} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
