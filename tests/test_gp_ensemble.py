"""HyperparameterEnsemble and ensemble_log_ei: the stacked prediction against each member's
own predictor, the Laplace Hessian against second differences of the likelihood value,
the spread of the draws, the averaged EI against a plain average of each member's EI and
its gradient against finite differences, determinism, and error messages; the planner
using it for small campaigns, batches included."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ardlib.gp import GaussianProcess, HyperparameterEnsemble
from ardlib.gp._ensemble import _hessian
from ardlib.planners import BayesianOptimization
from ardlib.planners import _acquisition as acq

Array = NDArray[np.float64]


def _fitted(n: int = 12, d: int = 3, seed: int = 0) -> GaussianProcess:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(6.0 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * np.cos(4.0 * X[:, -1])
    return GaussianProcess(n_restarts=2, rng=seed).fit(X, y)


def test_stacked_prediction_matches_each_member() -> None:
    gp = _fitted()
    ens = HyperparameterEnsemble(gp, 8, rng=1)
    assert len(ens.members) == 9 and ens.members[0] is gp
    Q = np.random.default_rng(2).uniform(size=(7, 3))
    mu, var, dmu, dvar = ens.predict_standardized_grad(Q)
    mu2, var2 = ens.predict_standardized(Q)
    assert mu.shape == var.shape == (9, 7) and dmu.shape == dvar.shape == (9, 7, 3)
    for s, member in enumerate(ens.members):
        ref = member.predict_standardized_grad(Q)
        for got, want in zip((mu[s], var[s], dmu[s], dvar[s]), ref, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mu2[s], ref[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(var2[s], ref[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ens.train_means[0], ens.members[0].train_mean_)


def test_members_keep_the_map_units_and_differ_in_hyperparameters() -> None:
    gp = _fitted()
    ens = HyperparameterEnsemble(gp, 6, rng=3)
    assert ens.members[0] is gp
    thetas = np.array([m.theta_ for m in ens.members])
    assert np.all(thetas[:, -1] == gp.theta_[-1])  # noise stays the MAP's
    assert np.all(np.ptp(thetas[:, :-1], axis=0) > 0)  # every other coordinate moves
    for m in ens.members[1:]:
        assert m.y_mean_ == gp.y_mean_ and m.y_std_ == gp.y_std_
        np.testing.assert_array_equal(m.X_, gp.X_)
    np.testing.assert_array_equal(gp.theta_, _fitted().theta_)  # the MAP model untouched


def test_hessian_matches_second_differences_of_the_value() -> None:
    gp = _fitted(n=15)
    theta = np.asarray(gp.theta_, dtype=float)
    k = theta.shape[0] - 1
    H = _hessian(gp, theta, k)
    h = 1e-3
    ref = np.empty((k, k))

    def f(t: Array) -> float:
        return gp._neg_log_posterior(t)[0]

    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(theta.shape[0])[i] * h, np.eye(theta.shape[0])[j] * h
            ref[i, j] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h * h)
    np.testing.assert_allclose(H, ref, rtol=2e-3, atol=2e-3 * np.abs(ref).max())


def _draw_sd(n: int, max_sd: float) -> Array:
    rng = np.random.default_rng(4)
    X = rng.uniform(size=(n, 2))
    gp = GaussianProcess(n_restarts=2, rng=0).fit(X, np.sin(5.0 * X[:, 0]) + X[:, 1])
    ens = HyperparameterEnsemble(gp, 200, rng=5, max_sd=max_sd)
    return np.array([m.theta_ for m in ens.members[1:]])[:, :-1].std(axis=0)


def test_draws_spread_by_the_curvature_up_to_the_cap() -> None:
    capped, loose = _draw_sd(8, 0.25), _draw_sd(8, 100.0)
    assert np.all(capped <= 1.15 * 0.25) and capped.max() > 0.8 * 0.25  # the cap binds
    assert np.all(loose > capped) and loose.max() > 0.5  # 8 points leave a lot open
    # 40 points pin the lengthscale of the dimension that carries the signal down
    assert _draw_sd(40, 100.0)[0] < 0.75 * loose[0]


def test_draws_follow_the_rng() -> None:
    gp = _fitted()
    a = [m.theta_ for m in HyperparameterEnsemble(gp, 4, rng=7).members]
    b = [m.theta_ for m in HyperparameterEnsemble(gp, 4, rng=np.random.default_rng(7)).members]
    c = [m.theta_ for m in HyperparameterEnsemble(gp, 4, rng=8).members]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    assert len(HyperparameterEnsemble(gp, 0, rng=7).members) == 1


def test_ensemble_log_ei_is_the_log_of_the_mean_ei() -> None:
    ens = HyperparameterEnsemble(_fitted(), 8, rng=1)
    best = ens.train_means.min(axis=1)
    Q = np.random.default_rng(6).uniform(size=(9, 3))
    val, g = acq.ensemble_log_ei(ens, Q, best=best)
    pairs = zip(ens.members, best, strict=True)
    each = [np.exp(acq.log_ei(m, Q, best=float(b), grad=False)[0]) for m, b in pairs]
    np.testing.assert_allclose(val, np.log(np.mean(each, axis=0)), rtol=1e-12, atol=1e-12)
    v2, g2 = acq.ensemble_log_ei(ens, Q, best=best, grad=False)
    np.testing.assert_array_equal(v2, val)
    assert g.shape == (9, 3) and g2.shape == (9, 0)
    h = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        fd = (
            acq.ensemble_log_ei(ens, Q + e, best=best, grad=False)[0]
            - acq.ensemble_log_ei(ens, Q - e, best=best, grad=False)[0]
        ) / (2 * h)
        np.testing.assert_allclose(g[:, j], fd, rtol=1e-5, atol=1e-6)
    ub, _ = acq.ensemble_log_ei(ens, Q, best=best, bound=True)
    assert np.all(ub >= val)


def test_ensemble_log_ei_stays_finite_where_every_ei_underflows() -> None:
    ens = HyperparameterEnsemble(_fitted(), 4, rng=1)
    far_below = ens.train_means.min(axis=1) - 1e3  # no member can expect to beat this
    val, g = acq.ensemble_log_ei(ens, np.full((2, 3), 0.5), best=far_below)
    assert np.all(np.isfinite(val)) and np.all(val < -1e3) and np.all(np.isfinite(g))


def test_errors_name_the_argument() -> None:  # the planner's: test_planners.BAD_BO
    gp = _fitted()
    with pytest.raises(ValueError, match="n_draws"):
        HyperparameterEnsemble(gp, -1)
    with pytest.raises(ValueError, match="max_sd"):
        HyperparameterEnsemble(gp, 2, max_sd=0.0)
    with pytest.raises(ValueError, match="localized"):
        HyperparameterEnsemble(gp.localized(gp.X_[:1], 3), 2)
    with pytest.raises(RuntimeError, match="not fitted"):
        HyperparameterEnsemble(GaussianProcess(), 2)


def _campaign(n_hyper_draws: int, q: int = 1, budget: int = 14) -> Array:
    p = BayesianOptimization(bounds=[[0, 1]] * 3, rng=11, n_hyper_draws=n_hyper_draws)
    asked = []
    while len(asked) < budget:
        X = p.ask(q)
        p.tell(X, np.sum((X - 0.3) ** 2, axis=1))
        asked.extend(X)
    return np.asarray(asked)


def test_planner_uses_the_ensemble_and_stays_deterministic() -> None:
    a, b = _campaign(8), _campaign(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _campaign(0))  # the draws change the model-based points
    np.testing.assert_array_equal(a[:5], _campaign(0)[:5])  # not the initial design


def test_batches_with_the_ensemble_are_distinct_points() -> None:
    X = _campaign(8, q=4, budget=20)
    assert len(np.unique(X.round(12), axis=0)) == len(X)


@pytest.mark.parametrize(
    "outcomes",
    [
        pytest.param("failures", id="failed-experiments"),
        pytest.param("duplicates", id="repeated-points"),
        pytest.param("constant", id="constant-outcome"),
    ],
)
def test_small_campaigns_at_the_edges_ask_finite_points_in_the_box(outcomes: str) -> None:
    """What users bring at n <= 30: failed runs (the failure penalty wraps the averaged
    EI), the same point measured twice (a near-singular covariance for some draws), and
    an objective that never changes (every member flat)."""
    rng = np.random.default_rng(12)
    X = rng.uniform(size=(8, 3))
    y = np.sum((X - 0.3) ** 2, axis=1)
    if outcomes == "failures":
        y[[1, 4]] = np.nan
    elif outcomes == "duplicates":
        X[3], y[3] = X[2], y[2]
    else:
        y[:] = 1.5
    p = BayesianOptimization(bounds=[[0, 1]] * 3, rng=3)
    p.tell(X, y)
    asked = []
    for _ in range(3):
        x = p.ask(2)
        assert x.shape == (2, 3) and np.all(np.isfinite(x))
        assert np.all((x >= 0) & (x <= 1))
        p.tell(x, np.full(2, 1.5) if outcomes == "constant" else np.sum((x - 0.3) ** 2, axis=1))
        asked.extend(x)
    assert len(np.unique(np.round(asked, 9), axis=0)) == len(asked)
    if outcomes == "failures":  # the penalty keeps the asks away from the failed points
        dist = np.linalg.norm(np.asarray(asked)[:, None] - X[[1, 4]][None], axis=2)
        assert dist.min() > 0.2  # 0.07 without the penalty (failure_radius=1e-9)
