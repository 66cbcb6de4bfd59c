"""Noise and failure models: determinism, common random numbers, statistics, validation."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats

from ardlib.objectives import NoiseModel, Objective, Observation
from ardlib.objectives import _noise as noise_module
from ardlib.objectives._noise import (
    Compose,
    DriftNoise,
    FailureModel,
    GaussianNoise,
    HeteroscedasticNoise,
    InputNoise,
    NoNoise,
    OutlierNoise,
    Region,
    noise_from_spec,
)


class Bowl(Objective):
    """f(x) = x0^2 + (x1 - 1)^2 on [-1, 1] x [0, 2]; f = 0 at (0, 1), f = 2 at (1, 2)."""

    name = "bowl"

    def __init__(self) -> None:
        self._set_box([[-1.0, 1.0], [0.0, 2.0]])
        self.optimal_value = 0.0
        self.optimizers = np.array([[0.0, 1.0]])

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return X[:, 0] ** 2 + (X[:, 1] - 1.0) ** 2


BOWL = Bowl()
TWO_POINTS = np.array([[0.0, 1.0], [1.0, 2.0]])


def hot(X: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Module-level region: the reactor clogs where x0 > 0.5 (importable, so spec-able)."""
    return X[:, 0] > 0.5


def repeat(point: list[float], n: int) -> NDArray[np.float64]:
    return np.tile(np.asarray(point, dtype=float), (n, 1))


def residuals(model: NoiseModel, X: NDArray[np.float64], seed: int = 0) -> NDArray[np.float64]:
    obs = model.observe(BOWL, X, rng=seed)
    return obs.y - obs.y_true


def as_bytes(obs: Observation) -> tuple[object, ...]:
    arrays = (obs.X, obs.X_actual, obs.y_true, obs.y, obs.failed, obs.step)
    return (*(a.tobytes() for a in arrays), *(a.dtype.str for a in arrays), obs.reason)


def all_models() -> list[NoiseModel]:
    return [
        NoNoise(),
        GaussianNoise(sd=0.3),
        HeteroscedasticNoise(relative_sd=0.2, floor_sd=0.05),
        OutlierNoise(sd=0.1, df=4.0, outlier_prob=0.2, outlier_scale=5.0),
        DriftNoise(rate=0.1),
        DriftNoise(rate=0.1, kind="random_walk"),
        InputNoise(sd=0.05),
        FailureModel(prob=0.3, region={"dim": 1, "above": 1.8}, reason="clogged"),
        FailureModel(region=hot),
        Compose(InputNoise(sd=0.05), GaussianNoise(sd=0.1), FailureModel(prob=0.2)),
    ]


def name_of(model: NoiseModel) -> str:
    return type(model).__name__


# --- surface -----------------------------------------------------------------------------


def test_all_lists_the_public_names_defined_in_the_module() -> None:
    public = {
        name
        for name, obj in vars(noise_module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == noise_module.__name__
    }
    assert set(noise_module.__all__) == public
    import ardlib.objectives as pkg

    assert set(noise_module.__all__) <= set(pkg.__all__)


def test_settings_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        GaussianNoise(0.1)  # type: ignore[call-arg]


# --- determinism and common random numbers -----------------------------------------------


@pytest.mark.parametrize("model", all_models(), ids=name_of)
def test_same_seed_gives_byte_identical_observation(model: NoiseModel) -> None:
    X = repeat([0.6, 1.9], 50)
    steps = np.arange(50)
    first = model.observe(BOWL, X, step=steps, rng=123)
    again = model.observe(BOWL, X, step=steps, rng=np.random.default_rng(123))
    assert as_bytes(first) == as_bytes(again)


@pytest.mark.parametrize("model", all_models(), ids=name_of)
def test_different_seeds_give_different_noise(model: NoiseModel) -> None:
    X = repeat([0.4, 1.5], 50)  # outside every failure region above
    a = model.observe(BOWL, X, step=np.arange(50), rng=1)
    b = model.observe(BOWL, X, step=np.arange(50), rng=2)
    deterministic = model.spec()["model"] == "NoNoise" or model.spec() in (
        DriftNoise(rate=0.1).spec(),
        FailureModel(region=hot).spec(),
    )
    assert (as_bytes(a) == as_bytes(b)) == deterministic


@pytest.mark.parametrize(
    ("model", "scale"),
    [
        (GaussianNoise(sd=0.3), lambda y: 0.3),
        (HeteroscedasticNoise(relative_sd=0.2, floor_sd=0.05), lambda y: np.hypot(0.05, 0.2 * y)),
    ],
    ids=["gaussian", "heteroscedastic"],
)
def test_planners_at_different_points_share_standardised_draws(
    model: NoiseModel, scale: Callable[[NDArray[np.float64]], Any]
) -> None:
    # the engine: one point per step, rng derived from (cell seed, step) only
    for step in range(5):
        z = []
        for x in TWO_POINTS:  # two planners asking different points at the same step
            seed = np.random.SeedSequence([7, step])
            obs = model.observe(BOWL, x[None, :], step=step, rng=np.random.default_rng(seed))
            z.append((obs.y - obs.y_true) / scale(obs.y_true))
        np.testing.assert_allclose(z[0], z[1], rtol=1e-12)
        assert z[0][0] != 0.0


def test_observe_does_not_mutate_its_input_and_draws_only_from_rng() -> None:
    base = NoNoise().observe(BOWL, repeat([0.9, 1.95], 40), step=np.arange(40))
    for arr in (base.X, base.X_actual, base.y_true, base.y, base.failed, base.step):
        arr.flags.writeable = False  # any in-place write raises
    snapshot = as_bytes(base)
    for model in all_models():
        out_a = model.transform(BOWL, base, np.random.default_rng(5))
        out_b = model.transform(BOWL, base, np.random.default_rng(5))
        assert as_bytes(out_a) == as_bytes(out_b)
    assert as_bytes(base) == snapshot


def test_compose_appending_a_model_keeps_earlier_draws() -> None:
    X = repeat([0.3, 0.4], 200)
    short = Compose(InputNoise(sd=0.05), GaussianNoise(sd=0.1)).observe(BOWL, X, rng=9)
    longer = Compose(InputNoise(sd=0.05), GaussianNoise(sd=0.1), FailureModel(prob=0.5))
    long = longer.observe(BOWL, X, rng=9)
    np.testing.assert_array_equal(short.X_actual, long.X_actual)
    np.testing.assert_array_equal(short.y[~long.failed], long.y[~long.failed])
    assert 0 < long.failed.sum() < 200


def test_compose_draws_do_not_depend_on_what_earlier_models_consumed() -> None:
    # both first stages leave y exact but draw 3n and n variates respectively
    X = repeat([0.3, 0.4], 100)
    after_t = Compose(OutlierNoise(sd=0.0), GaussianNoise(sd=0.1)).observe(BOWL, X, rng=9)
    after_u = Compose(FailureModel(prob=0.0), GaussianNoise(sd=0.1)).observe(BOWL, X, rng=9)
    np.testing.assert_array_equal(after_t.y, after_u.y)


def test_compose_applies_left_to_right_with_distinct_children() -> None:
    X = repeat([0.0, 1.0], 1000)
    twice = residuals(Compose(GaussianNoise(sd=1.0), GaussianNoise(sd=1.0)), X)
    # two independent N(0, 1) errors add up to variance 2 (identical children would give 4)
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], df=999) / 999 * 2.0
    assert lo < np.var(twice, ddof=1) < hi


# --- statistics against theory -----------------------------------------------------------


def variance_interval(sd: float, n: int) -> tuple[float, float]:
    """99.9 % acceptance interval for the sample variance of n draws of N(mu, sd^2)."""
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], df=n - 1) / (n - 1)
    return lo * sd**2, hi * sd**2


def test_gaussian_noise_has_mean_zero_and_the_stated_sd() -> None:
    r = residuals(GaussianNoise(sd=0.3), repeat([0.5, 0.5], 20_000))
    lo, hi = variance_interval(0.3, r.size)
    assert lo < np.var(r, ddof=1) < hi
    assert stats.ttest_1samp(r, 0.0).pvalue > 0.001


def test_heteroscedastic_sd_follows_the_formula_at_each_signal_level() -> None:
    model = HeteroscedasticNoise(relative_sd=0.2, floor_sd=0.05)
    for point, y in [([0.0, 1.0], 0.0), ([1.0, 1.0], 1.0), ([1.0, 2.0], 2.0)]:
        r = residuals(model, repeat(point, 10_000), seed=int(10 * y))
        lo, hi = variance_interval(np.sqrt(0.05**2 + (0.2 * y) ** 2), r.size)
        assert lo < np.var(r, ddof=1) < hi, (point, np.std(r))


def test_outlier_rate_matches_outlier_prob() -> None:
    n, p, scale = 20_000, 0.1, 1e6
    r = residuals(
        OutlierNoise(sd=1.0, df=30.0, outlier_prob=p, outlier_scale=scale), repeat([0, 1], n)
    )
    big = np.abs(r) > 100.0
    # P(|e| > 100) = (1 - p) P(|t_30| > 100) + p P(|t_30 + 1e6 Z| > 100), the last ~ P(|Z| > 1e-4)
    expected = (1 - p) * 2 * stats.t.sf(100.0, 30) + p * 2 * stats.norm.sf(100.0 / scale)
    assert stats.binomtest(int(big.sum()), n, expected).pvalue > 0.001
    lo, hi = variance_interval(scale, int(big.sum()))
    assert lo < np.var(r[big], ddof=1) < hi


def test_student_t_noise_matches_t_tails_and_is_heavier_than_gaussian() -> None:
    n = 20_000
    X = repeat([0.2, 1.5], n)
    r = residuals(OutlierNoise(sd=0.5, df=3.0), X)
    tail = int((np.abs(r) > 0.5 * 3.0).sum())
    assert stats.binomtest(tail, n, 2 * stats.t.sf(3.0, 3.0)).pvalue > 0.001
    t10 = residuals(OutlierNoise(sd=0.5, df=10.0), repeat([0.2, 1.5], 50_000))
    gauss = residuals(GaussianNoise(sd=0.5), repeat([0.2, 1.5], 50_000))
    assert stats.kurtosis(t10) > 0.5  # theory: 6 / (df - 4) = 1
    assert abs(stats.kurtosis(gauss)) < 0.1


def test_failure_rate_matches_prob_and_failed_points_are_nan() -> None:
    n, p = 10_000, 0.15
    obs = FailureModel(prob=p, reason="leak").observe(BOWL, repeat([0.0, 0.5], n), rng=4)
    assert stats.binomtest(int(obs.failed.sum()), n, p).pvalue > 0.001
    assert np.isnan(obs.y[obs.failed]).all()
    np.testing.assert_array_equal(obs.y[~obs.failed], obs.y_true[~obs.failed])
    assert {r for r, f in zip(obs.reason, obs.failed, strict=True) if f} == {"leak"}
    assert {r for r, f in zip(obs.reason, obs.failed, strict=True) if not f} == {None}


@pytest.mark.parametrize(
    "region",
    [{"dim": 0, "above": 0.5}, [{"dim": 1, "below": -5.0}, {"dim": 0, "above": 0.5}], hot],
    ids=["dict", "list", "callable"],
)
def test_failure_region_always_fails_and_nothing_else(region: Region) -> None:
    X = np.array([[0.4, 1.0], [0.6, 1.0], [1.0, 0.0], [-1.0, 2.0]])
    obs = FailureModel(region=region, reason="clogged").observe(BOWL, X, rng=0)
    np.testing.assert_array_equal(obs.failed, [False, True, True, False])
    assert obs.reason == (None, "clogged", "clogged", None)


def test_failure_region_is_checked_where_the_experiment_actually_ran() -> None:
    lab = Compose(InputNoise(sd=0.2), FailureModel(region={"dim": 0, "above": 0.5}))
    obs = lab.observe(BOWL, repeat([0.45, 1.0], 500), rng=3)
    np.testing.assert_array_equal(obs.failed, obs.X_actual[:, 0] > 0.5)
    assert 0 < obs.failed.sum() < 500


def test_failed_points_stay_failed_through_later_models() -> None:
    first = FailureModel(prob=0.5, reason="first")
    lab = Compose(first, InputNoise(sd=0.1), OutlierNoise(sd=1.0), FailureModel(prob=1.0))
    obs = lab.observe(BOWL, repeat([0.0, 1.0], 200), rng=8)
    alone = Compose(first).observe(BOWL, repeat([0.0, 1.0], 200), rng=8)
    assert obs.failed.all() and np.isnan(obs.y).all()
    np.testing.assert_array_equal(np.array(obs.reason) == "first", alone.failed)


def test_linear_drift_offset_is_rate_times_step() -> None:
    steps = np.arange(-3, 40)
    obs = DriftNoise(rate=0.25).observe(BOWL, repeat([0.1, 0.1], steps.size), step=steps)
    np.testing.assert_allclose(obs.y - obs.y_true, 0.25 * steps, rtol=0, atol=1e-12)


def test_drift_on_top_of_gaussian_has_mean_rate_times_step() -> None:
    lab = Compose(GaussianNoise(sd=0.1), DriftNoise(rate=0.05))
    r = residuals_at(lab, step=30, n=5000)
    assert stats.ttest_1samp(r, 0.05 * 30).pvalue > 0.001


def residuals_at(model: NoiseModel, *, step: int, n: int) -> NDArray[np.float64]:
    obs = model.observe(BOWL, repeat([0.0, 1.0], n), step=step, rng=11)
    return obs.y - obs.y_true


def test_random_walk_increments_are_iid_normal_with_sd_rate() -> None:
    steps = np.arange(5001)
    obs = DriftNoise(rate=0.2, kind="random_walk").observe(
        BOWL, repeat([0.0, 1.0], steps.size), step=steps, rng=6
    )
    offset = obs.y - obs.y_true
    assert offset[0] == 0.0
    inc = np.diff(offset)
    lo, hi = variance_interval(0.2, inc.size)
    assert lo < np.var(inc, ddof=1) < hi
    assert abs(stats.pearsonr(inc[:-1], inc[1:]).statistic) < 4 / np.sqrt(inc.size)


def test_random_walk_at_step_t_has_variance_t_rate_squared() -> None:
    model = DriftNoise(rate=0.5, kind="random_walk")
    x = np.array([[0.0, 1.0]])
    ends = [model.observe(BOWL, x, step=16, rng=s).y[0] for s in range(2000)]
    lo, hi = variance_interval(0.5 * np.sqrt(16), len(ends))
    assert lo < np.var(ends, ddof=1) < hi


def test_random_walk_offsets_do_not_depend_on_batching() -> None:
    model = DriftNoise(rate=1.0, kind="random_walk")
    whole = model.observe(BOWL, repeat([0.0, 1.0], 30), step=np.arange(30), rng=21).y
    for batch in ([7], [29, 3, 3, 0], list(range(12))):
        part = model.observe(BOWL, repeat([0.0, 1.0], len(batch)), step=batch, rng=21).y
        np.testing.assert_array_equal(part, whole[batch])


def test_input_noise_moves_the_point_and_reevaluates_y() -> None:
    n = 20_000
    X = repeat([0.0, 1.0], n)
    obs = InputNoise(sd=0.05).observe(BOWL, X, rng=2)
    np.testing.assert_array_equal(obs.y, BOWL.evaluate_true(obs.X_actual))
    np.testing.assert_array_equal(obs.y_true, BOWL.evaluate_true(X))
    shift = obs.X_actual - X  # centre of the box: clipping is 20 sd away
    for j in range(2):
        lo, hi = variance_interval(0.05 * 2.0, n)
        assert lo < np.var(shift[:, j], ddof=1) < hi
    corner = InputNoise(sd=0.5).observe(BOWL, repeat([1.0, 2.0], 2000), rng=2)
    assert (corner.X_actual <= BOWL.bounds[:, 1]).all()
    assert 0.4 < np.mean(corner.X_actual[:, 0] == 1.0) < 0.6  # clipped mass at the face


def test_input_noise_carries_error_added_before_it() -> None:
    X = repeat([0.2, 0.7], 50)
    plain = Compose(GaussianNoise(sd=0.1)).observe(BOWL, X, rng=4)
    both = Compose(GaussianNoise(sd=0.1), InputNoise(sd=0.05)).observe(BOWL, X, rng=4)
    carried = both.y - BOWL.evaluate_true(both.X_actual)
    np.testing.assert_allclose(carried, plain.y - plain.y_true, atol=1e-12)


# --- properties ----------------------------------------------------------------------------

reals = st.floats(0.0, 5.0)
leaf_models = st.one_of(
    st.just(NoNoise()),
    st.builds(GaussianNoise, sd=reals),
    st.builds(HeteroscedasticNoise, relative_sd=reals, floor_sd=reals),
    st.builds(
        OutlierNoise,
        sd=reals,
        df=st.floats(0.5, 50.0),
        outlier_prob=st.floats(0.0, 1.0),
        outlier_scale=reals,
    ),
    st.builds(DriftNoise, rate=st.floats(-1.0, 1.0)),
    st.builds(DriftNoise, rate=reals, kind=st.just("random_walk")),
    st.builds(InputNoise, sd=st.floats(0.0, 2.0)),
    st.builds(
        FailureModel,
        prob=st.floats(0.0, 1.0),
        region=st.one_of(
            st.none(),
            st.just(hot),
            st.builds(dict, dim=st.integers(0, 1), above=st.floats(-1.0, 2.0)),
            st.builds(dict, dim=st.integers(0, 1), below=st.floats(-1.0, 2.0)),
        ),
        reason=st.text(max_size=5),
    ),
)
models = st.one_of(leaf_models, st.lists(leaf_models, max_size=4).map(lambda ms: Compose(*ms)))


Batch = tuple[NDArray[np.float64], NDArray[np.int64]]


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    n = draw(st.integers(0, 6))
    x0 = draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n))
    x1 = draw(st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n))
    steps = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    return np.column_stack([x0, x1]).reshape(n, 2), np.asarray(steps, dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(model=models, batch=batches(), seed=st.integers(0, 2**32))
def test_observations_are_well_formed(model: NoiseModel, batch: Batch, seed: int) -> None:
    X, steps = batch
    n = X.shape[0]
    obs = model.observe(BOWL, X, step=steps, rng=seed)
    for arr, shape in [(obs.X, (n, 2)), (obs.X_actual, (n, 2)), (obs.y, (n,)), (obs.failed, (n,))]:
        assert arr.shape == shape
    assert obs.failed.dtype == np.bool_ and len(obs.reason) == n
    np.testing.assert_array_equal(obs.X, X)
    np.testing.assert_array_equal(obs.step, steps)
    np.testing.assert_array_equal(obs.y_true, BOWL.evaluate_true(X))
    np.testing.assert_array_equal(np.isnan(obs.y), obs.failed)
    assert np.isfinite(obs.y[~obs.failed]).all()
    assert all((r is None) != f for r, f in zip(obs.reason, obs.failed, strict=True))
    assert ((obs.X_actual >= BOWL.bounds[:, 0]) & (obs.X_actual <= BOWL.bounds[:, 1])).all()


@settings(max_examples=60, deadline=None)
@given(model=models, batch=batches(), seed=st.integers(0, 2**32))
def test_spec_round_trips_through_json(model: NoiseModel, batch: Batch, seed: int) -> None:
    X, steps = batch
    spec = json.loads(json.dumps(model.spec()))
    rebuilt = noise_from_spec(spec)
    assert type(rebuilt) is type(model)
    assert rebuilt.spec() == model.spec()
    a = model.observe(BOWL, X, step=steps, rng=seed)
    b = rebuilt.observe(BOWL, X, step=steps, rng=seed)
    assert as_bytes(a) == as_bytes(b)


# --- bad settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: GaussianNoise(sd=-1),
            "The 'sd' parameter of GaussianNoise must be a finite float >= 0. Got -1.",
        ),
        (
            lambda: GaussianNoise(sd=float("nan")),
            "The 'sd' parameter of GaussianNoise must be a finite float >= 0. Got nan.",
        ),
        (
            lambda: GaussianNoise(sd="0.1"),  # type: ignore[arg-type]
            "The 'sd' parameter of GaussianNoise must be a finite float >= 0. Got '0.1'.",
        ),
        (
            lambda: HeteroscedasticNoise(relative_sd=0.1, floor_sd=-0.5),
            "The 'floor_sd' parameter of HeteroscedasticNoise must be a finite float >= 0. "
            "Got -0.5.",
        ),
        (
            lambda: OutlierNoise(sd=1.0, df=0),
            "The 'df' parameter of OutlierNoise must be a finite float > 0. Got 0.",
        ),
        (
            lambda: OutlierNoise(sd=1.0, outlier_prob=1.5),
            "The 'outlier_prob' parameter of OutlierNoise must be a finite float >= 0 and "
            "<= 1. Got 1.5.",
        ),
        (
            lambda: DriftNoise(rate=0.1, kind="quadratic"),
            "The 'kind' parameter of DriftNoise must be one of 'linear', 'random_walk'. "
            "Got 'quadratic'.",
        ),
        (
            lambda: DriftNoise(rate=-0.1, kind="random_walk"),
            "The 'rate' parameter of DriftNoise must be a finite float >= 0. Got -0.1.",
        ),
        (
            lambda: InputNoise(sd=True),
            "The 'sd' parameter of InputNoise must be a finite float >= 0. Got True.",
        ),
        (
            lambda: FailureModel(prob=2),
            "The 'prob' parameter of FailureModel must be a finite float >= 0 and <= 1. Got 2.",
        ),
        (
            lambda: FailureModel(reason=3),  # type: ignore[arg-type]
            "The 'reason' parameter of FailureModel must be a str. Got 3.",
        ),
        (
            lambda: FailureModel(region={"dim": 0, "over": 1.0}),
            "The 'region' parameter of FailureModel must be None, a callable",
        ),
        (
            lambda: FailureModel(region={"dim": -1, "above": 1.0}),
            "The 'region['dim']' parameter of FailureModel must be an int >= 0. Got -1.",
        ),
        (
            lambda: FailureModel(region=[]),
            "The 'region' parameter of FailureModel must be None, a callable",
        ),
        (
            lambda: Compose(GaussianNoise(sd=1.0), 3),  # type: ignore[arg-type]
            "The 'models' parameter of Compose must hold only NoiseModel instances. "
            "Got int at position 1.",
        ),
    ],
)
def test_bad_settings_are_named_in_the_error(build: Callable[[], NoiseModel], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_settings_changed_after_construction_are_checked_at_use() -> None:
    model = GaussianNoise(sd=0.1)
    model.sd = -2.0
    with pytest.raises(ValueError, match=re.escape("'sd' parameter of GaussianNoise")):
        model.observe(BOWL, TWO_POINTS, rng=0)


def test_bad_region_use_and_bad_steps_are_named() -> None:
    with pytest.raises(ValueError, match="refers to dim 2, but the objective has 2"):
        FailureModel(region={"dim": 2, "above": 0.0}).observe(BOWL, TWO_POINTS, rng=0)
    with pytest.raises(ValueError, match=r"must return a bool array of shape \(2,\)"):
        FailureModel(region=lambda X: X[:, 0]).observe(BOWL, TWO_POINTS, rng=0)
    with pytest.raises(ValueError, match=r"'step' parameter of DriftNoise.*Got -1\."):
        DriftNoise(rate=1.0, kind="random_walk").observe(BOWL, TWO_POINTS, step=[0, -1], rng=0)


def test_unnameable_region_callables_cannot_be_specced() -> None:
    with pytest.raises(ValueError, match="no stable import path"):
        FailureModel(region=lambda X: X[:, 0] > 0).spec()
    assert FailureModel(region=hot).spec()["region"] == {"callable": f"{__name__}:hot"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "Pink"}, "'model' key is one of 'NoNoise'"),
        ([], "'model' key is one of"),
        ({"model": "GaussianNoise"}, "bad settings for GaussianNoise: missing ['sd']"),
        ({"model": "GaussianNoise", "sd": 1, "mu": 0}, "unknown ['mu']"),
        ({"model": "Compose", "models": {"a": 1}}, "must be a list of specs"),
        ({"model": "FailureModel", "region": {"callable": "nowhere:f"}}, "cannot be imported"),
        ({"model": "GaussianNoise", "sd": -1}, "must be a finite float >= 0. Got -1."),
    ],
)
def test_bad_specs_are_named_in_the_error(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        noise_from_spec(spec)  # type: ignore[arg-type]


def test_composed_random_walks_draw_independent_paths() -> None:
    """Noise models draw only from the generator they are given: two unit random walks
    composed add up to a walk whose increments have variance 2 (independent paths), not 4
    (the same path twice, as a shared campaign seed once made them)."""
    X = np.repeat(np.array([[0.1, 0.5]]), 400, axis=0)
    steps = np.arange(400)
    walk = DriftNoise(rate=1.0, kind="random_walk")
    both = Compose(walk, DriftNoise(rate=1.0, kind="random_walk"))
    obs = both.observe(BOWL, X, step=steps, rng=5)
    increments = np.diff(obs.y - obs.y_true)
    lo, hi = 2 * stats.chi2.ppf([0.0001, 0.9999], df=399) / 399  # 99.98% band for variance 2
    assert lo < increments.var(ddof=1) < hi < 4
    again = both.observe(BOWL, X, step=steps, rng=5)
    np.testing.assert_array_equal(again.y, obs.y)  # same generator state, same paths
    other = both.observe(BOWL, X, step=steps, rng=6)
    assert not np.array_equal(other.y, obs.y)
