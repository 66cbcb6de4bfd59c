"""The validation report's computations: the accuracy table, and plain-language conclusions
that say only what the table shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ardlib.objectives import Branin, _registry, list_problems
from ardlib.reports import _validation, accuracy_table
from ardlib.reports._validation import describe_comparison


def _row(noise: str, a: str, b: str, p: float, winner: str | None) -> dict[str, object]:
    return {
        "problem": "branin",
        "noise": noise,
        "planner_a": a,
        "planner_b": b,
        "p_holm": p,
        "a12": 0.1,
        "significant": p <= 0.05,
        "winner": winner if winner is not None else np.nan,
    }


def test_best_only_when_significantly_better_than_every_other_planner() -> None:
    table = pd.DataFrame(
        [
            _row("sd0", "gpbo", "random", 1e-6, "gpbo"),
            _row("sd0", "gpbo", "sobol", 1e-5, "gpbo"),
            _row("sd0", "random", "sobol", 0.8, None),
            _row("sd1", "gpbo", "random", 1e-3, "gpbo"),
            _row("sd1", "gpbo", "sobol", 0.3, None),
            _row("sd1", "random", "sobol", 0.9, None),
            _row("sd2", "gpbo", "random", 0.4, None),
            _row("sd2", "gpbo", "sobol", 0.6, None),
            _row("sd2", "random", "sobol", 0.9, None),
        ]
    )
    lines = describe_comparison(table, problem="branin", metric_label="regret")
    assert lines[0].startswith("sd0: gpbo best; gpbo < random (Holm p = 1.0e-06")
    # a12 = P(a > b) = 0.1 with gpbo as planner_a: gpbo is lower with probability 0.9
    assert lines[1] == "sd1: gpbo < random (Holm p = 1.0e-03, A12 = 0.90)."
    assert lines[2] == "sd2: no planner differs significantly on regret."


def test_a12_is_stated_from_the_winners_side_whichever_planner_sorts_first() -> None:
    first = {**_row("sd0", "alpha", "zeta", 1e-3, "alpha"), "a12": 0.24}
    second = {**_row("sd1", "alpha", "zeta", 1e-3, "zeta"), "a12": 0.76}
    lines = describe_comparison(pd.DataFrame([first, second]), problem="branin", metric_label="r")
    assert lines == [
        "sd0: alpha best; alpha < zeta (Holm p = 1.0e-03, A12 = 0.76).",
        "sd1: zeta best; zeta < alpha (Holm p = 1.0e-03, A12 = 0.76).",
    ]


def test_planners_that_each_beat_a_baseline_are_not_called_best() -> None:
    # With a baseline, gpbo and sobol are each compared with random only.
    table = pd.DataFrame(
        [
            _row("sd0", "gpbo", "random", 1e-6, "gpbo"),
            _row("sd0", "sobol", "random", 1e-4, "sobol"),
        ]
    )
    (line,) = describe_comparison(table, problem="branin", metric_label="regret")
    assert "best" not in line and line.startswith("sd0: gpbo < random")


def test_bands_cover_every_step_where_two_replicates_have_a_value() -> None:
    # Replicate 0 fails its first 3 experiments (NaN regret), the others never fail: the
    # band exists from step 0 on, over the replicates with a value.
    rows = []
    for rep in range(6):
        for step in range(8):
            value = np.nan if rep == 0 and step < 3 else 10.0 / (step + 1) + rep
            rows.append(("branin", "sd0", "gpbo", rep, step, value))
    cols = ["problem", "noise", "planner", "replicate", "step", "regret_rec"]
    bands = _validation.convergence_bands(pd.DataFrame(rows, columns=cols), n_resamples=199)
    assert bands["low"].notna().all() and bands["high"].notna().all()
    assert bands["n"].tolist() == [5, 5, 5, 6, 6, 6, 6, 6]
    assert (bands["low"] <= bands["median"]).all() and (bands["median"] <= bands["high"]).all()
    early = 10.0 / 1 + np.array([1, 2, 3, 4, 5])
    assert bands["median"].iloc[0] == np.median(early)  # the failed replicate is left out


@pytest.mark.slow
def test_summarize_study_describes_a_saved_study(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from ardlib.objectives import GaussianNoise
    from ardlib.reports import summarize_study
    from ardlib.study import NoiseSpec, PlannerSpec, ProblemSpec, Study, load_study

    study = Study(
        problems=[ProblemSpec("branin")],
        planners=[
            PlannerSpec("random", "ardlib.planners.RandomSearch"),
            PlannerSpec("sobol", "ardlib.planners.Sobol"),
        ],
        noises=[None, NoiseSpec("sd1", GaussianNoise(sd=1.0))],
        replicates=6,
        budget=8,
        master_seed=3,
    )
    with ThreadPoolExecutor(1) as pool:  # a process pool would add seconds of start-up
        result = study.run(tmp_path / "store", executor=pool, progress=False)
    saved = load_study(result.save(tmp_path / "tiny.parquet"))
    s = summarize_study(saved, n_resamples=199, rng=1)
    assert (s.name, s.problem, s.budget, s.replicates) == ("tiny", "branin", 8, 6)
    assert s.failed_share == 0.0 and s.digest == result.digest
    assert len(s.conclusions) == 2  # one statement per noise level
    medians = s.final_medians()
    assert sorted(medians) == ["none/random", "none/sobol", "sd1/random", "sd1/sobol"]
    assert all(v["low"] <= v["median"] <= v["high"] for v in medians.values())
    assert set(s.bands["planner"]) == {"random", "sobol"} and s.bands["step"].max() == 7
    again = summarize_study(saved, n_resamples=199, rng=1)
    assert again.final_medians() == medians  # seeded bootstrap: same numbers
    assert s.family.startswith("Holm over the 2 comparisons of this study")
    from ardlib.reports import summarize_studies

    both = summarize_studies([saved, saved], n_resamples=199, rng=1)
    assert [b.family for b in both] == [both[0].family] * 2
    assert both[0].family.startswith("Holm over the 4 comparisons of 2 studies")
    assert both[0].comparison.n_comparisons == 4
    assert (both[0].comparison.table["p_holm"] >= s.comparison.table["p_holm"]).all()


def test_accuracy_table_has_one_passing_row_per_analytic_problem() -> None:
    acc = accuracy_table(n_points=2, rng=0)
    assert acc.columns.tolist() == [
        "problem",
        "dim",
        "optimal_value",
        "optimum_ulps_stored",
        "optimum_ulps_reference",
        "random_ulps_max",
        "random_ulps_median",
        "passed",
    ]
    assert acc["problem"].tolist() == [n for n in list_problems() if ":" not in n]
    assert acc["passed"].all()
    assert acc.drop(columns="optimal_value").notna().all().all()


def test_accuracy_table_fails_a_wrong_stored_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    class OffBranin(Branin):
        optimal_value = Branin.optimal_value + 1e-12  # about 18,000 ulps of 0.398

    monkeypatch.setitem(_registry._REGISTRY, "off_branin", OffBranin)
    monkeypatch.setattr(_validation, "list_problems", lambda: ["branin", "off_branin"])
    rows = accuracy_table(n_points=2, rng=0).to_dict("records")
    assert [(r["problem"], r["passed"]) for r in rows] == [("branin", True), ("off_branin", False)]
    assert rows[1]["optimum_ulps_stored"] > 64
