"""holm: hand-worked vectors, the step-down procedure as reference, family-wise error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from ardlib.stats import holm

pvalues = arrays(
    float,
    hs.integers(1, 12),
    elements=hs.sampled_from([0.0, 0.001, 0.01, 0.02, 0.04, 0.05, 0.2, 0.5, 1.0]) | hs.floats(0, 1),
)


def step_down_rejects(p, alpha):
    """Holm's procedure as published: walk the sorted p-values, stop at the first keep."""
    m = len(p)
    rejected = np.zeros(m, dtype=bool)
    for k, i in enumerate(sorted(range(m), key=lambda j: p[j])):
        if p[i] * (m - k) > alpha:
            break
        rejected[i] = True
    return rejected


def brute_force_adjusted(p):
    """Adjusted p-value = the smallest level at which the procedure rejects."""
    m = len(p)
    levels = sorted({min(1.0, p[i] * (m - k)) for k in range(m) for i in range(m)} | {1.0})
    adjusted = np.ones(m)
    for i in range(m):
        for level in levels:
            if step_down_rejects(p, level)[i]:
                adjusted[i] = level
                break
    return adjusted


def test_hand_worked_vector():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_caps_at_one_and_handles_edge_sizes():
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(holm([0.3]), [0.3])
    assert holm([]).shape == (0,)


@given(pvalues)
def test_matches_the_step_down_procedure(p):
    np.testing.assert_allclose(holm(p), brute_force_adjusted(list(p)), rtol=1e-12, atol=0)


@given(pvalues, hs.randoms(use_true_random=False))
def test_properties(p, rnd):
    adj = holm(p)
    assert np.all(adj >= p) and np.all(adj <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= 0)  # monotone in the raw p-value
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    np.testing.assert_allclose(holm(p[perm]), adj[perm])  # order of input irrelevant


def test_family_wise_error_rate_under_the_global_null():
    # 4000 families of 10 independent true nulls: FWER <= alpha; Bonferroni-exactness
    # makes it close to 1 - (1 - alpha/10)**10 = 0.0489. Without correction: 0.40.
    rng = np.random.default_rng(20240601)
    p = rng.random((4000, 10))
    fwer = np.mean([np.any(holm(row) <= 0.05) for row in p])
    assert fwer <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000)
    assert fwer >= 0.035  # not vacuously conservative


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (
            [0.1, np.nan],
            r"'pvalues' parameter of holm must be a 1-D array of floats in \[0, 1\]; entries \[1\]",
        ),
        ([0.1, 1.5], r"entries \[1\] are not \(e.g. 1.5\)"),
        ([-0.1], r"entries \[0\]"),
        ([[0.1, 0.2]], r"Got shape \(1, 2\)"),
        (["a"], r"Got list"),
    ],
)
def test_bad_input_names_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        holm(bad)
