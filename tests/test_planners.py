"""Planners behind ask/tell/recommend: the shared contract (bounds, shapes, determinism,
errors, goal), the design planners' space filling, and Bayesian optimization's behaviour on
problems with known optima, noise, failures and batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from ardlib.planners import (
    BayesianOptimization,
    LatinHypercube,
    NotReadyError,
    Planner,
    RandomSearch,
    Sobol,
)

Array = NDArray[np.float64]
Factory = Callable[..., Planner]

FAST_BO: dict[str, Any] = {"n_raw": 32, "n_starts": 2, "n_initial": 3}
FACTORIES: dict[str, Factory] = {
    "random": RandomSearch,
    "sobol": Sobol,
    "lhs": LatinHypercube,
    "bo": lambda **kw: BayesianOptimization(**FAST_BO, **kw),
}
NAMES = list(FACTORIES)
UNIT2 = [[0.0, 1.0], [0.0, 1.0]]


# --------------------------------------------------------------------------------------
# Test problems (ground truth written here, independent of ardlib.objectives)
# --------------------------------------------------------------------------------------

BRANIN_BOUNDS = np.array([[-5.0, 10.0], [0.0, 15.0]])
BRANIN_MIN = 0.397887357729738


def branin(X: Array) -> Array:
    x1, x2 = X[:, 0], X[:, 1]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


def branin_range() -> float:
    g = np.linspace(0.0, 1.0, 301)
    G = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    vals = branin(BRANIN_BOUNDS[:, 0] + G * np.ptp(BRANIN_BOUNDS, axis=1))
    return float(vals.max() - BRANIN_MIN)


def bowl(center: Array) -> Callable[[Array], Array]:
    """Quadratic with minimum 0 at ``center`` (unequal curvatures)."""
    w = np.array([1.0, 3.0, 0.5, 2.0])[: center.size]

    def f(X: Array) -> Array:
        return np.sum(w * (X - center) ** 2, axis=1)

    return f


def unit_dist(X: Array, Y: Array, bounds: Array) -> Array:
    """Pairwise distances after scaling the box to the unit cube, shape (len(X), len(Y))."""
    w = np.ptp(bounds, axis=1)
    return np.linalg.norm((X[:, None, :] - Y[None, :, :]) / w, axis=2)


def min_pairwise(X: Array, bounds: Array) -> float:
    D = unit_dist(X, X, bounds)
    np.fill_diagonal(D, np.inf)
    return float(D.min())


def run_script(planner: Planner, sizes: list[int], f: Callable[[Array], Array]) -> list[Array]:
    """Alternate ask(n) and tell for each n in ``sizes``; return the asks."""
    asks = []
    for n in sizes:
        X = planner.ask(n)
        asks.append(X)
        planner.tell(X, f(X))
    return asks


bounds_strategy = st.lists(
    st.tuples(st.floats(-1e3, 1e3), st.floats(-3.0, 3.0)), min_size=1, max_size=4
).map(lambda rows: np.array([[lo, lo + 10.0**lw] for lo, lw in rows]))


def scaled_bowl(bounds: Array) -> Callable[[Array], Array]:
    lo, w = bounds[:, 0], np.ptp(bounds, axis=1)
    return lambda X: np.sum(((X - lo) / w - 0.3) ** 2, axis=1)


# --------------------------------------------------------------------------------------
# Public surface
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Contract: bounds, shapes, determinism
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12, deadline=None)
@given(
    bounds=bounds_strategy,
    seed=st.integers(0, 2**63 - 1),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4),
)
def test_asks_are_inside_bounds_with_shape_and_reproducible(
    name: str, bounds: Array, seed: int, sizes: list[int]
) -> None:
    f = scaled_bowl(bounds)
    d, lo, hi = bounds.shape[0], bounds[:, 0], bounds[:, 1]
    first = run_script(FACTORIES[name](bounds=bounds.tolist(), rng=seed), sizes, f)
    for pts, n in zip(first, sizes, strict=True):
        assert pts.shape == (n, d) and pts.dtype == np.float64
        assert np.all(pts >= lo) and np.all(pts <= hi)
    again = run_script(FACTORIES[name](bounds=bounds.tolist(), rng=seed), sizes, f)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(bounds=bounds_strategy, seeds=st.lists(st.integers(0, 2**63 - 1), min_size=2, max_size=2))
def test_different_seeds_give_different_asks(name: str, bounds: Array, seeds: list[int]) -> None:
    if seeds[0] == seeds[1]:
        seeds[1] += 1
    a, b = (FACTORIES[name](bounds=bounds, rng=s).ask(3) for s in seeds)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_generator_seed_and_int_seed_agree(name: str) -> None:
    a = FACTORIES[name](bounds=UNIT2, rng=5).ask(4)
    b = FACTORIES[name](bounds=UNIT2, rng=np.random.default_rng(5)).ask(4)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make_rng",
    [lambda: 0, lambda: 12345, lambda: np.random.SeedSequence(99)],
    ids=["0", "12345", "seedseq"],
)
@pytest.mark.parametrize("n_initial", [5, 20])
def test_sobol_planner_and_bo_initial_design_are_paired(
    make_rng: Callable[[], Any], n_initial: int
) -> None:
    bounds = [[-1.0, 2.0], [10.0, 20.0], [0.0, 1e-3]]
    sobol = Sobol(bounds=bounds, rng=make_rng())
    sob = np.vstack([sobol.ask(1) for _ in range(n_initial)])
    bo = BayesianOptimization(bounds=bounds, rng=make_rng(), n_initial=n_initial)
    np.testing.assert_array_equal(bo.ask(n_initial), sob)
    # Same points one at a time, and the batch equals a one-shot Sobol ask.
    bo1 = BayesianOptimization(bounds=bounds, rng=make_rng(), n_initial=n_initial)
    np.testing.assert_array_equal(np.vstack([bo1.ask(1) for _ in range(n_initial)]), sob)
    np.testing.assert_array_equal(Sobol(bounds=bounds, rng=make_rng()).ask(n_initial), sob)


@pytest.mark.parametrize("name", ["sobol", "lhs", "bo"])
def test_same_seed_sequence_object_reproduces_the_asks(name: str) -> None:
    ss = np.random.SeedSequence(99)
    a = FACTORIES[name](bounds=UNIT2, rng=ss).ask(3)
    b = FACTORIES[name](bounds=UNIT2, rng=ss).ask(3)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# Contract: errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_recommend_before_any_success_raises_not_ready(name: str) -> None:
    p = FACTORIES[name](bounds=UNIT2, rng=0)
    with pytest.raises(NotReadyError, match=r"recommend\(\).*call tell\(X, y\) first"):
        p.recommend()
    X = p.ask(2)
    p.tell(X, [np.nan, np.nan])  # failures only
    with pytest.raises(NotReadyError, match=r"tell"):
        p.recommend()
    assert issubclass(NotReadyError, RuntimeError)


TELL_ERRORS = [
    ("X-1d", [0.5, 0.5], [1.0], r"'X' parameter.*reshape\(1, -1\)"),
    ("X-columns", [[0.5, 0.5, 0.5]], [1.0], r"'X' parameter.*shape \(n, 2\)"),
    ("X-nan", [[0.5, np.nan]], [1.0], r"'X' parameter.*finite"),
    ("X-inf", [[np.inf, 0.5]], [1.0], r"'X' parameter.*finite"),
    ("X-outside", [[0.5, 1.5]], [1.0], r"'X' parameter.*inside the bounds"),
    ("X-text", [["a", "b"]], [1.0], r"'X' parameter.*numeric"),
    ("y-inf", [[0.5, 0.5]], [np.inf], r"'y' parameter.*infinity"),
    ("y-short", [[0.5, 0.5], [0.1, 0.1]], [1.0], r"'y' parameter.*shape \(2,\)"),
    ("y-scalar", [[0.5, 0.5]], 1.0, r"'y' parameter.*shape \(1,\)"),
    ("y-2d", [[0.5, 0.5]], [[1.0]], r"'y' parameter.*shape \(1,\)"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("X", "y", "match"), [c[1:] for c in TELL_ERRORS], ids=[c[0] for c in TELL_ERRORS]
)
def test_tell_rejects_malformed_input_naming_the_argument(
    name: str, X: Any, y: Any, match: str
) -> None:
    p = FACTORIES[name](bounds=UNIT2, rng=0)
    with pytest.raises(ValueError, match=match):
        p.tell(X, y)
    # Nothing was recorded by the failed call.
    assert p.n_observations == 0 and p.X_failed_.shape == (0, 2)


@pytest.mark.parametrize("name", NAMES)
def test_tell_accepts_points_on_the_boundary(name: str) -> None:
    p = FACTORIES[name](bounds=[[-1.0, 1.0], [2.0, 3.0]], rng=0)
    p.tell([[-1.0, 2.0], [1.0, 3.0]], [1.0, 0.0])
    np.testing.assert_array_equal(p.recommend(), [1.0, 3.0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_ask_rejects_bad_n(name: str, n: Any) -> None:
    with pytest.raises(ValueError, match=r"The 'n' parameter of \w+\.ask must be an int >= 1"):
        FACTORIES[name](bounds=UNIT2, rng=0).ask(n)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"goal": "max"}, r"The 'goal' parameter of \w+ must be one of 'minimize', 'maximize'"),
        ({"bounds": [[1.0, 0.0]]}, r"The 'bounds' parameter of \w+ must have low < high"),
        ({"bounds": [0.0, 1.0]}, r"The 'bounds' parameter of \w+ must be an array of shape"),
        ({"bounds": [[0.0, np.inf]]}, r"The 'bounds' parameter of \w+ must be finite"),
    ],
)
def test_bad_common_settings_raise_at_first_use(
    name: str, kwargs: dict[str, Any], match: str
) -> None:
    p = FACTORIES[name](**{"bounds": UNIT2, "rng": 0, **kwargs})  # stores, never raises
    with pytest.raises(ValueError, match=match):
        p.ask(1)


# --------------------------------------------------------------------------------------
# Goal
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_random_search_recommends_the_best_observation_for_the_goal(goal: str) -> None:
    p = RandomSearch(bounds=UNIT2, rng=0, goal=goal)
    X = p.ask(20)
    y = np.random.default_rng(1).standard_normal(20)
    p.tell(X, y)
    i = int(np.argmax(y) if goal == "maximize" else np.argmin(y))
    np.testing.assert_array_equal(p.recommend(), X[i])


@pytest.mark.parametrize("name", NAMES)
def test_maximizing_f_is_minimizing_minus_f(name: str) -> None:
    bounds = [[-2.0, 3.0], [10.0, 11.0]]
    f = bowl(np.array([0.5, 10.2]))
    up = FACTORIES[name](bounds=bounds, rng=3, goal="maximize")
    down = FACTORIES[name](bounds=bounds, rng=3)
    for _ in range(8):
        xa, xb = up.ask(1), down.ask(1)
        np.testing.assert_array_equal(xa, xb)
        up.tell(xa, -f(xa))
        down.tell(xb, f(xb))
    np.testing.assert_array_equal(up.recommend(), down.recommend())


def test_bo_maximization_finds_the_maximum() -> None:
    center = np.array([0.62, -0.35])
    f = bowl(center)
    bo = BayesianOptimization(bounds=[[-1.0, 1.0], [-1.0, 1.0]], rng=1, goal="maximize", n_raw=64)
    first = run_script(bo, [5], lambda X: 5.0 - f(X))
    run_script(bo, [1] * 15, lambda X: 5.0 - f(X))
    r = bo.recommend()
    assert 5.0 - f(r[None])[0] > np.max(5.0 - f(first[0]))  # improved on the design
    np.testing.assert_allclose(r, center, atol=1e-2)


# --------------------------------------------------------------------------------------
# Design planners
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 32])
def test_latin_hypercube_batch_is_stratified_in_every_dimension(n: int) -> None:
    bounds = np.array([[-3.0, 5.0], [0.0, 1e-2], [100.0, 200.0]])
    X = LatinHypercube(bounds=bounds, rng=0).ask(n)
    U = (X - bounds[:, 0]) / np.ptp(bounds, axis=1)
    for j in range(3):
        cells = np.floor(U[:, j] * n).astype(int)
        np.testing.assert_array_equal(np.sort(cells), np.arange(n))


def test_sobol_first_power_of_two_points_are_stratified_even_when_asked_one_by_one() -> None:
    p = Sobol(bounds=UNIT2, rng=4)
    X = np.vstack([p.ask(1) for _ in range(16)])
    for j in range(2):
        np.testing.assert_array_equal(np.sort(np.floor(X[:, j] * 16)), np.arange(16))
    # Together with the next 16 (asked as a batch) they form the first 32 of the sequence.
    Y = np.vstack([X, p.ask(16)])
    np.testing.assert_array_equal(Y, Sobol(bounds=UNIT2, rng=4).ask(32))
    assert min_pairwise(Y, np.array(UNIT2)) > 0


def test_sobol_accepts_any_sequence_of_batch_sizes() -> None:
    p = Sobol(bounds=UNIT2, rng=0)
    X = np.vstack([p.ask(1), p.ask(20), p.ask(40)])
    np.testing.assert_array_equal(X, Sobol(bounds=UNIT2, rng=0).ask(61))


@pytest.mark.parametrize("name", ["random", "sobol", "lhs"])
def test_recommend_returns_an_independent_array(name: str) -> None:
    p = FACTORIES[name](bounds=UNIT2, rng=0)
    X = p.ask(3)
    p.tell(X, [3.0, 1.0, 2.0])
    r = p.recommend()
    r[:] = 0.5
    np.testing.assert_array_equal(p.X_, X)


# --------------------------------------------------------------------------------------
# Bayesian optimization: convergence and robustness to noise
# --------------------------------------------------------------------------------------


def bo_regret(f: Callable[[Array], Array], bounds: Array, fmin: float, seed: int) -> float:
    bo = BayesianOptimization(bounds=bounds, rng=seed, n_raw=128)
    run_script(bo, [1] * 25, f)
    assert bo.n_observations == 25
    return float(f(bo.recommend()[None])[0] - fmin)


@pytest.mark.parametrize(
    "seed", [0, *(pytest.param(s, marks=pytest.mark.slow) for s in range(1, 6))]
)  # one seed in the fast tier, all six in the full suite
def test_bo_solves_noiseless_branin_in_25_evaluations(seed: int) -> None:
    regret = bo_regret(branin, BRANIN_BOUNDS, BRANIN_MIN, seed)
    assert 0 <= regret < 1e-2 * branin_range()


@pytest.mark.parametrize("seed", [pytest.param(0, marks=pytest.mark.slow), 1])
def test_bo_solves_noiseless_quadratic_in_25_evaluations(seed: int) -> None:
    center = np.array([0.3, -0.4])
    regret = bo_regret(bowl(center), np.array([[-1.0, 1.0], [-1.0, 1.0]]), 0.0, seed)
    assert 0 <= regret < 1e-6


@pytest.mark.slow
def test_bo_beats_random_search_on_branin_on_every_seed() -> None:
    # Seeded Monte-Carlo comparison at an equal budget of 25 evaluations.
    regrets = []
    for seed in range(20):
        rs = RandomSearch(bounds=BRANIN_BOUNDS, rng=seed)
        run_script(rs, [25], branin)
        random_regret = float(branin(rs.recommend()[None])[0] - BRANIN_MIN)
        bo_regret_ = bo_regret(branin, BRANIN_BOUNDS, BRANIN_MIN, seed)
        assert bo_regret_ < random_regret
        regrets.append(bo_regret_)
    assert np.median(regrets) < 1e-3 * branin_range()


def noisy_grid_with_outlier(seed: int) -> tuple[Array, Array, Callable[[Array], Array]]:
    """4 x 4 grid, 3 replicates per point, noise sd 0.2 on 4 |x - 0.35|^2; one replicate at
    the worst corner (1, 1) (true value 3.38) is replaced by an outlier at -1.5."""

    def g(X: Array) -> Array:
        return 4.0 * np.sum((X - 0.35) ** 2, axis=1)

    grid = np.linspace(0.0, 1.0, 4)
    X = np.repeat(np.array([[a, b] for a in grid for b in grid]), 3, axis=0)
    y = g(X) + 0.2 * np.random.default_rng(seed).standard_normal(X.shape[0])
    y[np.flatnonzero(np.all(X == 1.0, axis=1))[0]] = -1.5
    return X, y, g


@pytest.mark.parametrize("recommendation", ["observed", "model"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bo_recommend_is_not_the_luckiest_noisy_observation(recommendation: str, seed: int) -> None:
    X, y, g = noisy_grid_with_outlier(seed)
    luckiest = X[int(np.argmin(y))]
    np.testing.assert_array_equal(luckiest, [1.0, 1.0])  # the construction works
    bo = BayesianOptimization(bounds=UNIT2, rng=seed, n_raw=64, recommendation=recommendation)
    bo.tell(X, y)
    r = bo.recommend()
    assert g(r[None])[0] < 0.1 < g(luckiest[None])[0]
    # It is also the best true value among the evaluated points, up to grid resolution.
    assert g(r[None])[0] <= np.min(g(X)) + 0.05


@pytest.mark.parametrize("acquisition", ["noisy_ei", "ucb"])
def test_bo_noisy_ei_and_ucb_find_the_optimum_under_small_noise(acquisition: str) -> None:
    f = bowl(np.array([0.7, 0.2]))
    noise = np.random.default_rng(0)
    bo = BayesianOptimization(bounds=UNIT2, rng=2, n_raw=64, acquisition=acquisition)
    run_script(bo, [1] * 20, lambda X: f(X) + 0.01 * noise.standard_normal(X.shape[0]))
    assert f(bo.recommend()[None])[0] < 0.01


# --------------------------------------------------------------------------------------
# Bayesian optimization: failed experiments
# --------------------------------------------------------------------------------------


def test_failed_experiments_are_kept_out_of_the_model_data() -> None:
    bo = BayesianOptimization(bounds=UNIT2, rng=0, **FAST_BO)
    X = bo.ask(3)
    bo.tell(X, [1.0, np.nan, 2.0])
    np.testing.assert_array_equal(bo.X_, X[[0, 2]])
    np.testing.assert_array_equal(bo.y_, [1.0, 2.0])
    np.testing.assert_array_equal(bo.X_failed_, X[[1]])
    assert bo.n_observations == 2
    bo.ask(1)  # fits a GP on the two successes only
    assert bo.gp_ is not None
    np.testing.assert_allclose(bo.gp_.X_, X[[0, 2]])
    assert np.all(np.isfinite(bo.gp_.theta_))


def failing_region_run(seed: int, **kwargs: Any) -> tuple[Array, Array]:
    """25 asks on a bowl whose optimum (0.8, 0.8) lies in a region x0 > 0.6 that always
    fails. Returns all asks and the failure mask."""
    f = bowl(np.array([0.8, 0.8]))
    bo = BayesianOptimization(bounds=UNIT2, rng=seed, n_raw=64, **kwargs)
    asks, failed = [], []
    for _ in range(25):
        x = bo.ask(1)
        bad = x[:, 0] > 0.6
        bo.tell(x, np.where(bad, np.nan, f(x)))
        asks.append(x[0])
        failed.append(bool(bad[0]))
    A, F = np.array(asks), np.array(failed)
    np.testing.assert_array_equal(bo.X_failed_, A[F])
    np.testing.assert_array_equal(bo.X_, A[~F])
    return A, F


def closest_to_an_earlier_failure(A: Array, F: Array) -> float:
    best = np.inf
    for i in range(1, A.shape[0]):
        prev = A[:i][F[:i]]
        if prev.shape[0]:
            best = min(best, float(np.min(np.linalg.norm(prev - A[i], axis=1))))
    return best


@pytest.mark.parametrize("acquisition", ["log_ei", "noisy_ei", "ucb"])
def test_bo_acquisition_never_reasks_a_failed_point(acquisition: str) -> None:
    A, F = failing_region_run(0, acquisition=acquisition, exploit_every=None)
    assert F.sum() >= 3  # the region was probed
    assert closest_to_an_earlier_failure(A, F) > 1e-2


@pytest.mark.parametrize("seed", [0, 1])
def test_bo_default_settings_never_reask_a_failed_point(seed: int) -> None:
    A, F = failing_region_run(seed)
    assert closest_to_an_earlier_failure(A, F) > 1e-2


@pytest.mark.parametrize("seed", [0, 7])
def test_all_failed_initial_design_falls_back_to_continuing_sobol(seed: int) -> None:
    bounds = [[-2.0, 3.0], [10.0, 11.0], [0.0, 1.0]]
    bo = BayesianOptimization(bounds=bounds, rng=seed, n_raw=32)
    sobol = Sobol(bounds=bounds, rng=seed)
    asks = []
    for _ in range(12):
        x = bo.ask(1)
        np.testing.assert_array_equal(x, sobol.ask(1))
        bo.tell(x, [np.nan])
        asks.append(x[0])
    x = bo.ask(3)
    np.testing.assert_array_equal(x, sobol.ask(3))
    A = np.vstack([np.array(asks), x])
    assert min_pairwise(A, np.array(bounds)) > 1e-3
    assert bo.n_observations == 0 and bo.X_failed_.shape == (12, 3)
    assert bo.gp_ is None
    # One success is still not enough for a model: the design continues.
    bo.tell(x, [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(bo.ask(2), sobol.ask(2))
    np.testing.assert_array_equal(bo.recommend(), x[0])


# --------------------------------------------------------------------------------------
# Bayesian optimization: batches
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bo_batch_of_three_is_three_distinct_points(seed: int) -> None:
    bo = BayesianOptimization(bounds=BRANIN_BOUNDS, rng=seed, n_raw=64)
    run_script(bo, [5], branin)
    X = bo.ask(3)
    assert X.shape == (3, 2)
    assert min_pairwise(X, BRANIN_BOUNDS) > 1e-3
    # Not a re-ask of an evaluated point either.
    assert unit_dist(X, bo.X_, BRANIN_BOUNDS).min() > 1e-3


class _ExploitLog(BayesianOptimization):
    """Records the model-based point count at each exploitation step."""

    def _mean_utility(self, gp: Any) -> Any:
        self.exploited.append(self.n_asked_ - self._n_design)
        return super()._mean_utility(gp)


@pytest.mark.parametrize(
    ("d", "every", "expected"),
    [(2, 2, [5, 7, 9]), (3, 2, [7, 9, 11]), (2, 3, [5, 8]), (3, 3, [8, 11])],
)
def test_bo_exploits_only_after_two_model_points_per_dimension(
    d: int, every: int, expected: list[int]
) -> None:
    # model-based points 0 .. 2d-1 are EI; after them every exploit_every-th one
    # exploits, counted from the campaign's first model-based point (numbers written out)
    bo = _ExploitLog(bounds=[[0.0, 1.0]] * d, rng=0, n_raw=64, exploit_every=every)
    bo.exploited = []
    run_script(bo, [1] * (5 + 2 * d + 6), bowl(np.full(d, 0.3)))
    assert bo.exploited == expected


def test_bo_told_earlier_data_exploits_from_its_first_asks() -> None:
    # the delay counts experiments, not asks: with n_initial + 2d told, none is left
    d = 2
    rng = np.random.default_rng(3)
    bo = _ExploitLog(bounds=UNIT2, rng=0, n_raw=64)
    bo.exploited = []
    X0 = rng.random((5 + 2 * d, d))
    bo.tell(X0, bowl(np.full(d, 0.3))(X0))
    run_script(bo, [1] * 6, bowl(np.full(d, 0.3)))
    assert bo.exploited == [1, 3, 5]


def batch_rounds(seed: int, **kwargs: Any) -> list[float]:
    f = bowl(np.array([0.3, 0.3]))
    bo = BayesianOptimization(bounds=UNIT2, rng=seed, n_raw=64, **kwargs)
    run_script(bo, [5], f)
    return [min_pairwise(X, np.array(UNIT2)) for X in run_script(bo, [3] * 4, f)]


@pytest.mark.slow
def test_bo_batches_without_exploitation_stay_distinct() -> None:
    # Near convergence kriging-believer picks approach each other (~1e-4 here); "distinct"
    # means not the same experiment twice, checked at 1e-5 of the box width.
    for seed in (0, 1, 2):
        assert min(batch_rounds(seed, exploit_every=None)) > 1e-5


@pytest.mark.slow
def test_bo_batches_with_default_settings_stay_distinct() -> None:
    for seed in (0, 1, 2):
        assert min(batch_rounds(seed)) > 1e-5


# --------------------------------------------------------------------------------------
# Settings: storage, validation, repr
# --------------------------------------------------------------------------------------

BAD_BO = [
    ({"acquisition": "ei"}, "acquisition", "must be one of 'log_ei', 'noisy_ei', 'ucb'. Got 'ei'."),
    ({"beta": -1.0}, "beta", "must be a finite float >= 0. Got -1.0."),
    ({"beta": float("nan")}, "beta", "must be a finite float >= 0. Got nan."),
    ({"n_initial": 0}, "n_initial", "must be an int >= 1. Got 0."),
    ({"n_initial": 2.0}, "n_initial", "must be an int >= 1. Got 2.0."),
    ({"n_restarts": -1}, "n_restarts", "must be an int >= 0. Got -1."),
    ({"full_refit_every": 0}, "full_refit_every", "must be an int >= 1. Got 0."),
    ({"n_raw": 0}, "n_raw", "must be an int >= 1. Got 0."),
    ({"n_starts": 0}, "n_starts", "must be an int >= 1. Got 0."),
    ({"exploit_every": 0}, "exploit_every", "must be an int >= 1. Got 0."),
    ({"failure_radius": 0.0}, "failure_radius", "must be a finite float > 0. Got 0.0."),
    ({"n_hyper_draws": -1}, "n_hyper_draws", "must be an int >= 0. Got -1."),
    ({"recommendation": "best"}, "recommendation", "must be one of 'observed', 'model'."),
]


@pytest.mark.parametrize(("kwargs", "param", "tail"), BAD_BO, ids=[b[1] for b in BAD_BO])
@pytest.mark.parametrize("first_call", ["ask", "tell", "recommend"])
def test_bo_bad_settings_raise_sklearn_style_message_at_first_use(
    kwargs: dict[str, Any], param: str, tail: str, first_call: str
) -> None:
    bo = BayesianOptimization(bounds=UNIT2, rng=0, **kwargs)
    for key, value in kwargs.items():
        assert getattr(bo, key) is value
    call = {
        "ask": lambda: bo.ask(1),
        "tell": lambda: bo.tell([[0.5, 0.5]], [1.0]),
        "recommend": bo.recommend,
    }[first_call]
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"The '{param}' parameter of BayesianOptimization ")
    assert tail in msg


def test_latin_hypercube_bad_optimization_is_named() -> None:
    p = LatinHypercube(bounds=UNIT2, optimization="best")
    with pytest.raises(ValueError, match=r"The 'optimization' parameter of LatinHypercube"):
        p.ask(2)


@pytest.mark.parametrize(
    ("factory", "kwargs", "fix"),
    [
        (BayesianOptimization, {"beta": -1.0}, {"beta": 4.0}),
        (RandomSearch, {"goal": "up"}, {"goal": "minimize"}),
        (LatinHypercube, {"optimization": "x"}, {"optimization": None}),
    ],
    ids=["bo-beta", "random-goal", "lhs-optimization"],
)
def test_validation_error_repeats_and_a_fixed_setting_then_works(
    factory: Factory, kwargs: dict[str, Any], fix: dict[str, Any]
) -> None:
    p = factory(bounds=UNIT2, rng=0, **kwargs)
    for _ in range(2):
        with pytest.raises(ValueError, match=rf"The '{next(iter(kwargs))}' parameter"):
            p.ask(1)
    for key, value in fix.items():
        setattr(p, key, value)
    assert p.ask(2).shape == (2, 2)


@pytest.mark.parametrize("name", NAMES)
def test_constructor_stores_settings_only(name: str) -> None:
    bounds = object()  # not even array-like: only checked at first use
    p = FACTORIES[name](bounds=bounds, rng=-5, goal="sideways")
    params = p.get_params()
    assert params["bounds"] is bounds and params["rng"] == -5 and params["goal"] == "sideways"
    assert not any(k.endswith("_") for k in vars(p))  # no learned state yet
    with pytest.raises(ValueError, match="'bounds'"):
        p.ask(1)


def test_get_params_round_trips_through_the_constructor() -> None:
    bo = BayesianOptimization(bounds=UNIT2, rng=3, acquisition="ucb", beta=2.0, n_raw=64)
    params = bo.get_params()
    assert params == {
        "bounds": UNIT2,
        "rng": 3,
        "goal": "minimize",
        "acquisition": "ucb",
        "beta": 2.0,
        "n_initial": 5,
        "n_restarts": 2,
        "full_refit_every": 5,
        "n_raw": 64,
        "n_starts": 4,
        "failure_radius": 0.5,
        "recommendation": "observed",
        "exploit_every": 2,
        "max_fit_points": 128,
        "n_hyper_draws": 8,
    }
    clone = BayesianOptimization(**params)
    np.testing.assert_array_equal(clone.ask(6), BayesianOptimization(**params).ask(6))
    assert Sobol(bounds=UNIT2, scramble=False).get_params()["scramble"] is False
    assert LatinHypercube(bounds=UNIT2, optimization="lloyd").get_params()["optimization"] == (
        "lloyd"
    )


def test_repr_shows_settings_but_not_bounds_or_rng() -> None:
    r = repr(BayesianOptimization(bounds=UNIT2, rng=3, acquisition="ucb", n_raw=64))
    assert r.startswith("BayesianOptimization(goal='minimize', acquisition='ucb', beta=4.0,")
    assert "n_raw=64" in r and "bounds" not in r and "rng" not in r
    assert repr(RandomSearch(bounds=UNIT2, goal="maximize")) == "RandomSearch(goal='maximize')"
    assert repr(Sobol(bounds=UNIT2)) == "Sobol(goal='minimize', scramble=True)"


@pytest.mark.parametrize("name", NAMES)
def test_dim_and_n_observations(name: str) -> None:
    p = FACTORIES[name](bounds=[[0.0, 1.0]] * 3, rng=0)
    assert p.dim == 3 and p.n_observations == 0
    X = p.ask(4)
    p.tell(X, [1.0, np.nan, 2.0, 3.0])
    assert p.n_observations == 3 and p.X_failed_.shape == (1, 3)
