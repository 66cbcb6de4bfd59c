"""ardlib's GP-BO side by side with peer libraries (BoTorch, scikit-optimize, Optuna).

The comparison is an ordinary :class:`~ardlib.study.Study` (:func:`peer_study`): the peer
adapters of :mod:`ardlib.planners` and ardlib's :class:`~ardlib.planners.BayesianOptimization`
run on the same problems, noiseless, with the study engine's seeds, so every planner of a
cell starts from the same Sobol' design (common random numbers; :func:`compare_peers`
checks it) and results are stored and reproduced like any study.  :func:`compare_peers`
analyses it with :mod:`ardlib.stats`: final true regret of each peer against ardlib by
paired Wilcoxon tests, Holm-corrected across every problem and peer
(:func:`~ardlib.stats.compare_planners`), and the time per model-based ``ask()`` as a
ratio with a bootstrap interval (:func:`~ardlib.stats.bootstrap_ci`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._io import dist_version
from .._validation import check_int
from ..objectives import list_problems
from ..stats import bootstrap_ci, compare_planners, holm
from ..stats._paired import MIN_PAIRS
from ..study import PlannerSpec, ProblemSpec, Study, StudyResult

__all__ = ["PEERS", "PeerComparison", "compare_peers", "peer_study", "peer_versions", "run_peers"]

#: Planner name -> dotted path of its class (``ardlib`` is the reference).
PEERS: dict[str, str] = {
    "ardlib": "ardlib.planners.BayesianOptimization",
    "botorch": "ardlib.planners.BoTorchPlanner",
    "skopt": "ardlib.planners.SkoptPlanner",
    "optuna": "ardlib.planners.OptunaPlanner",
}
_VERSIONS = (
    "ardlib", "numpy", "scipy", "torch", "gpytorch", "botorch",
    "scikit-optimize", "scikit-learn", "optuna",
)  # fmt: skip


def _peer_spec(name: str, *, n_initial: int) -> PlannerSpec:
    """The planner ``name`` of :data:`PEERS` as the peer comparison builds it (defaults but
    ``n_initial``); :func:`peer_study` and :func:`~ardlib.bench.cold_ask_times` share it."""
    return PlannerSpec(name, PEERS[name], {"n_initial": n_initial})


def peer_versions() -> dict[str, str | None]:
    """Installed versions of ardlib, the peers and the numeric stack.

    Returns
    -------
    dict
        Distribution name -> version, None when not installed.
    """
    return {name: dist_version(name) for name in _VERSIONS}


def peer_study(
    problems: Sequence[str],
    planners: Sequence[str] = tuple(PEERS),
    *,
    budget: int = 40,
    replicates: int = 10,
    n_initial: int = 5,
    master_seed: int = 0,
    batch_size: int = 1,
) -> Study:
    """The peer comparison as a study: every planner on every problem, noiseless.

    Parameters
    ----------
    problems : sequence of str
        Registry names, e.g. ``["branin", "hartmann6", "emulator:suzuki"]``.
    planners : sequence of str, default every name of :data:`PEERS`
        Names from :data:`PEERS`; must include ``"ardlib"`` (the reference).
    budget : int, default 40
        Evaluations per campaign, more than ``n_initial``.
    replicates : int, default 10
        Paired replicates (seeds) per problem, at least 6 (the paired test's minimum).
    n_initial : int, default 5
        Size of the shared Sobol' initial design.
    master_seed : int, default 0
        The study's master seed.
    batch_size : int, default 1
        Points asked per round (:func:`batch_studies` compares sizes at equal budget).

    Returns
    -------
    Study

    Raises
    ------
    ValueError
        Naming an unknown problem or planner, a missing ``"ardlib"`` or a bad size.
    """
    unknown = sorted(set(planners) - set(PEERS))
    if unknown or "ardlib" not in planners:
        raise ValueError(
            f"The 'planners' parameter of peer_study must hold names from {sorted(PEERS)}, "
            f"including 'ardlib'. Got {list(planners)!r}."
        )
    if not problems or set(problems) - set(list_problems()):
        raise ValueError(
            "The 'problems' parameter of peer_study must hold registered problem names "
            f"(ardlib.objectives.list_problems()). Got {list(problems)!r}."
        )
    budget = check_int(budget, "budget", owner="peer_study", low=2)
    replicates = check_int(replicates, "replicates", owner="peer_study", low=MIN_PAIRS)
    n_initial = check_int(n_initial, "n_initial", owner="peer_study", low=1, high=budget - 1)
    batch_size = check_int(batch_size, "batch_size", owner="peer_study", low=1, high=budget)
    return Study(
        problems=[ProblemSpec(p) for p in problems],
        planners=[_peer_spec(p, n_initial=n_initial) for p in planners],
        noises=[None],
        replicates=replicates,
        budget=budget,
        master_seed=master_seed,
        batch_size=batch_size,
    )


@dataclass(frozen=True)
class PeerComparison:
    """Speed and sample efficiency of each peer against ardlib, from one peer study.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (problem, peer), or per (budget, problem, peer) when budgets were
        asked for (``budget``: evaluations so far; ask times then cover the model-based
        asks up to that budget): ``n`` paired replicates, ``ask_ms_ref`` and
        ``ask_ms_peer`` (median wall time of a model-based ask), ``speedup`` (peer time /
        ardlib time, median over replicates of the per-replicate ratio of median ask times)
        with ``speedup_low``/``speedup_high`` (95% bootstrap interval), ``regret_ref`` and
        ``regret_peer`` (median final true regret at the recommendation),
        ``median_diff``, ``p_value``, ``p_holm`` (Holm over every row) and ``winner``.
    versions : dict
        :func:`peer_versions` when the comparison was made.
    settings : dict
        The study's spec (problems, planners, budget, replicates, seed).
    """

    table: pd.DataFrame
    versions: dict[str, str | None]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (``ardlib bench peers --out`` adds the ``machine`` it ran on).

        Returns
        -------
        dict
            ``settings``, ``versions`` and ``summary`` (the table's records).
        """
        from .._io import json_records

        return {
            "settings": self.settings,
            "versions": self.versions,
            "summary": json_records(self.table),
        }


def _check_paired(results: pd.DataFrame, n_initial: int, ref: str = "ardlib") -> None:
    """Raise unless every planner of a cell asked the same initial design as ``ref``."""
    first = results[results["step"] < n_initial]
    for (problem, rep), g in first.groupby(["problem", "replicate"]):
        designs = {str(p): np.asarray(list(d["x"])) for p, d in g.groupby("planner")}
        x_ref = designs[ref]
        for planner, x in designs.items():
            if x.shape != x_ref.shape or not np.array_equal(x, x_ref):
                raise RuntimeError(
                    f"{planner} asked a different initial design than {ref} on {problem!s} "
                    f"(replicate {rep!s}); the comparison would not be paired."
                )


def _median_ratio(num: pd.Series, den: pd.Series, rng: int) -> tuple[float, float, float]:
    """Median over replicates of ``num / den`` (aligned by index), with a 95% bootstrap CI."""
    ratio = (num / den).to_numpy(dtype=float)
    ci = bootstrap_ci(ratio, statistic="median", method="percentile", rng=rng)
    return float(np.median(ratio)), ci.low, ci.high


def compare_peers(
    result: StudyResult,
    *,
    budgets: Sequence[int] | None = None,
    alpha: float = 0.05,
    rng: int = 0,
) -> PeerComparison:
    """Analyse a :func:`peer_study` run: regret by paired tests, speed by time ratios.

    Parameters
    ----------
    result : StudyResult
        The run of a peer study.
    budgets : sequence of int, optional
        Evaluations after which regret is compared (each in ``[1, budget]``), one row per
        (budget, problem, peer); by default the study's budget only. A campaign's first
        ``b`` evaluations are the campaign a budget of ``b`` would have run, since no
        planner here is told its budget. The Holm correction spans every row.
    alpha : float, default 0.05
        Family-wise error rate of the Holm-corrected comparison.
    rng : int, default 0
        Seeds the bootstrap intervals.

    Returns
    -------
    PeerComparison

    Raises
    ------
    ValueError
        If the study has no planner named ``"ardlib"`` or a budget is out of range.
    RuntimeError
        If two planners of one cell asked different initial designs.
    """
    spec = result.study.spec()
    ref = [p for p in spec["planners"] if p["name"] == "ardlib"]
    if not ref:
        raise ValueError("The 'result' parameter of compare_peers must hold an 'ardlib' planner.")
    n_initial = int(ref[0]["params"].get("n_initial", 5))
    steps = _check_budgets(budgets, int(spec["budget"]), "compare_peers")
    _check_paired(result.results, n_initial)
    rows = []
    for b in sorted(set(steps)):
        comp = compare_planners(
            result.results, step=b - 1, baseline="ardlib", alpha=alpha, ci=False, rng=rng
        ).table
        rows += _peer_rows(result, comp, b, n_initial, rng)
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["winner"] = table["winner"].where(table["p_holm"] <= alpha, None)
    if budgets is None:
        table = table.drop(columns="budget")
    return PeerComparison(table=table, versions=peer_versions(), settings=spec)


def _check_budgets(budgets: Sequence[int] | None, budget: int, owner: str) -> list[int]:
    """``budgets`` (default ``[budget]``), each checked to lie in ``[1, budget]``."""
    steps = [budget] if budgets is None else list(budgets)
    if not steps:
        raise ValueError(f"The 'budgets' parameter of {owner} must name a budget. Got [].")
    return [check_int(b, "budgets", owner=owner, low=1, high=budget) for b in steps]


def _peer_rows(
    result: StudyResult, comp: pd.DataFrame, budget: int, n_initial: int, rng: int
) -> list[dict[str, Any]]:
    """One row per (problem, peer) of ``compare_planners``' table at ``budget``."""
    t = result.timings
    have = set(zip(t["problem"], t["planner"], strict=True))
    lacking = sorted(
        set(zip(result.results["problem"], result.results["planner"], strict=True)) - have
    )
    if lacking:
        raise ValueError(
            "The 'result' parameter of compare_peers has no ask timings for "
            f"{', '.join(f'{pl} on {pr}' for pr, pl in lacking)}: each cell's timings "
            "(timings/<cell_hash>.parquet beside cells/ in the store) must be stored with "
            "its results."
        )
    model = t[(t["step"] >= n_initial) & (t["step"] < budget)]
    if model.empty:  # a budget inside the initial design: time every ask
        model = t[t["step"] < budget]
    per_rep = model.groupby(["problem", "planner", "replicate"])["ask_seconds"].median() * 1e3
    at = result.results[result.results["step"] == budget - 1]
    regret = at.groupby(["problem", "planner"])["regret_rec"].median()
    rows = []
    for r in comp.to_dict(orient="records"):
        problem, a = str(r["problem"]), str(r["planner_a"])
        peer = str(r["planner_b"]) if a == "ardlib" else a
        ref_ms, peer_ms = per_rep[problem]["ardlib"], per_rep[problem][peer]
        speedup, low, high = _median_ratio(peer_ms, ref_ms, rng)
        a_minus_b = float(r["median_diff"])  # planner_a - planner_b
        rows.append(
            {
                "budget": budget,
                "problem": problem,
                "peer": peer,
                "n": int(r["n"]),
                "ask_ms_ref": float(ref_ms.median()),
                "ask_ms_peer": float(peer_ms.median()),
                "speedup": speedup,
                "speedup_low": low,
                "speedup_high": high,
                "regret_ref": float(regret[(problem, "ardlib")]),
                "regret_peer": float(regret[(problem, peer)]),
                # ardlib - peer: negative favours ardlib
                "median_diff": a_minus_b if a == "ardlib" else -a_minus_b,
                "p_value": float(r["p_value"]),
                "winner": r["winner"] if isinstance(r["winner"], str) else None,
            }
        )
    return rows


def run_peers(
    problems: Sequence[str],
    planners: Sequence[str] = tuple(PEERS),
    *,
    budget: int = 40,
    replicates: int = 10,
    budgets: Sequence[int] | None = None,
    store: str | os.PathLike[str] = "data/benchmarks/peer_store",
    max_workers: int = 1,
    progress: bool = True,
) -> PeerComparison:
    """Run :func:`peer_study` (one planner per worker process) and :func:`compare_peers` it.

    Parameters
    ----------
    problems, planners, budget, replicates
        See :func:`peer_study`.
    budgets : sequence of int, optional
        Evaluations after which regret is compared (see :func:`compare_peers`).
    store : path, default "data/benchmarks/peer_store"
        The study's result store (an interrupted run resumes).
    max_workers : int, default 1
        Worker processes; one keeps timings free of contention.
    progress : bool, default True
        Show the study's progress bar.

    Returns
    -------
    PeerComparison
    """
    for b in budgets or ():  # named before the budget they may have set
        check_int(b, "budgets", owner="run_peers", low=1)
    study = peer_study(problems, planners, budget=budget, replicates=replicates)
    _check_budgets(budgets, budget, "run_peers")  # before hours of campaigns, not after
    result = study.run(store, max_workers=max_workers, progress=progress)
    return compare_peers(result, budgets=budgets)
