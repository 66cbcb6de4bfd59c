"""Tables and figures of the test-selection report (``notebooks/test_selection.ipynb``).

:func:`dataset_summary` and :func:`kind_table` describe the mutants; :func:`plot_selection_curves`
draws recall against the share of test-seconds for every method of a split;
:func:`misses_table` says where the model loses to coverage selection;
:func:`seed_claim_table` puts the seed's "70 % CI time reduction" next to what was measured.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._evaluate import SelectionEvaluation, SplitResult
from ._load import SelectionData

__all__ = [
    "SEED_CLAIM",
    "dataset_summary",
    "kind_table",
    "misses_table",
    "plot_selection_curves",
    "seed_claim_table",
]

# The deployment plan's figure: "70 % CI time reduction", computed as 90 s x (1 - recall)
# on 100 synthetic rows (no test was run, no change was faulty).
SEED_CLAIM = {
    "time_reduction": 0.70,
    "suite_seconds": 90.0,
    "basis": "90 s x (1 - recall) on 100 synthetic rows",
}


def dataset_summary(data: SelectionData) -> dict[str, Any]:
    """Counts of a dataset: tests, test-seconds, mutants, covered and killed shares.

    Parameters
    ----------
    data : SelectionData
        From :func:`~ardlib.testsel.load_selection_data`.

    Returns
    -------
    dict
        ``revision``, ``n_tests``, ``total_seconds``, ``n_mutants``, ``n_covered`` (some
        test executes the line and the tests ran), ``n_killed``, ``killed_share`` (of
        covered, unweighted), ``killed_share_weighted`` (by sampling weight), ``n_modules``,
        ``n_outcomes``, ``n_coverage_lines``, ``statuses`` (mutants per status).
    """
    m = data.mutants
    covered = m[m["usable"]]
    return {
        "revision": data.revision,
        "n_tests": len(data.tests),
        "total_seconds": data.total_seconds,
        "n_mutants": len(m),
        "n_covered": len(covered),
        "n_killed": int(covered["killed"].sum()),
        "killed_share": float(covered["killed"].mean()) if len(covered) else 0.0,
        "killed_share_weighted": float(
            (covered["killed"] * covered["weight"]).sum() / covered["weight"].sum()
        )
        if len(covered)
        else 0.0,
        "statuses": {str(k): int(v) for k, v in m["status"].value_counts().items()}
        if "status" in m
        else {},
        "n_modules": int(m["module"].nunique()),
        "n_outcomes": len(data.outcomes),
        "n_coverage_lines": len(data.coverage[["path", "line"]].drop_duplicates()),
    }


def kind_table(data: SelectionData) -> pd.DataFrame:
    """Mutants per operator family: how many, covered, killed, killed share of covered.

    Parameters
    ----------
    data : SelectionData
        From :func:`~ardlib.testsel.load_selection_data`.

    Returns
    -------
    DataFrame
        Indexed by ``kind``; columns ``mutants``, ``covered``, ``killed``, ``killed_share``.
    """
    m = data.mutants.assign(covered=data.mutants["usable"])
    m["killed_cov"] = m["killed"] & m["covered"]
    out = m.groupby("kind").agg(
        mutants=("mutant_id", "size"), covered=("covered", "sum"), killed=("killed_cov", "sum")
    )
    out["killed_share"] = out["killed"] / out["covered"].where(out["covered"] > 0)
    return out.sort_values("mutants", ascending=False)


def misses_table(result: SplitResult) -> pd.DataFrame:
    """Where the model loses to coverage selection: its missed changes by module and kind.

    Coverage selection catches every killed change by construction (only tests executing
    the mutated line were run, so a killing test executes it), so the model's misses are
    exactly its losses to coverage.

    Parameters
    ----------
    result : SplitResult
        One split of :func:`~ardlib.testsel.evaluate_selection`.

    Returns
    -------
    DataFrame
        One row per (module, kind) with missed changes: ``missed``, ``killed`` (held-out
        killed changes there), ``failing_tests`` (mean number of tests that catch a missed
        change), sorted by ``missed``.
    """
    held = result.per_change
    killed = held[held["killed"]].groupby(["module", "kind"]).size().rename("killed")
    if result.misses.empty:
        return pd.DataFrame(columns=["missed", "killed", "failing_tests"])
    g = result.misses.groupby(["module", "kind"])
    out = pd.DataFrame({"missed": g.size(), "failing_tests": g["n_failing"].mean()})
    out = out.join(killed)
    return out[["missed", "killed", "failing_tests"]].sort_values("missed", ascending=False)


def plot_selection_curves(result: SplitResult, *, title: str | None = None) -> Any:
    """Recall of faulty changes against the share of test-seconds run, per method.

    Parameters
    ----------
    result : SplitResult
        One split of :func:`~ardlib.testsel.evaluate_selection`.
    title : str, optional
        Axes title (default: the split's name).

    Returns
    -------
    matplotlib.figure.Figure
        The model's curve (threshold swept), random selection's curve (budget swept),
        coverage and heuristic selection as points, and the model's operating point with
        its bootstrap intervals.
    """
    import matplotlib.pyplot as plt

    from .._palette import OKABE_ITO

    blue, vermillion, green, sky = OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[3], OKABE_ITO[2]
    colors = {"model": blue, "coverage": vermillion, "heuristic": green, "random": sky}
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    c = result.curves
    for m in ("model", "random"):
        part = c[c["method"] == m].sort_values("seconds_share")
        ax.plot(part["seconds_share"], part["recall"], color=colors[m], label=f"{m} (swept)")
    for m in ("coverage", "heuristic"):
        r = result.methods[m]
        ax.errorbar(
            [r.seconds_share],
            [r.recall],
            fmt="s",
            color=colors[m],
            label=m,
            xerr=[
                [r.seconds_share - r.seconds_share_low],
                [r.seconds_share_high - r.seconds_share],
            ],
            yerr=[[r.recall - r.recall_low], [r.recall_high - r.recall]],
        )
    r = result.methods["model"]
    ax.errorbar(
        [r.seconds_share],
        [r.recall],
        fmt="o",
        color=colors["model"],
        ms=8,
        xerr=[[r.seconds_share - r.seconds_share_low], [r.seconds_share_high - r.seconds_share]],
        yerr=[[r.recall - r.recall_low], [r.recall_high - r.recall]],
        label="model, operating point",
    )
    ax.set_xlabel("share of the fast tier's test-seconds run per change")
    ax.set_ylabel("faulty changes caught (recall)")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or result.split.name.replace("_", "-"))
    ax.legend(loc="lower right", fontsize="small")
    return fig


def seed_claim_table(evaluation: SelectionEvaluation) -> pd.DataFrame:
    """The seed's "70 % CI time reduction" next to the measured reductions.

    Parameters
    ----------
    evaluation : SelectionEvaluation
        From :func:`~ardlib.testsel.evaluate_selection`.

    Returns
    -------
    DataFrame
        One row for the claim and one per (split, method): ``time_reduction`` (1 minus the
        share of test-seconds run), ``recall``, ``suite_seconds`` and ``basis``.
    """
    rows = [
        {
            "source": "seed claim",
            "split": "",
            "method": "",
            "recall": float("nan"),
            "time_reduction": SEED_CLAIM["time_reduction"],
            "suite_seconds": SEED_CLAIM["suite_seconds"],
            "basis": SEED_CLAIM["basis"],
        }
    ]
    for name, res in evaluation.splits.items():
        for m, r in res.methods.items():
            rows.append(
                {
                    "source": "measured",
                    "split": name,
                    "method": m,
                    "recall": r.recall,
                    "time_reduction": 1.0 - r.seconds_share,
                    "suite_seconds": evaluation.total_seconds,
                    "basis": f"{r.n_killed} killed of {r.n_changes} held-out mutants",
                }
            )
    return pd.DataFrame(rows)
