"""Batches at equal evaluations: ``q`` points per ask against sequential asks, and ardlib's
kriging believer against BoTorch's ``qLogExpectedImprovement``, in the peers harness.

A lab with ``q`` parallel reactors asks ``q`` points at a time and learns from them only
when the whole batch is back. :func:`batch_studies` builds the question as studies: one
:func:`~ardlib.bench.peer_study` per batch size (a study has one batch size; the cells of
every size share one store), the same budget for every size, so each campaign ends after
the same number of evaluations and a batch of ``q`` spends it in ``ceil(budget / q)``
asks. :func:`compare_batches` analyses the runs with :mod:`ardlib.stats`:

* each planner at ``q > 1`` against the same planner at ``q = 1`` (final true regret at
  the recommendation, paired over replicates by Wilcoxon signed-rank tests);
* ardlib against every peer at the same ``q > 1``;

all comparisons in one Holm family (:func:`~ardlib.stats.holm_across`), beside the time
per ask and the ask time per evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int
from ..stats import Comparison, compare_planners, holm_across
from ..study import Study, StudyResult
from ._peers import _check_paired, _median_ratio, peer_study, peer_versions

__all__ = ["BatchComparison", "batch_studies", "compare_batches", "run_batches"]

_SEP = "@q"  # planner label inside the combined table: "ardlib@q4"


def _check_sizes(sizes: Any, name: str, budget: int) -> list[int]:
    """Distinct batch sizes in ``[1, budget]``, 1 included, in ascending order."""
    why = f"distinct ints from 1 to the budget ({budget}), including 1 (sequential asks)"
    try:
        out = sorted(check_int(q, name, owner="batch_studies", low=1, high=budget) for q in sizes)
    except (TypeError, ValueError):
        out = []
    if not out or out[0] != 1 or len(set(out)) != len(out):
        raise ValueError(f"The '{name}' parameter of batch_studies must hold {why}. Got {sizes!r}.")
    return out


def batch_studies(
    problems: Sequence[str],
    batch_sizes: Sequence[int] = (1, 4, 8),
    planners: Sequence[str] = ("ardlib",),
    *,
    peer_batch_sizes: Sequence[int] | None = None,
    budget: int = 40,
    replicates: int = 10,
    n_initial: int = 5,
    master_seed: int = 0,
) -> list[Study]:
    """The batch comparison as studies: one :func:`peer_study` per batch size.

    Parameters
    ----------
    problems : sequence of str
        Registry names, e.g. ``["branin", "hartmann6"]``.
    batch_sizes : sequence of int, default (1, 4, 8)
        Points per ask for ``"ardlib"``: distinct, from 1 to ``budget``, 1 included (the
        sequential reference every other size is compared with).
    planners : sequence of str, default ("ardlib",)
        Names from :data:`PEERS`, ``"ardlib"`` included.
    peer_batch_sizes : sequence of int, optional
        Batch sizes of the other planners, a subset of ``batch_sizes`` with 1 included;
        default ``batch_sizes`` (a peer's large batches may cost more than they tell).
    budget : int, default 40
        Evaluations per campaign, the same at every batch size.
    replicates : int, default 10
        Paired replicates per problem, at least 6.
    n_initial : int, default 5
        Size of the shared Sobol' initial design.
    master_seed : int, default 0
        Master seed of every study: a replicate has the same seed at every batch size.

    Returns
    -------
    list of Study
        One per batch size, ascending; each holds ``"ardlib"`` and the peers run at that
        size. Run them into one store and pass the results to :func:`compare_batches`.

    Raises
    ------
    ValueError
        Naming a bad batch size list, or any argument :func:`peer_study` refuses.
    """
    budget = check_int(budget, "budget", owner="batch_studies", low=2)
    sizes = _check_sizes(batch_sizes, "batch_sizes", budget)
    peer_sizes = sizes
    if peer_batch_sizes is not None:
        peer_sizes = _check_sizes(peer_batch_sizes, "peer_batch_sizes", budget)
        if set(peer_sizes) - set(sizes):
            raise ValueError(
                "The 'peer_batch_sizes' parameter of batch_studies must be a subset of "
                f"batch_sizes {sizes}. Got {list(peer_batch_sizes)!r}."
            )
    if len(sizes) < 2:
        raise ValueError(
            "The 'batch_sizes' parameter of batch_studies must hold a size > 1 besides 1 "
            f"(nothing to compare). Got {list(batch_sizes)!r}."
        )
    kw: dict[str, Any] = {"budget": budget, "replicates": replicates, "n_initial": n_initial}
    return [
        peer_study(
            problems,
            [p for p in planners if p == "ardlib" or q in peer_sizes],
            **kw,
            master_seed=master_seed,
            batch_size=q,
        )
        for q in sizes
    ]


@dataclass(frozen=True)
class BatchComparison:
    """Regret and time of batch asks against sequential ones, and of ardlib against peers.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (problem, planner, batch_size), ``q = 1`` included: ``n`` replicates,
        ``asks`` (ask calls per campaign), ``regret`` (median final true regret at the
        recommendation), ``ask_s`` (median over replicates of the median seconds of an
        ask made after the first observation and proposing a point beyond the initial
        design), ``ask_s_per_eval`` (median over replicates of all ask seconds divided by
        the evaluations), then against the same planner at ``q = 1``: ``time_ratio``
        (median per-replicate ratio of ``ask_s_per_eval``), ``median_diff`` (median of the
        paired regret differences, this size minus ``q = 1``: negative favours the
        batch), ``p_value``, ``p_holm`` and ``winner`` (``"q1"`` or e.g. ``"q4"`` when
        significant, else missing); missing on the ``q = 1`` rows.
    peers : pandas.DataFrame
        One row per (problem, batch_size > 1, peer): ``n``, ``ask_s_ref``/``ask_s_peer``
        (as ``ask_s``), ``speedup`` (peer time / ardlib time per ask, median of the
        per-replicate ratios) with ``speedup_low``/``speedup_high`` (95% bootstrap
        interval), ``regret_ref``/``regret_peer``, ``median_diff`` (ardlib minus peer),
        ``p_value``, ``p_holm``, ``winner`` (a planner name when significant, else
        missing). Empty when no peer ran at ``q > 1``.
    versions : dict
        :func:`peer_versions` when the comparison was made.
    settings : dict
        ``problems``, ``planners`` (name -> batch sizes), ``budget``, ``replicates``,
        ``n_initial``, ``master_seed``, ``alpha``, ``family_size`` (Holm family: every
        row of both tables with a p-value) and ``study_hashes`` (batch size -> hash).
    """

    table: pd.DataFrame
    peers: pd.DataFrame
    versions: dict[str, str | None]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (``ardlib bench batches --out`` adds the ``machine``).

        Returns
        -------
        dict
            ``settings``, ``versions``, ``summary`` (:attr:`table`) and ``peers``.
        """

        from .._io import json_records as records

        return {
            "settings": self.settings,
            "versions": self.versions,
            "summary": records(self.table),
            "peers": records(self.peers),
        }


def _combine(results: Sequence[StudyResult]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Results and timings of every size with planners labelled ``name@qK``; the settings."""
    if not results:
        raise ValueError("The 'results' parameter of compare_batches must not be empty.")
    specs = [r.study.spec() for r in results]
    sizes = [int(s["batch_size"]) for s in specs]
    shared = {k: {str(s[k]) for s in specs} for k in ("budget", "replicates", "master_seed")}
    if len(set(sizes)) != len(sizes) or 1 not in sizes or any(len(v) > 1 for v in shared.values()):
        raise ValueError(
            "The 'results' parameter of compare_batches must hold runs of distinct batch "
            "sizes, 1 included, with one budget, replicate count and master seed. Got "
            f"batch sizes {sizes} and {shared}."
        )
    planners: dict[str, list[int]] = {}
    frames: list[pd.DataFrame] = []
    timings: list[pd.DataFrame] = []
    for res, q in zip(results, sizes, strict=True):
        for p in res.study.planners:
            planners.setdefault(p.name, []).append(q)
        for src, out in ((res.results, frames), (res.timings, timings)):
            out.append(src.assign(planner=src["planner"].astype(str) + f"{_SEP}{q}", q=q))
    if missing := sorted(p for p, qs in planners.items() if 1 not in qs):
        raise ValueError(
            f"The 'results' parameter of compare_batches has no q = 1 run of {missing} "
            "(the sequential reference)."
        )
    ref = [p["params"] for s in specs for p in s["planners"] if p["name"] == "ardlib"]
    if len(ref) != len(specs):
        raise ValueError(
            "The 'results' parameter of compare_batches must hold an 'ardlib' planner in "
            "every run (the reference)."
        )
    frame = pd.concat(frames, ignore_index=True)
    settings = {
        "problems": sorted(str(p) for p in frame["problem"].unique()),
        "planners": {p: sorted(qs) for p, qs in sorted(planners.items())},
        "budget": int(specs[0]["budget"]),
        "replicates": int(specs[0]["replicates"]),
        "n_initial": int(ref[0].get("n_initial", 5)),
        "master_seed": int(specs[0]["master_seed"]),
        "study_hashes": {str(q): r.study.study_hash for r, q in zip(results, sizes, strict=True)},
    }
    return frame, pd.concat(timings, ignore_index=True), settings


def _times(timings: pd.DataFrame, n_initial: int) -> pd.DataFrame:
    """Per (problem, planner label, replicate): ``ask_s`` and ``ask_s_per_eval``."""
    keys = ["problem", "planner", "replicate"]
    model = timings[(timings["step"] > 0) & (timings["step"] + timings["n"] > n_initial)]
    total = timings.groupby(keys)[["ask_seconds", "n"]].sum()
    return pd.DataFrame(
        {
            "ask_s": model.groupby(keys)["ask_seconds"].median(),
            "ask_s_per_eval": total["ask_seconds"] / total["n"],
            "asks": timings.groupby(keys).size(),
        }
    )


def _families(
    frame: pd.DataFrame, planners: dict[str, list[int]], alpha: float
) -> list[Comparison]:
    """Every planner's batches against its q = 1; ardlib against each peer at each q > 1."""
    out = []
    for name, sizes in planners.items():
        if len(sizes) > 1:
            rows = frame[frame["planner"].str.rsplit(_SEP, n=1).str[0] == name]
            out.append(compare_planners(rows, baseline=f"{name}{_SEP}1", alpha=alpha, ci=False))
    for q in sorted({q for qs in planners.values() for q in qs} - {1}):
        rows = frame[frame["q"] == q]
        if rows["planner"].nunique() > 1:
            out.append(compare_planners(rows, baseline=f"ardlib{_SEP}{q}", alpha=alpha, ci=False))
    if not out:
        raise ValueError(
            "The 'results' parameter of compare_batches has nothing to compare: no planner "
            "ran at a batch size > 1."
        )
    return out


_Tests = dict[tuple[str, str, str], dict[Hashable, Any]]  # (problem, planner_a, planner_b) -> row


def _test(tests: _Tests, problem: str, a: str, b: str) -> dict[str, Any]:
    """``median_diff`` (a - b), ``p_value``, ``p_holm`` and the winning label of one test."""
    r = tests[(problem, a, b)]
    winner = r["winner"] if isinstance(r["winner"], str) else None
    return {
        "median_diff": float(r["median_diff"]),
        "p_value": float(r["p_value"]),
        "p_holm": float(r["p_holm"]),
        "winner": winner,
    }


def _batch_table(
    settings: dict[str, Any], tests: _Tests, times: pd.DataFrame, regret: pd.Series
) -> pd.DataFrame:
    """Rows of :attr:`BatchComparison.table`."""
    rows = []
    for problem in settings["problems"]:
        for name, sizes in settings["planners"].items():
            seq = times.loc[(problem, f"{name}{_SEP}1")]
            for q in sizes:
                label = f"{name}{_SEP}{q}"
                t = times.loc[(problem, label)]
                row: dict[str, Any] = {
                    "problem": problem, "planner": name, "batch_size": q, "n": len(t),
                    "asks": int(t["asks"].median()), "regret": float(regret[(problem, label)]),
                    "ask_s": float(t["ask_s"].median()),
                    "ask_s_per_eval": float(t["ask_s_per_eval"].median()),
                    "time_ratio": np.nan, "median_diff": np.nan, "p_value": np.nan,
                    "p_holm": np.nan, "winner": None,
                }  # fmt: skip
                if q > 1:
                    ratio = t["ask_s_per_eval"] / seq["ask_s_per_eval"]
                    row |= _test(tests, problem, label, f"{name}{_SEP}1")
                    row["time_ratio"] = float(np.median(ratio.to_numpy(dtype=float)))
                    if row["winner"] is not None:  # "ardlib@q4" -> "q4"
                        row["winner"] = "q" + row["winner"].rsplit(_SEP, 1)[1]
                rows.append(row)
    return pd.DataFrame(rows)


def _peer_table(
    settings: dict[str, Any], tests: _Tests, times: pd.DataFrame, regret: pd.Series, rng: int
) -> pd.DataFrame:
    """Rows of :attr:`BatchComparison.peers`."""
    planners = settings["planners"]
    rows = []
    for problem in settings["problems"]:
        for q in planners["ardlib"][1:]:
            ref = f"ardlib{_SEP}{q}"
            for peer in [p for p, sizes in planners.items() if p != "ardlib" and q in sizes]:
                label = f"{peer}{_SEP}{q}"
                t_ref, t_peer = times.loc[(problem, ref)], times.loc[(problem, label)]
                speedup, low, high = _median_ratio(t_peer["ask_s"], t_ref["ask_s"], rng)
                test = _test(tests, problem, label, ref)  # peer - ardlib
                winner = test["winner"] and test["winner"].rsplit(_SEP, 1)[0]
                rows.append(
                    {
                        "problem": problem, "batch_size": q, "peer": peer, "n": len(t_ref),
                        "ask_s_ref": float(t_ref["ask_s"].median()),
                        "ask_s_peer": float(t_peer["ask_s"].median()),
                        "speedup": speedup, "speedup_low": low, "speedup_high": high,
                        "regret_ref": float(regret[(problem, ref)]),
                        "regret_peer": float(regret[(problem, label)]),
                        "median_diff": -test["median_diff"],  # ardlib - peer
                        "p_value": test["p_value"], "p_holm": test["p_holm"],
                        "winner": winner,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows, columns=_PEER_COLUMNS)


_PEER_COLUMNS = [
    "problem", "batch_size", "peer", "n", "ask_s_ref", "ask_s_peer", "speedup", "speedup_low",
    "speedup_high", "regret_ref", "regret_peer", "median_diff", "p_value", "p_holm", "winner",
]  # fmt: skip


def compare_batches(
    results: Sequence[StudyResult], *, alpha: float = 0.05, rng: int = 0
) -> BatchComparison:
    """Analyse the runs of :func:`batch_studies`: batches against sequential, ardlib against peers.

    Parameters
    ----------
    results : sequence of StudyResult
        One run per batch size (of the studies :func:`batch_studies` returns).
    alpha : float, default 0.05
        Family-wise error rate over every comparison of both tables (one Holm family).
    rng : int, default 0
        Seeds the bootstrap intervals of the time ratios.

    Returns
    -------
    BatchComparison

    Raises
    ------
    ValueError
        If the runs repeat a batch size, lack ``q = 1`` for a planner, differ in budget,
        replicates or master seed, or hold nothing to compare.
    RuntimeError
        If two runs of one replicate asked different initial designs.
    """
    frame, timings, settings = _combine(results)
    n_initial = settings["n_initial"]
    _check_paired(frame, n_initial, ref=f"ardlib{_SEP}1")
    family = holm_across(_families(frame, settings["planners"], alpha))
    tests: _Tests = {
        (str(r["problem"]), str(r["planner_a"]), str(r["planner_b"])): r
        for c in family
        for r in c.table.to_dict(orient="records")
    }
    times = _times(timings, n_initial)
    final = frame[frame["step"] == frame["step"].max()]
    regret = final.groupby(["problem", "planner"])["regret_rec"].median()
    settings |= {"alpha": alpha, "family_size": len(tests)}
    table = _batch_table(settings, tests, times, regret)
    peers = _peer_table(settings, tests, times, regret, rng)
    return BatchComparison(table, peers, peer_versions(), settings)


def run_batches(
    problems: Sequence[str],
    batch_sizes: Sequence[int] = (1, 4, 8),
    planners: Sequence[str] = ("ardlib",),
    *,
    peer_batch_sizes: Sequence[int] | None = None,
    budget: int = 40,
    replicates: int = 10,
    store: str | os.PathLike[str] = "data/benchmarks/batch_store",
    max_workers: int = 1,
    progress: bool = True,
) -> BatchComparison:
    """Run :func:`batch_studies` into one store and :func:`compare_batches` the runs.

    Parameters
    ----------
    problems, batch_sizes, planners, peer_batch_sizes, budget, replicates
        See :func:`batch_studies`.
    store : path, default "data/benchmarks/batch_store"
        The result store of every study (an interrupted run resumes; cells shared with an
        earlier run, e.g. ``q = 1`` of a peer study with the same settings, are reused).
    max_workers : int, default 1
        Worker processes; one keeps timings free of contention.
    progress : bool, default True
        Show each study's progress bar.

    Returns
    -------
    BatchComparison

    Raises
    ------
    ValueError
        As :func:`batch_studies`, before anything runs.
    """
    studies = batch_studies(
        problems,
        batch_sizes,
        planners,
        peer_batch_sizes=peer_batch_sizes,
        budget=budget,
        replicates=replicates,
    )
    runs = [s.run(store, max_workers=max_workers, progress=progress) for s in studies]
    return compare_batches(runs)
