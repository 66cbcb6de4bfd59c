"""GaussianProcess: kernel against the general Matérn form, likelihood and predictive
gradients against finite differences, the likelihood against scipy, interpolation, noise
learning, numerical robustness and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp, mpf
from numpy.typing import NDArray
from scipy.stats import multivariate_normal

from ardlib._threads import single_threaded_blas
from ardlib.gp import GaussianProcess, GPError, Posterior, matern52

Array = NDArray[np.float64]
HYP = settings(max_examples=25, deadline=None)


# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def matern52_bessel(a: Array, b: Array, lengthscale: Array, s2: float) -> float:
    """General Matérn covariance (Rasmussen & Williams eq. 4.14) at nu = 5/2, in mpmath.

    ``s2 * 2^(1-nu) / Gamma(nu) * (sqrt(2 nu) r)^nu * K_nu(sqrt(2 nu) r)`` with the
    modified Bessel function: a different formula from the closed form of eq. 4.17 that
    the library implements, so an error in the closed form shows up here.
    """
    with mp.workdps(30):
        r = mp.sqrt(
            sum(
                ((mpf(float(u)) - mpf(float(v))) / mpf(float(ell))) ** 2
                for u, v, ell in zip(a, b, lengthscale, strict=True)
            )
        )
        if r == 0:
            return float(s2)
        nu = mpf(5) / 2
        t = mp.sqrt(2 * nu) * r
        val = mpf(float(s2)) * 2 ** (1 - nu) / mp.gamma(nu) * t**nu * mp.besselk(nu, t)
        return float(val)


def fitted_covariance(gp: GaussianProcess) -> Array:
    """Standardized-units training covariance built from the fitted hyperparameters with
    the Bessel reference (not the library kernel), plus noise and the jitter used."""
    X = gp.X_
    n = X.shape[0]
    K = np.array(
        [
            [matern52_bessel(X[i], X[j], gp.lengthscale_, gp.signal_var_) for j in range(n)]
            for i in range(n)
        ]
    )
    return K + (gp.noise_var_ + gp.jitter_) * np.eye(n)


def smooth(X: Array) -> Array:
    return np.sin(3.0 * X[:, 0]) + np.cos(2.0 * X[:, -1])


@pytest.fixture(scope="module")
def fitted() -> GaussianProcess:
    """A GP fitted to 15 noisy points of a smooth 3-D function."""
    rng = np.random.default_rng(0)
    X = rng.random((15, 3))
    y = np.sin(6.0 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(15)
    return GaussianProcess(rng=0).fit(X, y)


def central_diff(f: object, x: Array, h: float) -> Array:
    """Central differences of a scalar function ``f`` of a vector ``x``."""
    assert callable(f)
    out = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        out[j] = (f(x + e) - f(x - e)) / (2.0 * h)
    return out


# --------------------------------------------------------------------------------------
# Public surface
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------------------


@HYP
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    log_l=st.lists(st.floats(-5.0, 3.0), min_size=4, max_size=4),
    log_s2=st.floats(-5.0, 5.0),
)
def test_matern52_matches_general_matern_with_bessel_function(
    seed: int, d: int, log_l: list[float], log_s2: float
) -> None:
    rng = np.random.default_rng(seed)
    A = rng.random((4, d)) * 3.0 - 1.0
    B = np.vstack([A[:1], rng.random((3, d)) * 3.0 - 1.0])  # includes r = 0
    ell = np.exp(np.array(log_l[:d]))
    s2 = float(np.exp(log_s2))
    got = matern52(A, B, ell, s2)
    want = np.array([[matern52_bessel(a, b, ell, s2) for b in B] for a in A])
    assert got.shape == (4, 4)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-290)


def test_matern52_at_textbook_distances() -> None:
    # One dimension, unit lengthscale: k(r) = (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r).
    r = np.array([0.0, 0.5, 1.0, 2.0])
    expected = [
        1.0,
        (1 + math.sqrt(5) * 0.5 + 5 * 0.25 / 3) * math.exp(-math.sqrt(5) * 0.5),
        (1 + math.sqrt(5) + 5 / 3) * math.exp(-math.sqrt(5)),
        (1 + 2 * math.sqrt(5) + 20 / 3) * math.exp(-2 * math.sqrt(5)),
    ]
    got = matern52(np.zeros((1, 1)), r[:, None], np.ones(1), 1.0)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    # Lengthscale and signal variance enter as r / l and a multiplicative s2.
    got2 = matern52(np.zeros((1, 1)), 3.0 * r[:, None], np.array([3.0]), 2.5)[0]
    np.testing.assert_allclose(got2, 2.5 * np.asarray(expected), rtol=1e-14)


@HYP
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 5), log_s2=st.floats(-5.0, 5.0))
def test_matern52_is_symmetric_with_signal_variance_on_the_diagonal(
    seed: int, d: int, log_s2: float
) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((7, d))
    ell = np.exp(rng.uniform(-3, 2, size=d))
    s2 = float(np.exp(log_s2))
    K = matern52(X, X, ell, s2)
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_allclose(np.diag(K), s2, rtol=1e-15)
    assert K.max() <= s2 * (1 + 1e-15) and K.min() > 0
    assert np.linalg.eigvalsh(K + 1e-9 * s2 * np.eye(7)).min() > 0


# --------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------


@HYP
@given(
    data_seed=st.integers(0, 2**32 - 1),
    theta_seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    mean=st.sampled_from(["constant", "sample"]),
)
def test_neg_log_posterior_gradient_matches_finite_differences(
    data_seed: int, theta_seed: int, d: int, mean: str
) -> None:
    # with mean="constant" the constant is profiled out at every theta: the gradient
    # is the total one of the profiled objective
    rng = np.random.default_rng(data_seed)
    X = rng.random((12, d))
    y = smooth(X) + 0.1 * rng.standard_normal(12)
    gp = GaussianProcess(n_restarts=0, max_iter=5, mean=mean, rng=0).fit(X, y)
    # Away from the optimum, where the gradient is not ~0.
    t = np.random.default_rng(theta_seed)
    theta = np.r_[t.uniform(np.log(0.05), np.log(3.0), d), t.uniform(-1, 1), t.uniform(-8, -1)]

    def f(th: Array) -> float:
        return gp._neg_log_posterior(th)[0]

    with single_threaded_blas():  # the library's own setting; multithreaded BLAS is slow here
        value, grad = gp._neg_log_posterior(theta)
        fd = central_diff(f, theta, 1e-6)
    assert np.isfinite(value) and value < 1e20
    scale = max(float(np.max(np.abs(fd))), 1.0)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5 * scale)


def test_predictive_gradients_match_finite_differences(fitted: GaussianProcess) -> None:
    rng = np.random.default_rng(1)
    Xt = rng.random((8, 3))
    mu, var, dmu, dvar = fitted.predict_standardized_grad(Xt)
    mu2, var2 = fitted.predict_standardized(Xt)
    np.testing.assert_array_equal(mu, mu2)
    np.testing.assert_array_equal(var, var2)
    h = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        mp_, vp = fitted.predict_standardized(Xt + e)
        mm, vm = fitted.predict_standardized(Xt - e)
        np.testing.assert_allclose(dmu[:, j], (mp_ - mm) / (2 * h), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(dvar[:, j], (vp - vm) / (2 * h), rtol=1e-5, atol=1e-7)


def test_standardized_prediction_is_consistent_with_predict(fitted: GaussianProcess) -> None:
    Xt = np.random.default_rng(2).random((5, 3))
    post = fitted.predict(Xt)
    mu, var = fitted.predict_standardized(Xt)
    np.testing.assert_allclose(post.mean, fitted.y_mean_ + fitted.y_std_ * mu, rtol=1e-13)
    np.testing.assert_allclose(post.var, var * fitted.y_std_**2, rtol=1e-13)
    np.testing.assert_allclose(post.std, np.sqrt(post.var), rtol=1e-15)
    assert isinstance(post, Posterior)


# --------------------------------------------------------------------------------------
# Likelihood against an independent reference
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mean", ["constant", "sample"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_marginal_likelihood_equals_scipy_multivariate_normal(seed: int, mean: str) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((10, 2))
    y = 3.0 + 2.0 * smooth(X) + 0.2 * rng.standard_normal(10)
    gp = GaussianProcess(mean=mean, rng=seed).fit(X, y)
    assert gp.y_std_ == y.std()
    if mean == "sample":
        assert gp.y_mean_ == y.mean()
    z = (y - gp.y_mean_) / gp.y_std_
    ref = multivariate_normal(mean=np.zeros(10), cov=fitted_covariance(gp)).logpdf(z)
    assert gp.log_marginal_likelihood_ == pytest.approx(ref, rel=1e-9, abs=1e-9)


def clustered_data(seed: int) -> tuple[Array, Array]:
    """A campaign's shape: a tight cluster of low values near one corner and a few spread
    points near zero, so the sample mean lies well below the level of the bulk."""
    rng = np.random.default_rng(seed)
    near = 0.1 + 0.05 * rng.random((8, 2))
    far = rng.random((6, 2))
    X = np.vstack([near, far])
    y = np.r_[-3.0 + 0.1 * rng.standard_normal(8), 0.1 * rng.standard_normal(6)]
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constant_mean_maximizes_the_likelihood_over_the_mean(seed: int) -> None:
    # The fitted constant, by scipy's density at the fitted covariance: any other
    # constant (the sample mean among them) gives a lower likelihood.
    X, y = clustered_data(seed)
    gp = GaussianProcess(rng=seed).fit(X, y)
    cov = fitted_covariance(gp) * gp.y_std_**2  # output units

    def loglik(c: float) -> float:
        return float(multivariate_normal(mean=np.full(y.size, c), cov=cov).logpdf(y))

    best = loglik(gp.y_mean_)
    for c in gp.y_mean_ + gp.y_std_ * np.array([-0.3, -0.01, 0.01, 0.3]):
        assert loglik(c) < best
    assert loglik(float(y.mean())) < best
    # the constant sits with the spread points, not between them and the cluster
    assert gp.y_mean_ > float(y.mean()) + 0.3


def test_constant_mean_is_the_prediction_far_from_the_data() -> None:
    X, y = clustered_data(0)
    fits = {m: GaussianProcess(mean=m, rng=0).fit(X, y) for m in ("constant", "sample")}
    far = np.array([[30.0, 30.0]])
    for gp in fits.values():
        assert gp.predict(far).mean[0] == pytest.approx(gp.y_mean_, abs=1e-9)
    assert fits["sample"].y_mean_ == pytest.approx(float(y.mean()), rel=1e-15)
    # the cluster of low values no longer pulls the prior mean (and with it EI's hope
    # for unexplored regions) towards itself
    assert fits["constant"].y_mean_ > fits["sample"].y_mean_ + 0.3 * float(y.std())


def test_fit_maximizes_the_posterior_over_its_starts() -> None:
    # The fitted theta is a stationary point of the objective (interior) and no worse
    # than the default start: the optimizer ran, not just the first start.
    rng = np.random.default_rng(4)
    X = rng.random((20, 2))
    y = smooth(X) + 0.05 * rng.standard_normal(20)
    gp = GaussianProcess(rng=4).fit(X, y)
    best, grad = gp._neg_log_posterior(gp.theta_)
    default = np.r_[np.log([0.3, 0.3]), 0.0, np.log(1e-3)]
    assert best <= gp._neg_log_posterior(default)[0]
    assert np.max(np.abs(grad)) < 1e-2


# --------------------------------------------------------------------------------------
# Interpolation and robustness
# --------------------------------------------------------------------------------------


@HYP
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    n=st.integers(2, 12),
    scale=st.sampled_from([1e-3, 1.0, 1e4]),
    offset=st.floats(-1e3, 1e3),
)
def test_noise_free_posterior_interpolates_training_data(
    seed: int, d: int, n: int, scale: float, offset: float
) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    # Stratify the first coordinate so distinct points are >= 0.4 / n apart.
    X[:, 0] = (rng.permutation(n) + rng.uniform(0.2, 0.8, n)) / n
    y = offset + scale * rng.standard_normal(n)
    gp = GaussianProcess(fixed_noise=1e-10, n_restarts=1, rng=seed).fit(X, y)
    post = gp.predict(X)
    span = max(float(np.ptp(y)), 1e-300)
    np.testing.assert_allclose(post.mean, y, rtol=0, atol=1e-6 * span)
    assert np.all(post.var >= 0)
    assert np.all(post.var <= 1e-6 * gp.y_std_**2)


@HYP
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    n=st.integers(1, 10),
    offset=st.sampled_from([0.0, 1e-14, 1e-10, 1e-6]),
    target=st.sampled_from(["smooth", "random", "constant"]),
    fixed_noise=st.sampled_from([None, 1e-20, 1e-10]),
    log_scale=st.floats(-6.0, 6.0),
)
def test_fit_survives_near_duplicates_and_degenerate_targets(
    seed: int,
    d: int,
    n: int,
    offset: float,
    target: str,
    fixed_noise: float | None,
    log_scale: float,
) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    dup = X[rng.integers(0, n, size=n)] + offset * rng.standard_normal((n, d))
    X = np.clip(np.vstack([X, dup]), 0.0, 1.0)
    base = {
        "smooth": smooth(X),
        "random": rng.standard_normal(2 * n),
        "constant": np.full(2 * n, 3.0),
    }[target]
    y = base * 10.0**log_scale
    gp = GaussianProcess(fixed_noise=fixed_noise, n_restarts=1, rng=seed).fit(X, y)
    assert np.all(np.isfinite(gp.theta_))
    assert np.isfinite(gp.log_marginal_likelihood_)
    post = gp.predict(np.vstack([X, rng.random((10, d))]))
    assert np.all(np.isfinite(post.mean)) and np.all(np.isfinite(post.var))
    assert np.all(post.var >= 0)


@pytest.mark.parametrize("log_l", [np.log(5e-3), np.log(20.0)])
def test_conditioning_at_extreme_lengthscales_with_duplicates_adds_jitter(
    log_l: float,
) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((25, 2))
    X = np.vstack([X, X])  # exact duplicates
    y = smooth(X)
    gp = GaussianProcess(fixed_noise=1e-20)
    gp.theta_ = np.r_[log_l, log_l, np.log(100.0), np.log(1e-20)]
    gp.fit(X, y, optimize=False)
    post = gp.predict(np.vstack([X, rng.random((20, 2))]))
    assert np.all(np.isfinite(post.mean)) and np.all(post.var >= 0)
    assert np.isfinite(gp.log_marginal_likelihood_)
    # sn2 = 1e-20 with duplicate rows is singular: the escalation path must have been used
    assert gp.jitter_ > 0


def test_fixed_tiny_noise_with_duplicates_goes_through_jitter_escalation() -> None:
    rng = np.random.default_rng(3)
    X = rng.random((10, 2))
    X = np.vstack([X, X])
    y = smooth(X)
    gp = GaussianProcess(fixed_noise=1e-20, rng=3).fit(X, y)
    assert gp.jitter_ > 0
    post = gp.predict(X)
    np.testing.assert_allclose(post.mean, y, atol=1e-4 * np.ptp(y))
    assert np.all(post.var >= 0)


# --------------------------------------------------------------------------------------
# Noise learning
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sd", "seed"), [(0.1, 0), (0.1, 1), (0.1, 2), (0.3, 0), (0.3, 3)])
def test_learns_known_gaussian_noise_variance(sd: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((80, 2))
    y = 5.0 + 2.0 * smooth(X) + sd * rng.standard_normal(80)
    gp = GaussianProcess(rng=seed).fit(X, y)
    ratio = gp.noise_var_ * gp.y_std_**2 / sd**2
    assert 0.5 < ratio < 2.0


def test_default_fit_does_not_interpolate_noisy_data() -> None:
    sd, seed = 0.3, 5
    rng = np.random.default_rng(seed)
    X = rng.random((80, 2))
    y = 5.0 + 2.0 * smooth(X) + sd * rng.standard_normal(80)
    gp = GaussianProcess(rng=seed).fit(X, y)
    thorough = GaussianProcess(rng=seed, n_restarts=10).fit(X, y)
    assert (
        gp._neg_log_posterior(gp.theta_)[0] <= thorough._neg_log_posterior(thorough.theta_)[0] + 1.0
    )
    assert 0.5 < gp.noise_var_ * gp.y_std_**2 / sd**2 < 2.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_free_smooth_data_gives_tiny_noise(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.random((30, 2))
    y = 5.0 + 2.0 * smooth(X)
    gp = GaussianProcess(rng=seed).fit(X, y)
    assert gp.noise_var_ < 1e-5
    # ... and it predicts unseen points of the smooth function well.
    Xt = rng.random((50, 2))
    err = gp.predict(Xt).mean - (5.0 + 2.0 * smooth(Xt))
    assert np.max(np.abs(err)) < 0.05 * np.ptp(y)


# --------------------------------------------------------------------------------------
# Errors, determinism, aliasing
# --------------------------------------------------------------------------------------


def test_predict_before_fit_says_to_call_fit() -> None:
    with pytest.raises(RuntimeError, match=r"not fitted.*call fit\(X, y\)"):
        GaussianProcess().predict(np.zeros((1, 2)))


def test_fit_without_optimizing_needs_a_previous_fit() -> None:
    with pytest.raises(RuntimeError, match=r"call fit\(X, y\) first"):
        GaussianProcess().fit(np.zeros((2, 1)), [0.0, 1.0], optimize=False)


@pytest.mark.parametrize(
    "y",
    [[0.0, np.nan, 1.0], [0.0, np.inf, 1.0], [0.0, 1.0], [[0.0, 1.0, 2.0]]],
    ids=["nan", "inf", "short", "2d"],
)
def test_bad_targets_raise_value_error_naming_y(y: list[float]) -> None:
    X = np.random.default_rng(0).random((3, 2))
    with pytest.raises(ValueError, match=r"The 'y' parameter of GaussianProcess\.fit"):
        GaussianProcess().fit(X, y)


def test_bad_inputs_raise_value_error_naming_x() -> None:
    with pytest.raises(ValueError, match=r"'X' parameter.*reshape"):
        GaussianProcess().fit(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"'X' parameter.*finite"):
        GaussianProcess().fit([[0.0], [np.nan]], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"'X' parameter.*at least one point"):
        GaussianProcess().fit(np.zeros((0, 2)), np.zeros(0))


def test_predict_with_wrong_column_count_names_x_and_the_columns(
    fitted: GaussianProcess,
) -> None:
    with pytest.raises(ValueError, match=r"'X' parameter of GaussianProcess\.predict.*3 columns"):
        fitted.predict(np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_restarts": -1}, "n_restarts"),
        ({"n_restarts": 1.5}, "n_restarts"),
        ({"n_restarts": True}, "n_restarts"),
        ({"max_iter": 0}, "max_iter"),
        ({"noise_floor": 0.0}, "noise_floor"),
        ({"fixed_noise": -1.0}, "fixed_noise"),
        ({"mean": "zero"}, "mean"),
    ],
)
def test_bad_settings_raise_at_fit_with_the_parameter_named(
    kwargs: dict[str, object], name: str
) -> None:
    gp = GaussianProcess(**kwargs)  # type: ignore[arg-type]
    for key, value in kwargs.items():
        assert getattr(gp, key) is value  # stored as given
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of GaussianProcess must be"):
        gp.fit(np.random.default_rng(0).random((4, 1)), np.arange(4.0))


def test_same_rng_gives_identical_hyperparameters() -> None:
    rng = np.random.default_rng(8)
    X = rng.random((20, 2))
    y = smooth(X) + 0.1 * rng.standard_normal(20)
    fits = [GaussianProcess(rng=seed).fit(X, y) for seed in (11, 11)]
    np.testing.assert_array_equal(fits[0].theta_, fits[1].theta_)
    gens = [GaussianProcess(rng=np.random.default_rng(11)).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(gens[0].theta_, gens[1].theta_)
    Xt = rng.random((5, 2))
    np.testing.assert_array_equal(fits[0].predict(Xt).mean, gens[0].predict(Xt).mean)


def test_refit_warm_starts_from_previous_optimum() -> None:
    rng = np.random.default_rng(9)
    X = rng.random((20, 2))
    y = smooth(X)
    gp = GaussianProcess(rng=0).fit(X[:15], y[:15])
    gp.fit(X, y, warm_start_only=True)
    fresh = GaussianProcess(rng=0).fit(X, y)
    # The warm-started optimum is as good as a full multi-start fit on the same data.
    assert gp._neg_log_posterior(gp.theta_)[0] == pytest.approx(
        fresh._neg_log_posterior(fresh.theta_)[0], abs=1e-3
    )
    assert gp.X_.shape == (20, 2)


def test_gp_error_is_a_runtime_error() -> None:
    assert issubclass(GPError, RuntimeError)


def test_fit_does_not_alias_the_callers_input_array() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((10, 2))
    y = smooth(X)
    gp = GaussianProcess(rng=0).fit(X, y)
    Xt = rng.random((3, 2))
    before = gp.predict(Xt).mean
    X[:] = 0.0
    np.testing.assert_array_equal(gp.predict(Xt).mean, before)
