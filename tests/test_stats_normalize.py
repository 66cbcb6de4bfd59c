"""normalized_score(s): closed forms, the reference mean, zero-reference handling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ardlib.stats import normalized_score, normalized_scores


def table(finals, *, steps=2, problem="branin", noise="none"):
    """Tidy table from {planner: final regret per replicate}; regret halves each step."""
    rows = [
        (problem, noise, planner, rep, step, final * 2.0 ** (steps - 1 - step))
        for planner, values in finals.items()
        for rep, final in enumerate(values)
        for step in range(steps)
    ]
    return pd.DataFrame(
        rows, columns=["problem", "noise", "planner", "replicate", "step", "regret_rec"]
    )


def test_closed_forms():
    np.testing.assert_allclose(normalized_score([0.0, 0.5, 2.0], reference=1.0), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(normalized_score([[1.0], [3.0]], reference=[2.0, 4.0]),
                               [[0.5, 0.25], [1.5, 0.75]])  # fmt: skip
    assert normalized_score(0.3, reference=0.6) == pytest.approx(0.5)


def test_zero_reference_raises_or_gives_nan():
    with pytest.raises(
        ValueError,
        match=r"'reference' parameter of normalized_score must be > 0.*1 value\(s\) are 0",
    ):
        normalized_score([1.0, 2.0], reference=[1.0, 0.0])
    out = normalized_score([1.0, 2.0], reference=[1.0, 0.0], zero_reference="nan")
    np.testing.assert_array_equal(out, [1.0, np.nan])


def test_scores_use_the_reference_mean_of_the_same_cell_and_step():
    data = pd.concat(
        [
            table({"random": [2.0, 4.0], "gp": [0.0, 3.0]}),
            table({"random": [10.0, 30.0], "gp": [5.0, 40.0]}, problem="hartmann6"),
        ]
    )
    out = normalized_scores(data)
    assert list(out.columns) == [
        "problem", "noise", "planner", "replicate", "step", "metric", "reference", "score",
    ]  # fmt: skip
    b = out[out.problem == "branin"].set_index(["planner", "replicate"])
    assert (b.reference == 3.0).all() and (b.step == 1).all()
    np.testing.assert_allclose(b.loc["gp", "score"], [0.0, 1.0])
    np.testing.assert_allclose(b.loc["random", "score"], [2 / 3, 4 / 3])
    h = out[out.problem == "hartmann6"]
    np.testing.assert_allclose(h.score, [0.25, 2.0, 0.5, 1.5])  # gp rows sort first
    # the reference planner averages exactly 1 in every cell, by construction
    np.testing.assert_allclose(out[out.planner == "random"].groupby("problem").score.mean(), 1.0)
    # an earlier step has its own reference (regret doubled there: scores unchanged)
    early = normalized_scores(data, step=0)
    assert (early.step == 0).all() and early.reference.iloc[0] == 6.0
    np.testing.assert_allclose(early.score, out.score)


def test_reference_mean_is_not_the_mean_of_paired_ratios():
    # with a lucky random-search replicate the paired ratio explodes; the mean does not
    data = table({"random": [0.01, 1.0, 1.0, 1.0], "gp": [0.5, 0.5, 0.5, 0.5]})
    out = normalized_scores(data)
    gp = out[out.planner == "gp"].score
    np.testing.assert_allclose(gp, 0.5 / np.mean([0.01, 1.0, 1.0, 1.0]))


def test_missing_reference_and_zero_reference_mean():
    data = pd.concat([table({"random": [1.0], "gp": [1.0]}), table({"gp": [1.0]}, noise="gauss")])
    with pytest.raises(
        ValueError,
        match=r"is 'random', but these \(problem, noise\) cells have no run of it: "
        r"\('branin', 'gauss'\)",
    ):
        normalized_scores(data)
    zero = table({"random": [0.0, 0.0], "gp": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"mean regret 0 in cells \('branin', 'none'\)"):
        normalized_scores(zero)
    out = normalized_scores(zero, zero_reference="nan")
    assert out.score.isna().all()


@pytest.mark.parametrize(
    ("regret", "reference", "match"),
    [
        (
            [-0.1],
            1.0,
            r"The 'regret' parameter of normalized_score must be an array of finite floats "
            r">= 0; 1 value\(s\)",
        ),
        (
            [1.0],
            np.nan,
            r"The 'reference' parameter of normalized_score must be an array of finite floats >= 0",
        ),
        (
            [1.0, 2.0, 3.0],
            [1.0, 2.0],
            r"must broadcast to the shape of 'regret' \(3,\)\. Got shape \(2,\)",
        ),
        (["x"], 1.0, r"'regret' parameter .* Got list"),
    ],
)
def test_bad_input(regret, reference, match):
    with pytest.raises(ValueError, match=match):
        normalized_score(regret, reference=reference)


def test_bad_option():
    with pytest.raises(
        ValueError,
        match=r"The 'zero_reference' parameter of normalized_scores must be one of 'raise', 'nan'",
    ):
        normalized_scores(table({"random": [1.0]}), zero_reference="zero")
