"""time_to_target and its ECDF: hand-built runs, censoring, a geometric-law check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ardlib.stats import ecdf_time_to_target, time_to_target


def runs(curves, problem="branin", noise="none", metric="regret_oracle"):
    """Tidy table from {(planner, replicate): [metric at step 0, 1, ...]}."""
    rows = [
        (problem, noise, planner, rep, step, value)
        for (planner, rep), values in curves.items()
        for step, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["problem", "noise", "planner", "replicate", "step", metric])


HAND = {
    ("gp", 0): [5.0, 3.0, 1.0, 0.5],  # reaches 1.0 at step 2 -> 3 evaluations
    ("gp", 1): [0.9, 0.9, 0.2, 0.1],  # at step 0 -> 1 evaluation
    ("gp", 2): [5.0, 4.0, 3.0, 2.0],  # never: censored
    ("random", 0): [np.nan, 2.0, 1.0, 1.0],  # NaN does not reach; exactly 1.0 does -> 3
}


def test_hand_built_runs_with_a_censored_run():
    out = time_to_target(runs(HAND), target=1.0)
    assert list(out.columns) == [
        "problem", "noise", "planner", "replicate", "target", "evaluations", "reached", "budget",
    ]  # fmt: skip
    np.testing.assert_array_equal(out.evaluations, [3.0, 1.0, np.nan, 3.0])
    assert list(out.reached) == [True, True, False, True]
    assert list(out.budget) == [4, 4, 4, 4] and (out.target == 1.0).all()


def test_per_problem_targets():
    data = pd.concat([runs(HAND), runs(HAND, problem="hartmann6")])
    out = time_to_target(data, target={"branin": 1.0, "hartmann6": 0.15})
    hart = out[out.problem == "hartmann6"]
    np.testing.assert_array_equal(hart.evaluations, [np.nan, 4.0, np.nan, np.nan])
    assert (hart.target == 0.15).all()


def test_ecdf_keeps_censored_runs_in_the_denominator():
    out = ecdf_time_to_target(runs(HAND), target=1.0)
    gp = out[out.planner == "gp"]
    assert list(gp.evaluations) == [1, 2, 3, 4]
    # runs done after 1, 3 and never evaluations: 1/3, 1/3, 2/3, 2/3 (never 1)
    np.testing.assert_allclose(gp.fraction, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert list(gp.n_runs) == [3] * 4 and list(gp.n_reached) == [1, 1, 2, 2]
    pooled = ecdf_time_to_target(runs(HAND), target=1.0, by=["noise"])
    np.testing.assert_allclose(pooled.fraction, [0.25, 0.25, 0.75, 0.75])


def test_ecdf_matches_counting_by_hand_with_unequal_budgets():
    rng = np.random.default_rng(0)
    curves = {("a", r): list(np.minimum.accumulate(rng.random(5 + r % 4))) for r in range(30)}
    data = runs(curves)
    ttt = time_to_target(data, target=0.1)
    ecdf = ecdf_time_to_target(data, target=0.1)
    assert ecdf.evaluations.max() == 8
    for e, frac in zip(ecdf.evaluations, ecdf.fraction, strict=True):
        done = sum(1 for ev in ttt.evaluations if ev == ev and ev <= e)
        assert frac == done / 30


def test_ecdf_of_random_search_follows_the_geometric_law():
    # regret_oracle = running minimum of uniform regrets: P(T <= e) = 1 - (1 - t)**e.
    # With t = 0.05 and budget 20, 36 % of runs are censored; dropping them would push
    # the final fraction to 1.
    rng = np.random.default_rng(42)
    n_runs, budget, t = 2000, 20, 0.05
    best = np.minimum.accumulate(rng.random((n_runs, budget)), axis=1)
    data = pd.DataFrame(
        {
            "problem": "p",
            "noise": "none",
            "planner": "random",
            "replicate": np.repeat(np.arange(n_runs), budget),
            "step": np.tile(np.arange(budget), n_runs),
            "regret_oracle": best.ravel(),
        }
    )
    ecdf = ecdf_time_to_target(data, target=t)
    theory = 1 - (1 - t) ** np.arange(1, budget + 1)
    se = np.sqrt(theory * (1 - theory) / n_runs)
    assert np.all(np.abs(ecdf.fraction.to_numpy() - theory) < 4 * se)


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        (
            runs(HAND).drop(index=1),
            {"target": 1.0},
            r"every step 0 \.\. budget-1 .*gaps: \('branin', 'none', 'gp', 0\)",
        ),
        (
            runs(HAND),
            {"target": -1.0},
            r"The 'target' parameter of time_to_target must be a finite float >= 0\. Got -1\.0\.",
        ),
        (
            runs(HAND),
            {"target": {"hartmann6": 1.0}},
            r"target for every problem; missing: \['branin'\]",
        ),
        (runs(HAND), {"target": {"branin": np.nan}}, r"finite float >= 0 \(problem 'branin'\)"),
        (runs(HAND), {"target": 1.0, "metric": "regret_rec"}, r"\['regret_rec'\] are missing"),
    ],
)
def test_bad_input(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        time_to_target(data, **kwargs)


def test_ecdf_rejects_unknown_grouping():
    with pytest.raises(ValueError, match=r"The 'by' parameter of ecdf_time_to_target must be"):
        ecdf_time_to_target(runs(HAND), target=1.0, by=["replicate"])
