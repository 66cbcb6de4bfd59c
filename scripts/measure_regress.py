"""Measure the study-regression detector: false positives on honest reruns, and power.

The detector is :func:`ardlib.regress.compare_regrets` (what ``ardlib regress check``
runs on every study group): two-sided Mann-Whitney U per (problem, noise, planner) group,
Holm-adjusted over all groups, a group *regressed* when ``p_holm < alpha`` and its median
regret rose; a check fails when any group regressed.

Design (small but meaningful, about 5-10 minutes on one core):

- a *pool* of replicates per group is run once: Branin and Hartmann-3, noise-free,
  random / Sobol / GP-BO, budget 30, ``--pool`` replicates each;
- an *honest rerun* is simulated by drawing, for every group, a baseline of
  ``--replicates`` runs and a rerun of ``--replicates`` *other* runs from the pool
  (disjoint subsets).  Every replicate has its own seed (a hash of the master seed,
  problem, noise and replicate index), so replicates are independent and identically
  distributed: two disjoint subsets are distributed exactly like a baseline and a rerun
  made with fresh master seeds.  Draws reuse the pool, so they are not independent of
  each other: the binomial standard errors printed understate the uncertainty somewhat;
- *power*: the rerun's GP-BO groups are drawn instead from a pool of a deliberately
  degraded GP-BO (other master seed), the random and Sobol groups as above.  Two
  degradations: a coarse acquisition optimizer (``n_raw=8, n_starts=1`` instead of 512
  candidates and 4 ascents) and no exploitation steps (``exploit_every=None``).

Writes ``data/benchmarks/regress_detector.json`` (settings, rates, effect sizes) and
prints the rates.  Run from the repository root::

    nice -n 10 .venv/bin/python scripts/measure_regress.py
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ardlib.regress import FAILING, compare_regrets
from ardlib.stats import a12
from ardlib.study import PlannerSpec, ProblemSpec, Study

ROOT = Path(__file__).resolve().parent.parent
BO = "ardlib.planners.BayesianOptimization"
HONEST: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("ardlib.planners.RandomSearch", {}),
    "sobol": ("ardlib.planners.Sobol", {}),
    "gpbo": (BO, {}),
}
DEGRADED: dict[str, dict[str, Any]] = {
    "coarse_acqopt": {"n_raw": 8, "n_starts": 1},
    "no_exploit": {"exploit_every": None},
}
COLUMNS = ["problem", "noise", "planner", "replicate", "step", "regret_rec"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", nargs="+", default=["branin", "hartmann3"])
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--replicates", type=int, default=20, help="per group, baseline and rerun")
    ap.add_argument("--pool", type=int, default=100, help="honest replicates run per group")
    ap.add_argument("--degraded-pool", type=int, default=50, help="degraded GP-BO runs/problem")
    ap.add_argument("--draws", type=int, default=2000, help="simulated reruns per measurement")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument(
        "--factors",
        type=float,
        nargs="*",
        default=[1.5, 2.0, 3.0, 5.0, 10.0],
        help="synthetic degradations: the rerun's GP-BO regrets multiplied by each factor",
    )
    ap.add_argument("--shift-draws", type=int, default=1000, help="reruns per factor")
    ap.add_argument("--seed", type=int, default=20261127, help="master seed of the pools")
    ap.add_argument("--store", help="keep the campaigns in this result store (default: temporary)")
    ap.add_argument("--out", default=str(ROOT / "data/benchmarks/regress_detector.json"))
    return ap


def _final(study: Study, store: Path) -> pd.DataFrame:
    """Final-step rows of every run of ``study`` (computed on one thread, in-process)."""
    with ThreadPoolExecutor(1) as pool:
        res = study.run(store, executor=pool, progress=False).results
    last = res[res["step"] == res["step"].max()]
    return last.loc[:, COLUMNS].reset_index(drop=True)


def run_pools(
    args: argparse.Namespace, store: Path
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The honest pool (every planner) and one degraded GP-BO pool per degradation."""
    t0 = time.perf_counter()
    honest: list[pd.DataFrame] = []
    degraded: dict[str, list[pd.DataFrame]] = {}
    jobs: list[tuple[str, str, PlannerSpec, int, int]] = []
    for prob in args.problems:
        for name, (cls, params) in HONEST.items():
            jobs.append(("honest", prob, PlannerSpec(name, cls, params), args.pool, args.seed))
        for k, (variant, changes) in enumerate(DEGRADED.items(), start=1):
            spec = PlannerSpec("gpbo", BO, changes)
            jobs.append((variant, prob, spec, args.degraded_pool, args.seed + k))
    for i, (pool, prob, spec, n, seed) in enumerate(jobs, start=1):
        study = Study([ProblemSpec(prob)], [spec], [None], n, args.budget, seed)
        final = _final(study, store)
        if pool == "honest":
            honest.append(final)
        else:
            degraded.setdefault(pool, []).append(final)
        label = f"{pool}/{prob}/{spec.name}"
        print(f"[{i}/{len(jobs)}] {label}: {n} runs, {time.perf_counter() - t0:.0f}s", flush=True)
    return pd.concat(honest, ignore_index=True), {
        k: pd.concat(v, ignore_index=True) for k, v in degraded.items()
    }


Key = tuple[str, str, str]


def _pools(df: pd.DataFrame) -> dict[Key, np.ndarray]:
    """Final regrets by (problem, noise, planner)."""
    return {
        (str(k[0]), str(k[1]), str(k[2])): g["regret_rec"].to_numpy(dtype=float)
        for k, g in df.groupby(["problem", "noise", "planner"], sort=True)
    }


def _frame(samples: dict[Key, np.ndarray], budget: int) -> pd.DataFrame:
    """A final-step results table holding ``samples``."""
    sizes = [v.size for v in samples.values()]
    return pd.DataFrame(
        {
            "problem": np.repeat([k[0] for k in samples], sizes),
            "noise": np.repeat([k[1] for k in samples], sizes),
            "planner": np.repeat([k[2] for k in samples], sizes),
            "replicate": np.concatenate([np.arange(n) for n in sizes]),
            "step": budget - 1,
            "regret_rec": np.concatenate(list(samples.values())),
        }
    )


def simulate(
    honest: dict[Key, np.ndarray],
    args: argparse.Namespace,
    rng: np.random.Generator,
    *,
    degraded: dict[Key, np.ndarray] | None = None,
    factor: float = 1.0,
    draws: int | None = None,
) -> dict[str, Any]:
    """Draw baseline/rerun splits and run the detector on each.

    Every group's baseline and rerun are disjoint random subsets of its honest pool; the
    rerun's GP-BO groups come instead from ``degraded`` when given, and are multiplied by
    ``factor``.  Returns the rate of failed checks and the rate of every group verdict.
    """
    n, draws = args.replicates, draws or args.draws
    failed, flagged = 0, 0
    verdicts: dict[str, dict[str, int]] = {}
    for d in range(draws):
        base, cur = {}, {}
        for key, values in honest.items():
            perm = rng.permutation(values.size)
            base[key], cur[key] = values[perm[:n]], values[perm[n : 2 * n]]
            if key[2] == "gpbo":
                if degraded is not None:
                    cur[key] = rng.permutation(degraded[key])[:n]
                cur[key] = cur[key] * factor
        table = compare_regrets(
            _frame(base, args.budget), _frame(cur, args.budget), alpha=args.alpha
        )
        failed += bool(table["verdict"].isin(FAILING).any())
        flagged += bool((table["verdict"] != "pass").any())
        for name, verdict in zip(table["name"], table["verdict"], strict=True):
            counts = verdicts.setdefault(name, {})
            counts[verdict] = counts.get(verdict, 0) + 1
        if (d + 1) % 500 == 0:
            print(f"  {d + 1}/{draws} draws, failed so far {failed}", flush=True)
    rate = failed / draws
    return {
        "draws": draws,
        "check_failed_rate": rate,
        "check_failed_se": math.sqrt(rate * (1 - rate) / draws),
        "any_group_flagged_rate": flagged / draws,
        "group_verdict_rates": {
            g: {v: c / draws for v, c in sorted(cnt.items())} for g, cnt in sorted(verdicts.items())
        },
    }


def effect_sizes(honest: dict[Key, np.ndarray], degraded: dict[Key, np.ndarray]) -> dict[str, Any]:
    """Per problem: pooled median regret of GP-BO and of the degraded GP-BO, and A12."""
    return {
        key[0]: {
            "median_gpbo": float(np.median(honest[key])),
            "median_degraded": float(np.median(d)),
            "a12_degraded_vs_gpbo": a12(d, honest[key]),
        }
        for key, d in degraded.items()
    }


def _gpbo_rates(res: dict[str, Any]) -> dict[str, float]:
    """Rate at which each GP-BO group was found regressed."""
    rates = res["group_verdict_rates"]
    return {k: v.get("regressed", 0.0) for k, v in rates.items() if k.endswith("/gpbo")}


def _revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() or None


def _print_summary(
    fpr: dict[str, Any], power: dict[str, Any], shifts: list[Any], alpha: float
) -> None:
    print(
        f"\nfalse-positive rate (check fails on an honest rerun): "
        f"{fpr['check_failed_rate']:.4f} +- {fpr['check_failed_se']:.4f} (alpha {alpha}); "
        f"any group flagged (incl. improved): {fpr['any_group_flagged_rate']:.4f}"
    )
    for variant, p in power.items():
        rates = ", ".join(f"{k} {v:.3f}" for k, v in p["gpbo_regressed_rate"].items())
        print(f"power vs {variant}: check fails {p['check_failed_rate']:.3f}; {rates}")
        for prob, e in p["effect"].items():
            print(
                f"    {prob}: median regret {e['median_gpbo']:.3g} -> "
                f"{e['median_degraded']:.3g}, A12 {e['a12_degraded_vs_gpbo']:.2f}"
            )
    for sh in shifts:
        rates = ", ".join(f"{k} {v:.3f}" for k, v in sh["gpbo_regressed_rate"].items())
        print(
            f"power vs GP-BO regret x {sh['factor']:g}: check fails "
            f"{sh['check_failed_rate']:.3f}; {rates}"
        )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.pool < 2 * args.replicates or args.degraded_pool < args.replicates:
        print("error: --pool must be >= 2 * --replicates and --degraded-pool >= --replicates")
        return 2
    t0 = time.perf_counter()
    if args.store:
        honest_df, degraded_dfs = run_pools(args, Path(args.store))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            honest_df, degraded_dfs = run_pools(args, Path(tmp))
    honest = _pools(honest_df)
    rng = np.random.default_rng(args.seed)
    print(f"false-positive rate: {args.draws} honest reruns", flush=True)
    fpr = simulate(honest, args, rng)
    power = {}
    for variant, df in degraded_dfs.items():
        print(f"power against {variant}: {args.draws} degraded reruns", flush=True)
        degraded = _pools(df)
        res = simulate(honest, args, rng, degraded=degraded)
        power[variant] = {
            "planner_params": DEGRADED[variant],
            **{k: res[k] for k in ("check_failed_rate", "check_failed_se", "group_verdict_rates")},
            "gpbo_regressed_rate": _gpbo_rates(res),
            "effect": effect_sizes(honest, degraded),
        }
    shifts = []
    for factor in args.factors:
        print(f"power against GP-BO regret x {factor:g}: {args.shift_draws} reruns", flush=True)
        res = simulate(honest, args, rng, factor=factor, draws=args.shift_draws)
        shifts.append(
            {
                "factor": factor,
                "check_failed_rate": res["check_failed_rate"],
                "draws": res["draws"],
                "gpbo_regressed_rate": _gpbo_rates(res),
            }
        )
    result = {
        "settings": {
            "problems": args.problems,
            "noise": "none",
            "planners": {k: {"cls": c, "params": p} for k, (c, p) in HONEST.items()},
            "budget": args.budget,
            "metric": "regret_rec (final step)",
            "replicates_per_group": args.replicates,
            "groups_per_check": len(honest),
            "honest_pool_per_group": args.pool,
            "degraded_pool_per_problem": args.degraded_pool,
            "draws": args.draws,
            "shift_draws": args.shift_draws,
            "alpha": args.alpha,
            "test": "two-sided Mann-Whitney U, Holm over all groups, regressed = p_holm < "
            "alpha and higher median",
            "master_seed": args.seed,
            "method": "disjoint baseline/rerun subsets of i.i.d. replicates (equivalent to "
            "reruns with fresh seeds); draws share the pool, so SEs are approximate",
        },
        "false_positive": fpr,
        "power": power,
        "power_vs_regret_factor": shifts,
        "seconds": round(time.perf_counter() - t0, 1),
        "ardlib_revision": _revision(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    _print_summary(fpr, power, shifts, args.alpha)
    print(f"wrote {out} ({result['seconds']}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
