"""How often does the study check (:func:`compare_regrets`, what ``ardlib regress check``
runs on every study group) fail an honest rerun, and how often does it catch a worse GP-BO?

A pool of noise-free replicates per (problem, planner) group is run once.  An *honest
rerun* draws a baseline and a rerun as disjoint random subsets of each pool: every replicate
has its own seed, so they are distributed exactly like a baseline and a rerun made with
fresh master seeds (draws share the pool, so the binomial standard errors understate the
uncertainty somewhat).  For *power*, the rerun's GP-BO groups come instead from the pool of
a degraded GP-BO, or have their regrets multiplied by a factor.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import git_revision
from .._validation import check_int, check_real
from ..stats import a12
from ..study import PlannerSpec, ProblemSpec, Study
from ._report import FAILING
from ._stochastic import GroupKey, compare_regrets

__all__ = ["DEGRADATIONS", "DetectorMeasurement", "measure_detector"]

_BO = "ardlib.planners.BayesianOptimization"
_HONEST: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("ardlib.planners.RandomSearch", {}),
    "sobol": ("ardlib.planners.Sobol", {}),
    "gpbo": (_BO, {}),
}
#: Degraded GP-BO settings measured by default: a coarse acquisition optimizer (8 raw
#: candidates and one ascent instead of 512 and 4) and no exploitation steps.
DEGRADATIONS: dict[str, dict[str, Any]] = {
    "coarse_acqopt": {"n_raw": 8, "n_starts": 1},
    "no_exploit": {"exploit_every": None},
}
_COLUMNS = ["problem", "noise", "planner", "replicate", "step", "regret_rec"]
_OWNER = "measure_detector"
_OPEN_UNIT: dict[str, Any] = {"low": 0, "high": 1, "low_inclusive": False, "high_inclusive": False}


@dataclass
class DetectorMeasurement:
    """Outcome of :func:`measure_detector`.

    Attributes
    ----------
    false_positive : dict
        Honest reruns: ``draws``, ``check_failed_rate`` and its binomial standard error
        ``check_failed_se``, ``any_group_flagged_rate`` (any verdict but "pass") and
        ``group_verdict_rates`` (group -> verdict -> rate).
    power : dict
        Degradation name -> ``planner_params``, ``check_failed_rate``,
        ``check_failed_se``, ``group_verdict_rates``, ``gpbo_regressed_rate`` (GP-BO group
        -> rate found regressed) and ``effect`` (problem -> ``median_gpbo``,
        ``median_degraded`` and ``a12_degraded_vs_gpbo`` over the pools).
    power_vs_regret_factor : list of dict
        One per factor: ``factor``, ``draws``, ``check_failed_rate`` and
        ``gpbo_regressed_rate``.
    settings : dict
        Everything the rates depend on.
    seconds : float
        Wall time of the measurement.
    ardlib_revision : str
        :func:`ardlib._io.git_revision` (full hash) of the working directory.
    """

    false_positive: dict[str, Any]
    power: dict[str, dict[str, Any]]
    power_vs_regret_factor: list[dict[str, Any]]
    settings: dict[str, Any]
    seconds: float
    ardlib_revision: str

    def to_json(self) -> dict[str, Any]:
        """The record ``ardlib regress detector`` writes.

        Returns
        -------
        dict
            The attributes by name.
        """
        return asdict(self)

    def format(self) -> str:
        """The rates as text, one line per measurement.

        Returns
        -------
        str
        """
        fpr = self.false_positive
        lines = [
            "false-positive rate (check fails on an honest rerun): "
            f"{fpr['check_failed_rate']:.4f} +- {fpr['check_failed_se']:.4f} "
            f"(alpha {self.settings['alpha']}); "
            f"any group flagged (incl. improved): {fpr['any_group_flagged_rate']:.4f}"
        ]
        for variant, p in self.power.items():
            rates = ", ".join(f"{k} {v:.3f}" for k, v in p["gpbo_regressed_rate"].items())
            lines.append(f"power vs {variant}: check fails {p['check_failed_rate']:.3f}; {rates}")
            for prob, e in p["effect"].items():
                lines.append(
                    f"    {prob}: median regret {e['median_gpbo']:.3g} -> "
                    f"{e['median_degraded']:.3g}, A12 {e['a12_degraded_vs_gpbo']:.2f}"
                )
        for sh in self.power_vs_regret_factor:
            rates = ", ".join(f"{k} {v:.3f}" for k, v in sh["gpbo_regressed_rate"].items())
            lines.append(
                f"power vs GP-BO regret x {sh['factor']:g}: check fails "
                f"{sh['check_failed_rate']:.3f}; {rates}"
            )
        return "\n".join(lines)


def _pools(df: pd.DataFrame) -> dict[GroupKey, np.ndarray]:
    """Final regrets by (problem, noise, planner)."""
    return {
        (str(k[0]), str(k[1]), str(k[2])): g["regret_rec"].to_numpy(dtype=float)
        for k, g in df.groupby(["problem", "noise", "planner"], sort=True)
    }


def _run_pools(
    s: dict[str, Any], store: Path, progress: Callable[[str], None] | None
) -> tuple[dict[GroupKey, np.ndarray], dict[str, dict[GroupKey, np.ndarray]]]:
    """The honest pool (every planner) and one degraded GP-BO pool per degradation, run on
    one thread, in-process: the final-step rows of every run."""
    t0 = time.perf_counter()
    honest: list[pd.DataFrame] = []
    degraded: dict[str, list[pd.DataFrame]] = {}
    jobs: list[tuple[str, str, PlannerSpec, int, int]] = []
    for prob in s["problems"]:
        for name, (cls, params) in _HONEST.items():
            jobs.append(("honest", prob, PlannerSpec(name, cls, params), s["pool"], s["seed"]))
        for k, (variant, changes) in enumerate(s["degradations"].items(), start=1):
            spec = PlannerSpec("gpbo", _BO, changes)
            jobs.append((variant, prob, spec, s["degraded_pool"], s["seed"] + k))
    for i, (pool, prob, spec, n, seed) in enumerate(jobs, start=1):
        study = Study([ProblemSpec(prob)], [spec], [None], n, s["budget"], seed)
        with ThreadPoolExecutor(1) as executor:
            res = study.run(store, executor=executor, progress=False).results
        final = res.loc[res["step"] == res["step"].max(), _COLUMNS].reset_index(drop=True)
        (honest if pool == "honest" else degraded.setdefault(pool, [])).append(final)
        if progress:
            label = f"{pool}/{prob}/{spec.name}"
            progress(f"[{i}/{len(jobs)}] {label}: {n} runs, {time.perf_counter() - t0:.0f}s")
    return _pools(pd.concat(honest, ignore_index=True)), {
        k: _pools(pd.concat(v, ignore_index=True)) for k, v in degraded.items()
    }


def _frame(samples: dict[GroupKey, np.ndarray], budget: int) -> pd.DataFrame:
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


def _simulate(
    honest: dict[GroupKey, np.ndarray],
    s: dict[str, Any],
    rng: np.random.Generator,
    draws: int,
    progress: Callable[[str], None] | None,
    *,
    degraded: dict[GroupKey, np.ndarray] | None = None,
    factor: float = 1.0,
) -> dict[str, Any]:
    """Draw baseline/rerun splits and run the detector on each.

    Every group's baseline and rerun are disjoint random subsets of its honest pool; the
    rerun's GP-BO groups come instead from ``degraded`` when given, and are multiplied by
    ``factor``.  Returns the rate of failed checks and the rate of every group verdict.
    """
    n = s["replicates"]
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
            _frame(base, s["budget"]), _frame(cur, s["budget"]), alpha=s["alpha"]
        )
        failed += bool(table["verdict"].isin(FAILING).any())
        flagged += bool((table["verdict"] != "pass").any())
        for name, verdict in zip(table["name"], table["verdict"], strict=True):
            counts = verdicts.setdefault(name, {})
            counts[verdict] = counts.get(verdict, 0) + 1
        if progress and (d + 1) % 500 == 0:
            progress(f"  {d + 1}/{draws} draws, failed so far {failed}")
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


def _gpbo_rates(res: dict[str, Any]) -> dict[str, float]:
    """Rate at which each GP-BO group was found regressed."""
    rates = res["group_verdict_rates"]
    return {k: v.get("regressed", 0.0) for k, v in rates.items() if k.endswith("/gpbo")}


def _settings(**given: Any) -> dict[str, Any]:
    """Validated arguments of :func:`measure_detector`."""
    if not list(given["problems"]):
        raise ValueError(f"The 'problems' parameter of {_OWNER} must name at least one problem.")
    n = check_int(given["replicates"], "replicates", owner=_OWNER, low=1)
    lows = {"budget": 1, "draws": 1, "shift_draws": 1, "seed": 0, "pool": 2 * n, "degraded_pool": n}
    return {
        **given,
        **{k: check_int(given[k], k, owner=_OWNER, low=low) for k, low in lows.items()},
        "replicates": n,
        "alpha": check_real(given["alpha"], "alpha", owner=_OWNER, **_OPEN_UNIT),
        "factors": [check_real(f, "factors", owner=_OWNER, low=0) for f in given["factors"]],
        "problems": list(given["problems"]),
        "degradations": {str(k): dict(v) for k, v in given["degradations"].items()},
    }


def measure_detector(
    *,
    problems: Sequence[str] = ("branin", "hartmann3"),
    budget: int = 30,
    replicates: int = 20,
    pool: int = 100,
    degraded_pool: int = 50,
    draws: int = 2000,
    alpha: float = 0.01,
    factors: Sequence[float] = (1.5, 2.0, 3.0, 5.0, 10.0),
    shift_draws: int = 1000,
    degradations: Mapping[str, Mapping[str, Any]] = DEGRADATIONS,
    seed: int = 20261127,
    store: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> DetectorMeasurement:
    """Measure the false-positive rate and the power of the study-regression check.

    Runs the pools (one thread, in-process), then simulates ``draws`` honest reruns,
    ``draws`` reruns against each degraded GP-BO and ``shift_draws`` reruns per regret
    factor, all drawn from one generator seeded with ``seed``.  Defaults are those of the
    ``regress-detector`` pipeline stage (a few minutes on one core).

    Parameters
    ----------
    problems : sequence of str
        Registered problem names, each run noise-free.
    budget : int
        Evaluations per campaign, >= 1.
    replicates : int
        Runs per group on each side of a check (baseline and rerun), >= 1.
    pool : int
        Honest runs per group, >= ``2 * replicates``.
    degraded_pool : int
        Runs of each degraded GP-BO per problem, >= ``replicates``.
    draws : int
        Simulated reruns for the false-positive rate and for each degradation.
    alpha : float
        Family-wise error rate of the check, in (0, 1).
    factors : sequence of float
        Synthetic degradations: the rerun's GP-BO regrets multiplied by each, >= 0.
    shift_draws : int
        Simulated reruns per factor.
    degradations : mapping
        Name -> settings of :class:`~ardlib.planners.BayesianOptimization` that differ
        from the defaults (default :data:`DEGRADATIONS`).
    seed : int
        Master seed of the honest pool; degradation ``k`` (from 1) uses ``seed + k``; the
        draws use ``numpy.random.default_rng(seed)``.
    store : str or Path, optional
        Keep the campaigns in this result store (reused when rerun); default temporary.
    progress : callable, optional
        Called with a line of text after each pool and every 500 draws.

    Returns
    -------
    DetectorMeasurement

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).
    """
    t0 = time.perf_counter()
    s = _settings(
        problems=problems, budget=budget, replicates=replicates, pool=pool,
        degraded_pool=degraded_pool, draws=draws, alpha=alpha, factors=factors,
        shift_draws=shift_draws, degradations=degradations, seed=seed,
    )  # fmt: skip
    if store is not None:
        honest, degraded_pools = _run_pools(s, Path(store), progress)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            honest, degraded_pools = _run_pools(s, Path(tmp), progress)
    rng = np.random.default_rng(s["seed"])
    fpr = _simulate(honest, s, rng, s["draws"], progress)
    power = {}
    for variant, degraded in degraded_pools.items():
        res = _simulate(honest, s, rng, s["draws"], progress, degraded=degraded)
        power[variant] = {
            "planner_params": s["degradations"][variant],
            **{k: res[k] for k in ("check_failed_rate", "check_failed_se", "group_verdict_rates")},
            "gpbo_regressed_rate": _gpbo_rates(res),
            "effect": {
                key[0]: {
                    "median_gpbo": float(np.median(honest[key])),
                    "median_degraded": float(np.median(d)),
                    "a12_degraded_vs_gpbo": a12(d, honest[key]),
                }
                for key, d in degraded.items()
            },
        }
    shifts = []
    for factor in s["factors"]:
        res = _simulate(honest, s, rng, s["shift_draws"], progress, factor=factor)
        shifts.append(
            {
                "factor": factor,
                "check_failed_rate": res["check_failed_rate"],
                "draws": res["draws"],
                "gpbo_regressed_rate": _gpbo_rates(res),
            }
        )
    settings = {
        "problems": s["problems"],
        "noise": "none",
        "planners": {k: {"cls": c, "params": p} for k, (c, p) in _HONEST.items()},
        "budget": s["budget"],
        "metric": "regret_rec (final step)",
        "replicates_per_group": s["replicates"],
        "groups_per_check": len(honest),
        "honest_pool_per_group": s["pool"],
        "degraded_pool_per_problem": s["degraded_pool"],
        "draws": s["draws"],
        "shift_draws": s["shift_draws"],
        "alpha": s["alpha"],
        "test": "two-sided Mann-Whitney U, Holm over all groups, regressed = p_holm < "
        "alpha and higher median",
        "master_seed": s["seed"],
        "method": "disjoint baseline/rerun subsets of i.i.d. replicates (equivalent to "
        "reruns with fresh seeds); draws share the pool, so SEs are approximate",
    }
    seconds = round(time.perf_counter() - t0, 1)
    return DetectorMeasurement(fpr, power, shifts, settings, seconds, git_revision(short=False))
