"""Acquisition functions and their optimizer: log h against 50-digit mpmath, gradients
against finite differences, EI against the textbook formula, the acquisition optimizer on
utilities with a known maximizer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp, mpf
from numpy.typing import NDArray
from scipy.stats import norm

from ardlib._threads import single_threaded_blas
from ardlib.gp import GaussianProcess
from ardlib.planners._acqopt import maximize_acquisition
from ardlib.planners._acquisition import _dlog_h, log_ei, log_h, noisy_log_ei, ucb

Array = NDArray[np.float64]
Utility = Callable[..., tuple[Array, Array]]
EPS = float(np.finfo(float).eps)
BOUNDARY = -1.0 / np.sqrt(EPS)


def ref_h(z: float) -> mpf:
    """phi(z) + z Phi(z) at 50 digits from the definitions (no rearrangement)."""
    with mp.workdps(50):
        x = mpf(float(z))
        return mp.npdf(x) + x * mp.ncdf(x)


def ref_log_h(z: float) -> float:
    with mp.workdps(50):
        return float(mp.log(ref_h(z)))


def ref_dlog_h(z: float) -> float:
    with mp.workdps(50):
        return float(mp.ncdf(mpf(float(z))) / ref_h(z))


def regime_points() -> Array:
    """z in [-1e3, 10], dense, plus both sides of each regime boundary."""
    edges = []
    for b in (-1.0, 0.0):
        edges += [b, np.nextafter(b, -np.inf), np.nextafter(b, np.inf)]
    dense = np.r_[np.linspace(-1e3, 10.0, 401), -np.logspace(-6, 3, 200), [-38.0, -40.0]]
    return np.unique(np.r_[dense, edges])


@pytest.fixture(scope="module")
def gp() -> GaussianProcess:
    """A GP on 14 noisy points of a 2-D function (moderate posterior variance)."""
    rng = np.random.default_rng(0)
    X = rng.random((14, 2))
    y = np.sin(5.0 * X[:, 0]) + np.cos(4.0 * X[:, 1]) + 0.05 * rng.standard_normal(14)
    return GaussianProcess(rng=0).fit(X, y)


def fd_grad(fn: Utility, X: Array, h: float = 1e-6) -> Array:
    G = np.empty_like(X)
    with single_threaded_blas():
        for j in range(X.shape[1]):
            e = np.zeros(X.shape[1])
            e[j] = h
            G[:, j] = (fn(X + e)[0] - fn(X - e)[0]) / (2.0 * h)
    return G


def assert_grad_matches(fn: Utility, X: Array, rtol: float = 1e-5) -> None:
    with single_threaded_blas():
        _, g = fn(X)
    G = fd_grad(fn, X)
    for i in range(X.shape[0]):  # per point: scales differ by orders of magnitude
        scale = max(float(np.max(np.abs(G[i]))), 1e-8)
        np.testing.assert_allclose(g[i], G[i], rtol=rtol, atol=rtol * scale)


def standardized_posterior(gp: GaussianProcess, X: Array) -> tuple[Array, Array]:
    """Mean and std in standardized units via the public predict (original units)."""
    post = gp.predict(X)
    return (post.mean - gp.y_mean_) / gp.y_std_, post.std / gp.y_std_


# --------------------------------------------------------------------------------------
# log h
# --------------------------------------------------------------------------------------


def test_log_h_matches_mpmath_at_50_digits_across_regimes() -> None:
    # Points around the old -1/sqrt(eps) boundary, where the erfcx form used to break down.
    z = np.r_[regime_points(), BOUNDARY, np.nextafter(BOUNDARY, -np.inf), -1e9, -1e10]
    got = log_h(z)
    want = np.array([ref_log_h(v) for v in z])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-1e3, 10.0))
def test_log_h_matches_mpmath_on_random_z(z: float) -> None:
    got = float(log_h(np.array([z]))[0])
    assert got == pytest.approx(ref_log_h(z), rel=1e-12, abs=1e-300)


# The whole left tail, including [-6.8e7, -4e7] where an earlier version returned NaN.
SAFE_TAIL = np.sort(np.r_[-np.logspace(10, -3, 3000), BOUNDARY])


def test_log_h_is_finite_and_increasing_down_to_minus_1e10() -> None:
    z = np.r_[SAFE_TAIL, np.linspace(0.0, 10.0, 200)[1:]]
    v = log_h(z)
    assert np.all(np.isfinite(v))
    assert np.all(np.diff(v) > 0)
    # Far tail: log h(z) ~ -z^2/2 - log(sqrt(2 pi)) - 2 log|z| (leading asymptotics).
    tail = z < -1e7
    lead = -0.5 * z[tail] ** 2 - 0.5 * np.log(2 * np.pi) - 2.0 * np.log(-z[tail])
    np.testing.assert_allclose(v[tail], lead, rtol=1e-14)


def test_log_h_is_finite_just_inside_the_asymptotic_boundary() -> None:
    z = np.r_[np.nextafter(BOUNDARY, 0.0), -51333396.43802892, -np.linspace(4.8e7, 6.7e7, 2001)]
    with np.errstate(all="ignore"):
        v = log_h(z)
    assert np.all(np.isfinite(v))
    want = np.array([ref_log_h(x) for x in z[:2]])
    np.testing.assert_allclose(v[:2], want, rtol=1e-12)


def test_log_h_emits_no_floating_point_warnings() -> None:
    z = -np.logspace(7, 8, 400)
    with np.errstate(all="raise"):
        log_h(z)


def test_log_h_derivative_matches_mpmath_and_finite_differences() -> None:
    z = np.r_[np.linspace(-1e3, 10.0, 101), -1.0, -1.0 + 1e-9, -1.0 - 1e-9, -5.0, 0.0, 3.0]
    lh = log_h(z)
    d = _dlog_h(z, lh)
    want = np.array([ref_dlog_h(v) for v in z])
    np.testing.assert_allclose(d, want, rtol=1e-9)
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    fd = (log_h(z + h) - log_h(z - h)) / (2.0 * h)
    np.testing.assert_allclose(d, fd, rtol=1e-6)


# --------------------------------------------------------------------------------------
# log EI, noisy log EI, UCB
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("best_q", [0.0, 0.3, 1.0])
def test_log_ei_gradient_matches_finite_differences(gp: GaussianProcess, best_q: float) -> None:
    z = gp._z
    best = float(np.quantile(z, best_q))
    X = np.random.default_rng(1).random((10, 2))
    assert_grad_matches(lambda A: log_ei(gp, A, best=best), X)


def test_exp_log_ei_equals_textbook_expected_improvement(gp: GaussianProcess) -> None:
    X = np.random.default_rng(2).random((200, 2))
    mu, sigma = standardized_posterior(gp, X)
    for best in (float(np.min(gp._z)), 0.0, 2.0):
        z = (best - mu) / sigma
        ei = sigma * (z * norm.cdf(z) + norm.pdf(z))
        ok = z > -20.0  # the textbook form loses accuracy to cancellation below
        assert ok.sum() > 20
        with single_threaded_blas():
            v, _ = log_ei(gp, X, best=best)
        np.testing.assert_allclose(np.exp(v[ok]), ei[ok], rtol=1e-8)


def test_log_ei_stays_finite_with_a_gradient_where_plain_ei_underflows(
    gp: GaussianProcess,
) -> None:
    # Right next to the worst observations, far above the incumbent: z << -38.
    worst = gp.X_[np.argsort(gp._z)[-3:]] + 1e-4
    best = float(np.min(gp._z))
    mu, sigma = standardized_posterior(gp, worst)
    z = (best - mu) / sigma
    plain = sigma * (z * norm.cdf(z) + norm.pdf(z))
    assert np.all(plain == 0.0)
    with single_threaded_blas():
        v, g = log_ei(gp, worst, best=best)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    assert np.all(np.linalg.norm(g, axis=1) > 0)
    assert_grad_matches(lambda A: log_ei(gp, A, best=best), worst)


def test_log_ei_prefers_lower_mean_and_higher_uncertainty(gp: GaussianProcess) -> None:
    X = np.random.default_rng(3).random((300, 2))
    mu, sigma = standardized_posterior(gp, X)
    best = float(np.min(gp._z))
    with single_threaded_blas():
        v, _ = log_ei(gp, X, best=best)
    # EI is increasing in (best - mu) at fixed sigma and in sigma at fixed mu: along any
    # pair where one point dominates (lower mu and higher sigma), EI must be higher.
    dom = (mu[:, None] < mu[None, :]) & (sigma[:, None] > sigma[None, :])
    i, j = np.nonzero(dom)
    assert i.size > 100
    assert np.all(v[i] > v[j])


@pytest.mark.parametrize("noise_var", [1e-6, 0.05, 1.0])
def test_noisy_log_ei_gradient_matches_finite_differences(
    gp: GaussianProcess, noise_var: float
) -> None:
    best = float(np.median(gp._z))
    X = np.random.default_rng(4).random((10, 2))
    assert_grad_matches(lambda A: noisy_log_ei(gp, A, best=best, noise_var=noise_var), X)


def test_noisy_log_ei_is_log_ei_times_the_augmentation_factor(gp: GaussianProcess) -> None:
    X = np.random.default_rng(5).random((50, 2))
    best, nv = 0.0, 0.2
    _, sigma = standardized_posterior(gp, X)
    with single_threaded_blas():
        a, _ = noisy_log_ei(gp, X, best=best, noise_var=nv)
        b, _ = log_ei(gp, X, best=best)
    factor = 1.0 - np.sqrt(nv) / np.sqrt(sigma**2 + nv)  # Huang et al. 2006, eq. 14
    np.testing.assert_allclose(np.exp(a - b), factor, rtol=1e-9)
    with single_threaded_blas():
        c, _ = noisy_log_ei(gp, X, best=best, noise_var=0.0)
    np.testing.assert_allclose(c, b, rtol=1e-14)


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0, 25.0])
def test_ucb_equals_negated_lower_confidence_bound(gp: GaussianProcess, beta: float) -> None:
    X = np.random.default_rng(6).random((30, 2))
    mu, sigma = standardized_posterior(gp, X)
    with single_threaded_blas():
        v, _ = ucb(gp, X, beta=beta)
    np.testing.assert_allclose(v, -(mu - np.sqrt(beta) * sigma), rtol=1e-10, atol=1e-12)
    assert_grad_matches(lambda A: ucb(gp, A, beta=beta), X[:8])


@pytest.mark.parametrize("name", ["log_ei", "noisy_log_ei", "ucb"])
def test_value_only_path_gives_the_same_values(gp: GaussianProcess, name: str) -> None:
    X = np.random.default_rng(7).random((40, 2))
    fn: Utility = {
        "log_ei": lambda A, **kw: log_ei(gp, A, best=0.1, **kw),
        "noisy_log_ei": lambda A, **kw: noisy_log_ei(gp, A, best=0.1, noise_var=0.1, **kw),
        "ucb": lambda A, **kw: ucb(gp, A, beta=2.0, **kw),
    }[name]
    with single_threaded_blas():
        v1, g1 = fn(X)
        v0, g0 = fn(X, grad=False)
    np.testing.assert_allclose(v0, v1, rtol=1e-13, atol=1e-13)
    assert g1.shape == (40, 2)
    assert g0.shape[0] == 40 and g0.size == 0


# --------------------------------------------------------------------------------------
# maximize_acquisition
# --------------------------------------------------------------------------------------


def quadratic(center: Array, weights: Array) -> Utility:
    def u(X: Array, grad: bool = True) -> tuple[Array, Array]:
        D = X - center
        return -np.sum(weights * D * D, axis=1), -2.0 * weights * D

    return u


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 4), with_anchors=st.booleans())
def test_maximize_acquisition_finds_interior_maximum_of_a_quadratic(
    seed: int, d: int, with_anchors: bool
) -> None:
    rng = np.random.default_rng(seed)
    center = rng.uniform(0.1, 0.9, size=d)
    weights = rng.uniform(0.5, 5.0, size=d)
    anchors = rng.random((3, d)) if with_anchors else np.empty((0, d))
    x, v = maximize_acquisition(
        quadratic(center, weights),
        d,
        anchors=anchors,
        scales=np.full(d, 0.2),
        rng=np.random.default_rng(seed),
        n_raw=64,
    )
    assert x.shape == (d,)
    # L-BFGS-B stops on a projected gradient of 1e-5 (or on ftol of the summed starts): the
    # gradient here is 2 w (x - c) with w >= 0.5, so x is within ~1e-5 of the centre, a bit
    # more when ftol stops first (seed 301, d = 4 ended 1.55e-5 away)
    np.testing.assert_allclose(x, center, atol=5e-5)
    assert v == pytest.approx(-np.sum(weights * (x - center) ** 2), abs=1e-15)
    assert v > -1e-8  # the maximum's value, 0, to within the optimizer's tolerance


def test_maximize_acquisition_stays_in_the_unit_cube() -> None:
    # Maximum outside the cube: the answer is the nearest face/corner, never outside.
    center = np.array([1.7, -0.4, 0.5])
    far = np.array([[0.9, 0.1, 0.5], [0.95, 0.05, 0.4]])
    x, _ = maximize_acquisition(
        quadratic(center, np.ones(3)),
        3,
        anchors=far,
        scales=np.full(3, 5.0),  # perturbations well outside [0, 1]
        rng=np.random.default_rng(0),
        n_raw=32,
    )
    assert np.all((x >= 0.0) & (x <= 1.0))
    np.testing.assert_allclose(x, [1.0, 0.0, 0.5], atol=1e-6)


def test_maximize_acquisition_sees_only_unit_cube_points() -> None:
    seen: list[Array] = []
    base = quadratic(np.array([0.3, 0.6]), np.ones(2))

    def u(X: Array, grad: bool = True) -> tuple[Array, Array]:
        seen.append(X.copy())
        return base(X, grad)

    maximize_acquisition(
        u, 2, anchors=np.array([[0.0, 1.0]]), scales=np.full(2, 3.0), rng=np.random.default_rng(1)
    )
    allx = np.vstack(seen)
    assert np.all((allx >= 0.0) & (allx <= 1.0))


def test_maximize_acquisition_is_deterministic_for_a_seed() -> None:
    # A multimodal utility so the answer depends on which starts are chosen.
    def u(X: Array, grad: bool = True) -> tuple[Array, Array]:
        s = np.sin(9.0 * X)
        return np.sum(s, axis=1) - np.sum(X, axis=1), 9.0 * np.cos(9.0 * X) - 1.0

    kw = {"anchors": np.array([[0.2, 0.8]]), "scales": np.full(2, 0.1), "n_raw": 64}
    a = maximize_acquisition(u, 2, rng=np.random.default_rng(5), **kw)  # type: ignore[arg-type]
    b = maximize_acquisition(u, 2, rng=np.random.default_rng(5), **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_maximize_acquisition_with_no_finite_candidate_returns_minus_inf() -> None:
    def u(X: Array, grad: bool = True) -> tuple[Array, Array]:
        return np.full(X.shape[0], -np.inf), np.zeros_like(X)

    x, v = maximize_acquisition(
        u, 2, anchors=np.empty((0, 2)), scales=np.ones(2), rng=np.random.default_rng(0), n_raw=16
    )
    assert v == -np.inf
    assert x.shape == (2,) and np.all((x >= 0) & (x <= 1))


def test_maximize_acquisition_beats_every_raw_candidate_on_a_gp_utility(
    gp: GaussianProcess,
) -> None:
    best = float(np.min(gp._z))

    def u(X: Array, grad: bool = True) -> tuple[Array, Array]:
        return log_ei(gp, X, best=best, grad=grad)

    with single_threaded_blas():
        x, v = maximize_acquisition(
            u, 2, anchors=gp.X_[:3], scales=gp.lengthscale_, rng=np.random.default_rng(0)
        )
        grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 101)] * 2), axis=-1).reshape(-1, 2)
        gv, _ = u(grid)
    assert v == pytest.approx(float(u(x[None])[0][0]), rel=1e-12)
    # Within a small tolerance of the best of a 101 x 101 grid (gradient polish included).
    assert v >= float(np.max(gv)) - 1e-3 * abs(float(np.max(gv)))
