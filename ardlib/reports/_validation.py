"""Computations behind the validation report (``notebooks/validation.ipynb``).

The notebook orchestrates and explains; every number it shows comes from these functions,
which are tested like the rest of the library.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import bootstrap

from .._rng import RNGLike, as_generator
from ..objectives import check_ground_truth, list_problems
from ..stats import Comparison, compare_planners, holm_across

if TYPE_CHECKING:
    from ..study import SavedStudy

__all__ = [
    "ReproducibilityResult",
    "SentinelResult",
    "StudySummary",
    "accuracy_table",
    "convergence_bands",
    "describe_comparison",
    "plot_convergence",
    "reproducibility_check",
    "sentinel_check",
    "summarize_studies",
    "summarize_study",
]


def accuracy_table(n_points: int = 20, *, max_ulps: float = 64.0, rng: RNGLike = 0) -> pd.DataFrame:
    """Every registered analytic problem against the independent 50-digit reference.

    One :func:`ardlib.objectives.check_ground_truth` per problem: the worst error at its
    stored optimizers (against its stored ``optimal_value`` and against the reference) and
    at ``n_points`` uniform random points in the box (against the reference), in ulps of
    the one scale rule of :func:`ardlib.objectives.ulps`.

    Parameters
    ----------
    n_points : int, default 20
        Random points per problem.
    max_ulps : float, default 64.0
        Tolerance of every error.
    rng : int or Generator
        Draws the random points (one generator across problems, in registry order).

    Returns
    -------
    DataFrame
        One row per problem: ``problem``, ``dim``, ``optimal_value``,
        ``optimum_ulps_stored``, ``optimum_ulps_reference``, ``random_ulps_max``,
        ``random_ulps_median``, ``passed`` (all errors <= ``max_ulps``).
    """
    gen = as_generator(rng)
    rows = [
        asdict(check_ground_truth(name, max_ulps=max_ulps, n_points=n_points, rng=gen))
        for name in list_problems()
        if ":" not in name  # emulators have no closed form to check
    ]
    return pd.DataFrame(rows).drop(columns="max_ulps")


@dataclass(frozen=True)
class ReproducibilityResult:
    """Digests of the same small study computed four ways.

    Attributes
    ----------
    digests : dict
        ``{"1 worker", "2 workers", "rerun", "threads"}`` -> SHA-256 of the combined parquet.
    passed : bool
        All digests equal.
    n_cells : int
    """

    digests: dict[str, str]
    passed: bool
    n_cells: int


def reproducibility_check(
    *, budget: int = 12, replicates: int = 2, master_seed: int = 0
) -> ReproducibilityResult:
    """Run a small Branin study (random, Sobol, GP-BO; noise-free and noisy) with 1 process
    worker, 2 process workers, again with 2, and on a thread pool, each in a fresh store,
    and compare the SHA-256 of the combined result files.

    Parameters
    ----------
    budget : int, default 12
        Evaluations per campaign.
    replicates : int, default 2
        Replicates per (noise, planner).
    master_seed : int, default 0
        The study's master seed.

    Returns
    -------
    ReproducibilityResult
    """
    from ..study import NoiseSpec, PlannerSpec, ProblemSpec, Study

    study = Study(
        problems=[ProblemSpec("branin")],
        planners=[
            PlannerSpec("random", "ardlib.planners.RandomSearch"),
            PlannerSpec("sobol", "ardlib.planners.Sobol"),
            PlannerSpec("gpbo", "ardlib.planners.BayesianOptimization"),
        ],
        noises=[NoiseSpec("sd0"), NoiseSpec("sd1", {"model": "GaussianNoise", "sd": 1.0})],
        replicates=replicates,
        budget=budget,
        master_seed=master_seed,
    )
    digests = {}
    runs: list[tuple[str, dict[str, Any]]] = [
        ("1 worker", {"max_workers": 1}),
        ("2 workers", {"max_workers": 2}),
        ("rerun", {"max_workers": 2}),
    ]
    for label, kw in runs:
        with tempfile.TemporaryDirectory() as tmp:
            digests[label] = study.run(tmp, progress=False, **kw).digest
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        digests["threads"] = study.run(tmp, executor=pool, progress=False).digest
    return ReproducibilityResult(
        digests=digests, passed=len(set(digests.values())) == 1, n_cells=len(study.cells())
    )


def convergence_bands(
    results: pd.DataFrame,
    *,
    metric: str = "regret_rec",
    confidence: float = 0.95,
    n_resamples: int = 999,
    rng: RNGLike = 0,
) -> pd.DataFrame:
    """Median of ``metric`` over replicates per (problem, noise, planner, step), with a
    percentile-bootstrap confidence band of the median (scipy.stats.bootstrap, vectorized
    over steps).

    At each step only the replicates with a finite value count (regret is NaN before a
    campaign's first successful experiment): a replicate whose early experiments failed
    leaves the band of the steps before its first success, not every step.  ``n`` says
    how many replicates a step's median and band rest on; fewer than two give no band.

    Parameters
    ----------
    results : DataFrame
        Study results (one row per cell and step).
    metric : str, default "regret_rec"
        The column summarized.
    confidence : float, default 0.95
        Confidence level of the band.
    n_resamples : int, default 999
        Bootstrap resamples.
    rng : int or Generator
        Seeds the bootstrap.

    Returns
    -------
    DataFrame
        Columns ``problem``, ``noise``, ``planner``, ``step``, ``evaluations`` (step + 1),
        ``median``, ``low``, ``high``, ``n`` (replicates with a finite value at the step).
    """
    gen = as_generator(rng)
    out = []
    for (prob, noise, planner), g in results.groupby(["problem", "noise", "planner"], sort=True):
        wide = g.pivot(index="replicate", columns="step", values=metric).sort_index(axis=1)
        A: NDArray[np.float64] = wide.to_numpy(dtype=float)
        finite = np.isfinite(A)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps: median NaN
            med = np.nanmedian(A, axis=0)
        low, high = np.full_like(med, np.nan), np.full_like(med, np.nan)
        # Steps sharing one set of finite replicates are bootstrapped together (one call
        # per distinct set; with failures only early in a campaign there are few).
        patterns: dict[bytes, list[int]] = {}
        for j in range(A.shape[1]):
            if finite[:, j].sum() > 1:
                patterns.setdefault(finite[:, j].tobytes(), []).append(j)
        for cols in patterns.values():
            rows = finite[:, cols[0]]
            res = bootstrap(
                (A[np.ix_(rows, np.asarray(cols))],),
                np.median,
                axis=0,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method="percentile",
                rng=gen,
                vectorized=True,
            )
            low[cols], high[cols] = res.confidence_interval.low, res.confidence_interval.high
        out.append(
            pd.DataFrame(
                {
                    "problem": prob,
                    "noise": noise,
                    "planner": planner,
                    "step": wide.columns.to_numpy(),
                    "evaluations": wide.columns.to_numpy() + 1,
                    "median": med,
                    "low": low,
                    "high": high,
                    "n": finite.sum(axis=0),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def describe_comparison(table: pd.DataFrame, *, problem: str, metric_label: str) -> list[str]:
    """Plain-language statements, one per noise level, of what a comparison table shows.

    Every statement is derived from the table (winner, Holm-adjusted p, A12). A planner is
    called best only when it was compared with every other planner of its cell and is
    significantly better than each (with a baseline, planners that beat it are not
    compared with each other, so none is called best).  ``A12`` is given from the
    winner's side: the probability that the winner's value is below the loser's (ties
    count half), so it is above 0.5 in every "winner < loser" statement.

    Parameters
    ----------
    table : DataFrame
        :attr:`ardlib.stats.Comparison.table`.
    problem : str
        The problem whose rows are described.
    metric_label : str
        How the statements name the compared metric.

    Returns
    -------
    list of str
    """
    lines = []
    t = table[table["problem"] == problem]
    for noise, g in t.groupby("noise", sort=False):
        sig = g[g["significant"]]
        if sig.empty:
            lines.append(f"{noise}: no planner differs significantly on {metric_label}.")
            continue
        planners = set(g["planner_a"]) | set(g["planner_b"])
        pairs = {
            frozenset((a, b)): w
            for a, b, w in zip(g["planner_a"], g["planner_b"], g["winner"], strict=True)
        }
        best = [
            p
            for p in sorted(planners)
            if all(pairs.get(frozenset((p, q))) == p for q in planners - {p})
        ]
        parts = []
        for _, r in sig.iterrows():
            first = r["winner"] == r["planner_a"]
            loser = r["planner_b"] if first else r["planner_a"]
            a12_winner = 1.0 - r["a12"] if first else r["a12"]  # a12 = P(a > b): a lower wins
            parts.append(
                f"{r['winner']} < {loser} (Holm p = {r['p_holm']:.1e}, A12 = {a12_winner:.2f})"
            )
        lead = f"{', '.join(best)} best; " if best else ""
        lines.append(f"{noise}: {lead}" + "; ".join(parts) + ".")
    return lines


@dataclass(frozen=True)
class SentinelResult:
    """The report's sentinel comparison.

    Attributes
    ----------
    passed : bool
    p_holm : float
    winner : str or None
    row : dict
        The comparison row (planner_a, planner_b, n, median_diff, a12, ...).
    """

    passed: bool
    p_holm: float
    winner: str | None
    row: dict[str, Any] = field(default_factory=dict)


def sentinel_check(
    results: pd.DataFrame,
    *,
    budget: int = 30,
    alpha: float = 0.001,
    better: str = "gpbo",
    worse: str = "random",
    noise: str | None = None,
    metric: str = "regret_rec",
) -> SentinelResult:
    """Does ``better`` beat ``worse`` at ``budget`` evaluations with Holm-corrected
    ``p < alpha``? The Holm family is every planner pair at every noise level of the
    results at that step.

    Parameters
    ----------
    results : DataFrame
        Study results.
    budget : int, default 30
        Judged after this many evaluations.
    alpha : float, default 0.001
        The Holm-corrected p-value must be below it.
    better, worse : str
        The planner expected to win and the one expected to lose.
    noise : str, optional
        The noise label judged; default the first label in sorted order (the noise-free
        setting in the standard study).
    metric : str, default "regret_rec"
        The compared column.

    Returns
    -------
    SentinelResult

    Raises
    ------
    ValueError
        If the results hold no comparison of ``better`` and ``worse`` at ``noise``.
    """
    at = results[results["step"] == budget - 1]
    comp = compare_planners(at, metric=metric, step=budget - 1, ci=False)
    t = comp.table
    noise = noise if noise is not None else sorted(t["noise"].unique())[0]
    pair = t[
        (t["noise"] == noise)
        & t["planner_a"].isin([better, worse])
        & t["planner_b"].isin([better, worse])
    ]
    if pair.empty:
        raise ValueError(f"No comparison of {better!r} and {worse!r} at noise {noise!r}.")
    r = {str(k): v for k, v in pair.iloc[0].to_dict().items()}
    winner = None if pd.isna(r["winner"]) else str(r["winner"])
    passed = bool(winner == better and r["p_holm"] < alpha)
    return SentinelResult(passed=passed, p_holm=float(r["p_holm"]), winner=winner, row=r)


def plot_convergence(bands: pd.DataFrame, *, problem: str, ylabel: str, log: bool = True) -> Any:
    """Median curves with confidence bands, one panel per noise level, one colour per
    planner (fixed across figures); planners and noise levels by their human names
    (:func:`display_label`).

    Parameters
    ----------
    bands : DataFrame
        :func:`convergence_bands` output.
    problem : str
        The problem drawn.
    ylabel : str
        Label of the y axis.  The title is ``"<problem>: <ylabel>"``: a report showing two
        metrics of one problem (the same panels, other values) must say which is which.
    log : bool, default True
        Logarithmic y axis.

    Returns
    -------
    matplotlib.figure.Figure
        One journal column wide (3.5 in) for one noise level, two (7.16 in) for more.
    """
    import matplotlib.pyplot as plt

    from ._style import COLUMN_WIDTHS, display_label, planner_color

    b = bands[bands["problem"] == problem]
    noises = list(dict.fromkeys(b["noise"]))
    # one panel: one journal column; more: two columns wide, panels side by side
    width = COLUMN_WIDTHS[1] if len(noises) == 1 else COLUMN_WIDTHS[2]
    height = 2.6 if len(noises) <= 3 else 2.2
    fig, axes = plt.subplots(1, len(noises), figsize=(width, height), sharey=True, squeeze=False)
    for ax, noise in zip(axes[0], noises, strict=True):
        for planner, g in b[b["noise"] == noise].groupby("planner", sort=True):
            c = planner_color(str(planner))
            ax.plot(g["evaluations"], g["median"], color=c, label=display_label(str(planner)))
            ax.fill_between(g["evaluations"], g["low"], g["high"], color=c, alpha=0.2, lw=0)
        ax.set_title(display_label(str(noise)))
        ax.set_xlabel("evaluations")
        if log:
            ax.set_yscale("log")
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(frameon=False, fontsize="small")
    fig.suptitle(f"{problem}: {ylabel}")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class StudySummary:
    """One study's section of the validation report, computed by :func:`summarize_study`.

    Attributes
    ----------
    name, problem : str
        The study's name and its (first) problem.
    comparison : ardlib.stats.Comparison
        Paired, Holm-corrected comparison of the final ``metric`` per noise level.
    bands : DataFrame
        :func:`convergence_bands` of ``metric``.
    conclusions : list of str
        :func:`describe_comparison` of the comparison.
    budget, replicates : int
        Evaluations per campaign and paired replicates.
    failed_share : float
        Share of experiments that failed.
    digest : str
        SHA-256 of the study's results file.
    family : str
        The multiplicity family of the comparison's Holm correction, in words.
    """

    name: str
    problem: str
    comparison: Any
    bands: pd.DataFrame
    conclusions: list[str]
    budget: int
    replicates: int
    failed_share: float
    digest: str
    family: str

    def final_medians(self) -> dict[str, dict[str, float]]:
        """Median final value with its CI per planner.

        Returns
        -------
        dict
            ``planner`` (``noise/planner`` when there are several noise levels) ->
            ``{"median", "low", "high"}``.
        """
        s = self.comparison.summary
        several = s["noise"].nunique() > 1
        return {
            (f"{r.noise}/{r.planner}" if several else str(r.planner)): {
                "median": float(r.median),
                "low": float(r.median_low),
                "high": float(r.median_high),
            }
            for r in s.itertuples()
        }


def summarize_study(
    saved: SavedStudy,
    *,
    metric: str = "regret_rec",
    metric_label: str = "regret at the recommendation",
    alpha: float = 0.05,
    n_resamples: int = 999,
    rng: RNGLike = 0,
) -> StudySummary:
    """Compare the planners of a saved study and describe the result in words.

    Parameters
    ----------
    saved : ardlib.study.SavedStudy
        A study read with :func:`ardlib.study.load_study`.
    metric : str, default "regret_rec"
        The compared column.
    metric_label : str
        How the conclusions name the metric.
    alpha : float, default 0.05
        Family-wise error rate of the Holm-corrected comparison.
    n_resamples : int, default 999
        Bootstrap resamples of the confidence intervals and bands.
    rng : int or Generator
        Seeds the comparison's and the bands' bootstrap (an int seeds each afresh).

    Returns
    -------
    StudySummary
    """
    res = saved.results
    comp = compare_planners(res, metric=metric, alpha=alpha, n_resamples=n_resamples, rng=rng)
    return _summary(saved, comp, metric, metric_label, n_resamples, rng, _family(comp, 1))


def _family(comp: Comparison, n_studies: int) -> str:
    studies = "this study" if n_studies == 1 else f"{n_studies} studies"
    return (
        f"Holm over the {comp.n_comparisons} comparisons of {studies} (every noise level "
        f"and planner pair, final {comp.metric}; family-wise error {comp.alpha:g})"
    )


def _summary(
    saved: SavedStudy,
    comp: Comparison,
    metric: str,
    metric_label: str,
    n_resamples: int,
    rng: RNGLike,
    family: str,
) -> StudySummary:
    res = saved.results
    problem = str(res["problem"].iloc[0])
    return StudySummary(
        name=saved.record.study,
        problem=problem,
        comparison=comp,
        bands=convergence_bands(res, metric=metric, n_resamples=n_resamples, rng=rng),
        conclusions=describe_comparison(comp.table, problem=problem, metric_label=metric_label),
        budget=int(res["step"].max()) + 1,
        replicates=int(res["replicate"].nunique()),
        failed_share=float(res["failed"].mean()),
        digest=saved.digest,
        family=family,
    )


def summarize_studies(
    saved: Sequence[SavedStudy],
    *,
    metric: str = "regret_rec",
    metric_label: str = "regret at the recommendation",
    alpha: float = 0.05,
    n_resamples: int = 999,
    rng: RNGLike = 0,
) -> list[StudySummary]:
    """:func:`summarize_study` of several studies, with one Holm family over all of them.

    A report section that states conclusions about several studies (the lab problems)
    controls the family-wise error of what it states only when the correction spans
    every comparison in it (:func:`ardlib.stats.holm_across`).

    Parameters
    ----------
    saved : sequence of ardlib.study.SavedStudy
        The studies, in the order of the section.
    metric, metric_label, alpha, n_resamples, rng
        As in :func:`summarize_study` (an int ``rng`` seeds each study afresh).

    Returns
    -------
    list of StudySummary
        In the given order (empty for no studies); each ``family`` names the whole family.
    """
    items = list(saved)
    if not items:
        return []
    comps = holm_across(
        [
            compare_planners(
                s.results, metric=metric, alpha=alpha, n_resamples=n_resamples, rng=rng
            )
            for s in items
        ]
    )
    return [
        _summary(s, c, metric, metric_label, n_resamples, rng, _family(c, len(items)))
        for s, c in zip(items, comps, strict=True)
    ]
