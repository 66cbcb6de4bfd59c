"""compare_regrets: the study-group test, its Holm family, verdicts and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_regress_support import study_frame

from ardlib.regress import FAILING, compare_regrets

G = ("branin", "sd0", "gpbo")
H = ("branin", "sd0", "random")


def verdicts(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["name"], table["verdict"], strict=True))


def test_fully_separated_samples_of_five_give_the_exact_mann_whitney_p_value() -> None:
    # Exact null distribution: P(U = 25) = 1 / C(10, 5) = 1/252, two-sided twice that.
    base = study_frame({G: [1.0, 2.0, 3.0, 4.0, 5.0]})
    cur = study_frame({G: [6.0, 7.0, 8.0, 9.0, 10.0]})
    row = compare_regrets(base, cur, alpha=0.01).iloc[0]
    assert row["p_value"] == pytest.approx(2 / 252)
    assert row["p_holm"] == pytest.approx(2 / 252)
    assert row["effect"] == 1.0  # every current run worse than every baseline run
    assert (row["baseline"], row["current"]) == (3.0, 8.0)
    assert (row["n_baseline"], row["n_current"]) == (5, 5)
    assert row["verdict"] == "regressed"


def test_holm_adjusts_over_every_group_so_two_such_groups_no_longer_reach_alpha() -> None:
    base = study_frame({G: [1.0, 2.0, 3.0, 4.0, 5.0], H: [1.0, 2.0, 3.0, 4.0, 5.0]})
    cur = study_frame({G: [6.0, 7.0, 8.0, 9.0, 10.0], H: [6.0, 7.0, 8.0, 9.0, 10.0]})
    table = compare_regrets(base, cur, alpha=0.01)
    assert table["p_holm"].tolist() == pytest.approx([4 / 252, 4 / 252])
    assert set(table["verdict"]) == {"pass"}
    assert set(compare_regrets(base, cur, alpha=0.02)["verdict"]) == {"regressed"}


def test_lower_regret_is_reported_as_improved_and_does_not_fail() -> None:
    base = study_frame({G: [6.0, 7.0, 8.0, 9.0, 10.0]})
    cur = study_frame({G: [1.0, 2.0, 3.0, 4.0, 5.0]})
    row = compare_regrets(base, cur, alpha=0.01).iloc[0]
    assert row["verdict"] == "improved" and row["verdict"] not in FAILING
    assert row["effect"] == 0.0


def test_a_significant_shift_with_equal_medians_is_changed_not_regressed() -> None:
    # Both tails of the current runs moved up, the median (the 11th of 21) did not.
    base = study_frame({G: [0.0] * 10 + [1.0] + [2.0] * 10})
    cur = study_frame({G: [0.5] * 10 + [1.0] + [100.0] * 10})
    row = compare_regrets(base, cur, alpha=0.05).iloc[0]
    assert row["p_holm"] < 0.05 and row["effect"] > 0.7
    assert (row["baseline"], row["current"]) == (1.0, 1.0)
    assert row["verdict"] == "changed" and row["verdict"] not in FAILING


def test_identical_results_pass_with_p_one() -> None:
    values = np.random.default_rng(0).lognormal(size=20).tolist()
    table = compare_regrets(study_frame({G: values}), study_frame({G: values}))
    assert table["p_value"].tolist() == [1.0]
    assert verdicts(table) == {"branin/sd0/gpbo": "pass"}
    assert table["detail"].tolist() == ["identical values"]


def test_constant_samples_do_not_warn_and_pass() -> None:
    table = compare_regrets(study_frame({G: [0.0] * 6}), study_frame({G: [0.0] * 8}))
    assert table["p_value"].tolist() == [1.0]


def test_a_shifted_group_regresses_while_the_others_pass() -> None:
    rng = np.random.default_rng(1)
    base = {g: rng.lognormal(size=20).tolist() for g in (G, H)}
    cur = {g: rng.lognormal(size=20).tolist() for g in (G, H)}
    cur[G] = [10 * v for v in cur[G]]
    table = compare_regrets(study_frame(base), study_frame(cur), alpha=0.01)
    assert verdicts(table) == {"branin/sd0/gpbo": "regressed", "branin/sd0/random": "pass"}
    assert "median regret" in table["detail"].iloc[0]


def test_a_run_without_recommendation_counts_as_worse_than_any_other() -> None:
    base = study_frame({G: [float(v) for v in range(1, 9)]})
    cur = study_frame({G: [float("nan")] * 8})
    row = compare_regrets(base, cur).iloc[0]
    assert row["verdict"] == "regressed" and row["current"] == np.inf


def test_groups_in_one_table_only_or_with_another_budget_are_not_tested() -> None:
    base = pd.concat([study_frame({G: [1.0] * 6}), study_frame({H: [1.0] * 6}, budget=20)])
    cur = pd.concat(
        [study_frame({H: [1.0] * 6}), study_frame({("branin", "sd1", "gpbo"): [1.0] * 6})]
    )
    table = compare_regrets(base, cur)
    assert verdicts(table) == {
        "branin/sd0/gpbo": "missing",
        "branin/sd0/random": "incomparable",
        "branin/sd1/gpbo": "new",
    }
    assert table.set_index("name").loc["branin/sd0/random", "detail"] == (
        "budget 20 in the baseline, 10 now"
    )
    assert table["p_value"].isna().all()


@pytest.mark.parametrize("alpha", [0, 1, -0.1, float("nan"), "0.01"])
def test_alpha_outside_the_unit_interval_is_named(alpha: object) -> None:
    frame = study_frame({G: [1.0] * 6})
    with pytest.raises(ValueError, match="'alpha' parameter of compare_regrets must be"):
        compare_regrets(frame, frame, alpha=alpha)  # type: ignore[arg-type]


def test_bad_tables_are_named_with_what_is_expected() -> None:
    frame = study_frame({G: [1.0] * 6})
    with pytest.raises(TypeError, match="'current' parameter of compare_regrets must be a pandas"):
        compare_regrets(frame, frame.to_dict())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"'baseline' parameter .* \['regret_rec'\] are missing"):
        compare_regrets(frame.drop(columns="regret_rec"), frame)
    with pytest.raises(ValueError, match="one row per"):
        compare_regrets(pd.concat([frame, frame.tail(1)]), frame)
    ragged = frame[~((frame["replicate"] == 0) & (frame["step"] == 9))]
    with pytest.raises(ValueError, match=r"end at different steps \[0, 9\]"):
        compare_regrets(frame, ragged)


@pytest.mark.slow
def test_false_positive_rate_of_the_family_stays_below_alpha() -> None:
    # Seeded Monte-Carlo: six groups of 20 vs 20 draws from one skewed distribution.
    rng = np.random.default_rng(2026)
    groups = [("p", "n", f"planner{i}") for i in range(6)]
    alpha, reps, failed = 0.2, 600, 0
    for _ in range(reps):
        base = study_frame({g: rng.lognormal(size=20).tolist() for g in groups})
        cur = study_frame({g: rng.lognormal(size=20).tolist() for g in groups})
        failed += bool(compare_regrets(base, cur, alpha=alpha)["verdict"].isin(FAILING).any())
    rate = failed / reps
    se = np.sqrt(alpha * (1 - alpha) / reps)
    # Holm controls the family-wise rate of any rejection at alpha; a regression is a
    # rejection in one direction, so about alpha / 2 (not a vanishing rate either).
    assert 0.03 < rate < alpha / 2 + 3 * se
