"""run_campaign: per-step records against hand-computed values, seeding and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_study_support import (
    FailAt,
    OffsetNoise,
    Peak,
    Scripted,
    Sphere,
    Unknown,
    hide_objectives_names,
)

from ardlib._rng import derive_seed
from ardlib.planners import RandomSearch, Sobol
from ardlib.study import Campaign, NoiseSpec, PlannerSpec, run_campaign

BOX = [[-1.0, 1.0], [-1.0, 1.0]]
NAN = float("nan")


def scripted(*points: tuple[float, float]) -> PlannerSpec:
    return PlannerSpec("scripted", Scripted, {"points": list(points)})


def column(c: Campaign, name: str) -> list[float]:
    return [round(v, 12) for v in c.results[name].tolist()]


def test_records_match_hand_computed_values_on_the_sphere() -> None:
    pts = [(0.5, 0.5), (0.1, 0.0), (0.9, -0.9), (0.0, -0.2)]
    c = run_campaign(Sphere(), scripted(*pts), budget=4, rng=0)
    r = c.results
    assert r["step"].tolist() == [0, 1, 2, 3]
    assert r["x"].tolist() == [list(p) for p in pts]
    assert column(c, "y_true") == [0.5, 0.01, 1.62, 0.04]
    assert column(c, "y_obs") == [0.5, 0.01, 1.62, 0.04]
    assert column(c, "regret_eval") == [0.5, 0.01, 1.62, 0.04]
    assert column(c, "regret_oracle") == [0.5, 0.01, 0.01, 0.01]
    assert column(c, "y_true_oracle") == [0.5, 0.01, 0.01, 0.01]
    assert r["x_rec"].tolist() == [[0.5, 0.5], [0.1, 0.0], [0.1, 0.0], [0.1, 0.0]]
    assert column(c, "regret_rec") == [0.5, 0.01, 0.01, 0.01]
    assert not r["failed"].any() and r["fail_reason"].isna().all()


def test_maximize_regret_is_distance_below_the_optimum() -> None:
    c = run_campaign(Peak(), scripted((0.5, 0.5), (0.1, 0.0), (0.9, 0.0)), budget=3, rng=0)
    assert column(c, "y_true") == [0.5, 0.99, 0.19]
    assert column(c, "regret_eval") == [0.5, 0.01, 0.81]
    assert column(c, "y_true_oracle") == [0.5, 0.99, 0.99]
    assert column(c, "regret_oracle") == [0.5, 0.01, 0.01]
    assert c.results["x_rec"].tolist()[-1] == [0.1, 0.0]


def test_random_search_without_noise_recommends_the_best_evaluated_point() -> None:
    problem = Sphere()
    c = run_campaign(problem, PlannerSpec("random", RandomSearch), budget=25, rng=4)
    r = c.results
    X = np.array(r["x"].tolist())
    np.testing.assert_array_equal(r["y_true"], problem.evaluate_true(X))
    np.testing.assert_array_equal(r["regret_oracle"], np.minimum.accumulate(r["regret_eval"]))
    np.testing.assert_array_equal(r["regret_rec"], r["regret_oracle"])
    best_so_far = [X[int(np.argmin(r["y_obs"][: i + 1]))].tolist() for i in range(len(r))]
    assert r["x_rec"].tolist() == best_so_far
    assert r["regret_oracle"].iloc[-1] < r["regret_eval"].iloc[0]


def test_failed_experiments_keep_their_true_value_but_never_count_as_found() -> None:
    # Step 1 evaluates the optimum itself, but the measurement fails: the lab learns nothing.
    pts = [(0.5, 0.5), (0.0, 0.0), (0.3, 0.0), (0.9, 0.0)]
    c = run_campaign(Sphere(), scripted(*pts), budget=4, noise=FailAt(steps=(1, 3)), rng=0)
    r = c.results
    assert r["failed"].tolist() == [False, True, False, True]
    assert r["fail_reason"].tolist()[1] == "instrument fault"
    assert np.isnan(r["y_obs"][[1, 3]]).all()
    assert column(c, "y_true") == [0.5, 0.0, 0.09, 0.81]
    assert column(c, "regret_eval") == [0.5, 0.0, 0.09, 0.81]
    assert column(c, "regret_oracle") == [0.5, 0.5, 0.09, 0.09]
    assert r["x_rec"].tolist() == [[0.5, 0.5], [0.5, 0.5], [0.3, 0.0], [0.3, 0.0]]
    assert c.planner.X_failed_.tolist() == [[0.0, 0.0], [0.9, 0.0]]


def test_oracle_and_recommendation_are_nan_before_the_first_success() -> None:
    pts = [(0.5, 0.5), (0.2, 0.0), (0.3, 0.0)]
    c = run_campaign(Sphere(), scripted(*pts), budget=3, noise=FailAt(steps=(0, 1)), rng=0)
    r = c.results
    assert r["regret_oracle"].isna().tolist() == [True, True, False]
    assert r["regret_rec"].isna().tolist() == [True, True, False]
    assert np.isnan(r["x_rec"].tolist()[0]).all() and len(r["x_rec"][0]) == 2


def test_unknown_optimum_gives_nan_regret_but_true_values() -> None:
    c = run_campaign(Unknown(), scripted((0.5, 0.5), (0.1, 0.0)), budget=2, rng=0)
    r = c.results
    for name in ("regret_eval", "regret_oracle", "regret_rec"):
        assert r[name].isna().all()
    assert column(c, "y_true") == [0.5, 0.01]
    assert column(c, "y_true_oracle") == [0.5, 0.01]
    assert column(c, "y_true_rec") == [0.5, 0.01]


def test_noise_depends_on_seed_and_step_not_on_the_planner() -> None:
    noise = OffsetNoise(sd=0.1)
    offsets = {}
    for name, cls in (("random", RandomSearch), ("sobol", Sobol)):
        c = run_campaign(Sphere(), PlannerSpec(name, cls), budget=8, noise=noise, rng=11)
        offsets[name] = (c.results["y_obs"] - c.results["y_true"]).to_numpy()
        assert c.results["x"].tolist() != []
    np.testing.assert_allclose(offsets["random"], offsets["sobol"], rtol=0, atol=1e-12)
    assert np.std(offsets["random"]) > 0.01  # a real stream, not a constant
    other = run_campaign(Sphere(), PlannerSpec("r", RandomSearch), 8, noise, rng=12).results
    assert not np.allclose(other["y_obs"] - other["y_true"], offsets["random"])


def test_every_planner_spec_in_a_cell_gets_the_same_seed() -> None:
    a = run_campaign(Sphere(), PlannerSpec("sobol-a", Sobol), budget=5, rng=3)
    b = run_campaign(Sphere(), PlannerSpec("sobol-b", "ardlib.planners.Sobol"), 5, rng=3)
    assert a.results["x"].tolist() == b.results["x"].tolist()
    manual = Sobol(bounds=BOX, rng=derive_seed(3, "planner"))
    c = run_campaign(Sphere(), manual, budget=5, rng=3)
    pd.testing.assert_frame_equal(c.results, a.results)


def test_same_rng_same_results_and_seed_is_reported() -> None:
    spec = PlannerSpec("random", RandomSearch)
    a = run_campaign(Sphere(), spec, 6, OffsetNoise(), rng=np.random.default_rng(5))
    b = run_campaign(Sphere(), spec, 6, OffsetNoise(), rng=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a.results, b.results)
    again = run_campaign(Sphere(), spec, 6, OffsetNoise(), rng=a.seed)
    pd.testing.assert_frame_equal(again.results, a.results)
    assert run_campaign(Sphere(), spec, 1, rng=123).seed == 123


def test_batches_share_the_recommendation_and_timings_are_per_batch() -> None:
    pts = [(0.5, 0.5), (0.1, 0.0), (0.9, 0.0), (0.0, 0.2), (0.3, 0.3)]
    c = run_campaign(Sphere(), scripted(*pts), 5, FailAt(steps=(3,)), rng=0, batch_size=2)
    r = c.results
    assert r["batch"].tolist() == [0, 0, 1, 1, 2]
    assert r["failed"].tolist() == [False, False, False, True, False]
    assert r["x_rec"].tolist() == [[0.1, 0.0]] * 5
    t = c.timings
    assert t["step"].tolist() == [0, 2, 4] and t["n"].tolist() == [2, 2, 1]
    assert (t[["ask_seconds", "tell_seconds", "recommend_seconds"]] >= 0).all().all()
    assert not {"ask_seconds", "tell_seconds"} & set(r.columns)


def test_noise_spec_and_result_dtypes() -> None:
    c = run_campaign(Sphere(), PlannerSpec("r", RandomSearch), 3, NoiseSpec("n", None), rng=1)
    dtypes = c.results.dtypes
    assert dtypes["step"] == np.int64 and dtypes["failed"] == np.bool_
    assert dtypes["y_obs"] == np.float64 and dtypes["regret_rec"] == np.float64
    assert all(isinstance(v, list) for v in c.results["x"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget": 0}, ValueError, "'budget' parameter of run_campaign must be an int >= 1"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"rng": -1}, ValueError, "'rng' parameter"),
        ({"problem": "not-an-objective-object", "budget": 1}, ImportError, "get_problem"),
        ({"problem": 3.0}, TypeError, "'problem' parameter"),
        ({"planner": "random"}, TypeError, "'planner' parameter"),
        ({"noise": "gauss"}, TypeError, "'noise' parameter"),
        ({"planner": RandomSearch(bounds=[[0, 1], [0, 1]])}, ValueError, "problem's box"),
        ({"planner": RandomSearch(bounds=BOX, goal="maximize")}, ValueError, "goal='minimize'"),
    ],
)
def test_bad_arguments_raise_clear_errors(
    kwargs: dict[str, object], error: type[Exception], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_objectives_names(monkeypatch, "get_problem")
    args: dict[str, object] = {"problem": Sphere(), "planner": PlannerSpec("r", RandomSearch)}
    args.update({"budget": 2, **kwargs})
    with pytest.raises(error, match=match):
        run_campaign(**args)  # type: ignore[arg-type]


def test_a_used_planner_is_refused() -> None:
    planner = RandomSearch(bounds=BOX, rng=0)
    planner.ask()
    with pytest.raises(ValueError, match="fresh planner"):
        run_campaign(Sphere(), planner, budget=2)
