"""compare_planners: a hand-built study, pairing by replicate, errors, family-wise error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ardlib.stats import Comparison, compare_planners

COLUMNS = [
    "problem", "noise", "planner_a", "planner_b", "n", "median_diff", "statistic",
    "p_value", "p_holm", "a12", "magnitude", "significant", "winner",
]  # fmt: skip


def study(values, *, steps=1, noise="none"):
    """Tidy table from {problem: {planner: final values per replicate}}.

    Each run gets ``steps`` rows; the metric decreases to the given final value.
    """
    rows = []
    for problem, planners in values.items():
        for planner, finals in planners.items():
            for rep, final in enumerate(finals):
                for step in range(steps):
                    value = final + (steps - 1 - step)
                    rows.append((problem, noise, planner, rep, step, value, value + 0.5))
    cols = ["problem", "noise", "planner", "replicate", "step", "regret_rec", "regret_oracle"]
    return pd.DataFrame(rows, columns=cols)


def aa_family(rng, n_problems, n_reps=20, planners=("a", "b", "c")):
    """A/A study: identical planners, a shared replicate effect (common random numbers).

    20 replicates allow p-values down to 2 / 2**20, so even a family of 60 comparisons can
    reach significance (with 10 replicates it could not, and the check would be vacuous).
    """
    shared = rng.normal(size=(n_problems, 1, n_reps)) * 3
    values = np.exp(shared + rng.normal(size=(n_problems, len(planners), n_reps)))
    p, k, r = np.meshgrid(*map(np.arange, values.shape), indexing="ij")
    return pd.DataFrame(
        {
            "problem": np.char.add("p", p.ravel().astype(str)),
            "noise": "gauss-0.1",
            "planner": np.array(planners)[k.ravel()],
            "replicate": r.ravel(),
            "step": 0,
            "regret_rec": values.ravel(),
        }
    )


GOOD = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
BAD = [10.0, 11, 12, 13, 14, 15, 16, 17]
MID = [1.0, 5, 2, 6, 3, 7, 4, 8.5]


def test_hand_built_study():
    res = compare_planners(
        study({"branin": {"gp": GOOD, "random": BAD, "sobol": MID}}, steps=3), rng=0
    )
    assert isinstance(res, Comparison)
    t = res.table
    assert list(t.columns) == COLUMNS and res.n_comparisons == 3
    assert list(zip(t.planner_a, t.planner_b, strict=True)) == [
        ("gp", "random"), ("gp", "sobol"), ("random", "sobol"),
    ]  # fmt: skip
    # every pair has all 8 differences of one sign: exact two-sided p = 2 / 2**8
    np.testing.assert_allclose(t.p_value, 2 / 256)
    # Holm over the family of 3 with equal p-values: 3 * p for all
    np.testing.assert_allclose(t.p_holm, 3 * 2 / 256)
    assert t.significant.all() and list(t.winner) == ["gp", "gp", "sobol"]
    np.testing.assert_allclose(t.a12, [0.0, 0.0, 1.0])  # gp fully below; random fully above
    assert list(t.magnitude) == ["large"] * 3
    # GOOD - BAD = -9.9, -10.8, ..., -16.2: median (-12.6 - 13.5) / 2
    np.testing.assert_allclose(t.median_diff, [-13.05, np.median(np.subtract(GOOD, MID)),
                                               np.median(np.subtract(BAD, MID))])  # fmt: skip
    assert (t.n == 8).all() and (t.statistic == 0).all()


def test_summary_holds_point_estimates_and_bracketing_intervals():
    data = study({"branin": {"gp": GOOD, "random": BAD}})
    s = compare_planners(data, rng=1).summary
    assert list(s.planner) == ["gp", "random"] and (s.n == 8).all()
    np.testing.assert_allclose(s["mean"], [np.mean(GOOD), np.mean(BAD)])
    np.testing.assert_allclose(s["median"], [np.median(GOOD), np.median(BAD)])
    assert (s.mean_low < s["mean"]).all() and (s["mean"] < s.mean_high).all()
    assert (s.median_low <= s["median"]).all() and (s["median"] <= s.median_high).all()
    again = compare_planners(data, rng=1).summary
    pd.testing.assert_frame_equal(s, again)  # seeded
    quick = compare_planners(data, ci=False).summary
    assert quick[["mean_low", "median_high"]].isna().all().all()


def test_baseline_and_step_and_metric_selection():
    data = study({"b": {"gp": GOOD, "random": BAD, "sobol": MID}}, steps=4)
    res = compare_planners(data, baseline="random", step=1, metric="regret_oracle", ci=False)
    assert list(zip(res.table.planner_a, res.table.planner_b, strict=True)) == [
        ("gp", "random"), ("sobol", "random"),
    ]  # fmt: skip
    # at step 1 the value is final + 2, oracle adds 0.5: differences are unchanged
    np.testing.assert_allclose(res.table.median_diff, [-13.05, np.median(np.subtract(MID, BAD))])
    assert (res.step, res.metric, res.baseline) == (1, "regret_oracle", "random")


def test_values_are_matched_by_replicate_not_by_row_order():
    # Huge replicate effect, consistent small planner effect: only pairing sees it.
    rng = np.random.default_rng(5)
    base = rng.lognormal(0, 2, size=12)
    data = study({"p": {"a": base, "b": base + 0.1}})
    res = compare_planners(data, ci=False)
    assert res.table.p_value[0] == pytest.approx(2 / 2**12)
    assert stats.mannwhitneyu(base, base + 0.1).pvalue > 0.5  # unpaired sees nothing
    shuffled = data.sample(frac=1.0, random_state=0)  # pandas' own seeding for a shuffle
    pd.testing.assert_frame_equal(compare_planners(shuffled, ci=False).table, res.table)


def test_holm_family_spans_all_problems_and_noises():
    rng = np.random.default_rng(6)
    vals = {f"p{i}": {"a": rng.normal(size=8), "b": rng.normal(size=8)} for i in range(5)}
    t = compare_planners(study(vals), ci=False).table
    m = len(t)
    order = np.argsort(t.p_value.to_numpy())
    assert t.p_holm.to_numpy()[order[0]] == pytest.approx(
        min(1, m * t.p_value.to_numpy()[order[0]])
    )


@pytest.mark.slow  # 60 studies (~2 s); test_stats_holm checks the Holm step itself
def test_aa_studies_rarely_declare_a_difference():
    # 60 A/A studies (3 identical planners, 4 problems, 12 comparisons each): the
    # family-wise false-positive rate must stay <= alpha (+ 3 Monte-Carlo sd); without
    # the Holm step it would be about 1 - 0.95**12 = 0.46. The slow test below is sharper.
    rng = np.random.default_rng(314)
    any_hit, raw_hits, total = 0, 0, 0
    for _ in range(60):
        t = compare_planners(aa_family(rng, n_problems=4), ci=False).table
        any_hit += t.significant.any()
        raw_hits += (t.p_value <= 0.05).sum()
        total += len(t)
    assert any_hit / 60 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)
    assert 0.025 <= raw_hits / total <= 0.075  # the raw tests are not degenerate


@pytest.mark.slow
def test_aa_family_wise_error_rate_over_many_studies():
    # 300 A/A studies of 10 problems x 2 noises x 3 planners (60 comparisons each)
    rng = np.random.default_rng(2718)
    hits = 0
    for _ in range(300):
        both = pd.concat([aa_family(rng, 10).assign(noise=noise) for noise in ("none", "gauss")])
        hits += compare_planners(both, ci=False).table.significant.any()
    assert hits / 300 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)


@pytest.mark.slow  # 20 simulated studies; a Monte-Carlo property
def test_detects_a_real_difference():
    # planner a has 2.5 log-units lower regret (1.8 sd of the paired log-differences),
    # n = 15, 9 comparisons per study: a must win most of its comparisons, never lose one
    rng = np.random.default_rng(8)
    won, lost, total = 0, 0, 0
    for _ in range(20):
        data = aa_family(rng, n_problems=3, n_reps=15)
        better = data.planner == "a"
        data.loc[better, "regret_rec"] = data.loc[better, "regret_rec"] * np.exp(-2.5)
        t = compare_planners(data, ci=False).table
        with_a = t[t.planner_a == "a"]
        won += (with_a.winner == "a").sum()
        lost += with_a.winner.isin(["b", "c"]).sum()
        total += len(with_a)
    assert won / total > 0.8 and lost == 0


def test_unpaired_replicates_are_listed():
    data = study({"branin": {"gp": GOOD, "random": BAD}})
    data = data[~((data.planner == "gp") & data.replicate.isin([2, 5]))]
    msg = (
        r"must hold paired replicates.*Missing \(problem, noise, planner, replicate\): "
        r"\('branin', 'none', 'gp', 2\), \('branin', 'none', 'gp', 5\)\."
    )
    with pytest.raises(ValueError, match=msg):
        compare_planners(data)


@pytest.mark.parametrize(
    ("mutate", "kwargs", "match"),
    [
        (
            lambda d: d.drop(columns="replicate"),
            {},
            r"must have the columns .*\['replicate'\] are missing",
        ),
        (
            lambda d: pd.concat([d, d.iloc[:1]]),
            {},
            r"one row per .*duplicated: \('branin', 'none', 'gp', 0, 0\)",
        ),
        (
            lambda d: d[~((d.planner == "gp") & (d.replicate == 3) & (d.step == 2))],
            {},
            r"share one final step.*\('branin', 'none', 'gp', 3, 'final step 1 < 2'\)",
        ),
        (
            lambda d: d,
            {"step": 7},
            r"'step' parameter of compare_planners is 7, but these runs have no row",
        ),
        (
            lambda d: d.assign(regret_rec=np.where(d.replicate == 1, np.nan, d.regret_rec)),
            {},
            r"'regret_rec' column .* must be finite .*\('branin', 'none', 'gp', 1\)",
        ),
        (lambda d: d, {"baseline": "gpbo"}, r"paired replicates.*\('branin', 'none', 'gpbo', 0\)"),
        (
            lambda d: d,
            {"alpha": 0.0},
            r"The 'alpha' parameter of compare_planners must be a finite float > 0 and < 1",
        ),
        (lambda d: d, {"metric": "regret"}, r"\['regret'\] are missing"),
        (
            lambda d: d[d.replicate < 5],
            {},
            r"at least 6 paired replicates .*\('branin', 'none'\) has 5",
        ),
        (
            lambda d: d.assign(step=d.step.astype(float)),
            {},
            r"'step' column of 'results' in compare_planners must hold integers",
        ),
        (lambda d: d[d.planner == "gp"], {}, r"at least two planners"),
    ],
)
def test_bad_input(mutate, kwargs, match):
    data = study({"branin": {"gp": GOOD, "random": BAD}}, steps=3)
    with pytest.raises(ValueError, match=match):
        compare_planners(mutate(data), **kwargs)


def test_results_must_be_a_dataframe():
    with pytest.raises(
        TypeError, match=r"'results' parameter of compare_planners must be a pandas DataFrame"
    ):
        compare_planners({"problem": []})


def test_holm_across_makes_one_family_of_several_studies() -> None:
    from ardlib.stats import compare_planners, holm, holm_across

    rng = np.random.default_rng(11)
    frames = []
    for shift in (0.3, 0.6, 2.0):  # three studies, one clear difference each
        rows = []
        for rep in range(12):
            base = rng.normal()
            for planner, delta in (("a", 0.0), ("b", shift)):
                rows.append(
                    ("p", "sd0", planner, rep, 1000 + rep, 0, base + delta + 0.5 * rng.normal())
                )
        cols = ["problem", "noise", "planner", "replicate", "cell_seed", "step", "regret_rec"]
        frames.append(pd.DataFrame(rows, columns=cols))
    alone = [compare_planners(f, ci=False, rng=0) for f in frames]
    together = holm_across(alone)
    raw = np.concatenate([c.table["p_value"].to_numpy() for c in alone])
    np.testing.assert_allclose(
        np.concatenate([c.table["p_holm"].to_numpy() for c in together]), holm(raw)
    )
    for one, fam in zip(alone, together, strict=True):
        assert fam.n_comparisons == 3 and one.n_comparisons == 1
        assert (fam.table["p_holm"] >= one.table["p_holm"]).all()  # a larger family
        assert (fam.table["significant"] == (fam.table["p_holm"] <= 0.05)).all()
        assert (
            fam.table["winner"]
            .where(fam.table["significant"])
            .equals(one.table["winner"].where(fam.table["significant"]))
        )
    with pytest.raises(ValueError, match="'comparisons' parameter of holm_across"):
        holm_across([])
