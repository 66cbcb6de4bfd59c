"""The peer comparison harness: adapters for BoTorch, scikit-optimize and Optuna behind
ask/tell/recommend, the shared initial design, the study table and its summary.

Tests that run a peer library are ``slow`` and skipped when the ``peers`` extra is missing;
the missing-package message, the fairness guard and the summary run without the peers.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ardlib.bench._peer_summary import summarize_peers
from ardlib.bench._peers import (
    PEERS,
    BoTorchPlanner,
    OptunaPlanner,
    SkoptPlanner,
    make_planner,
    run_peer_study,
)
from ardlib.objectives import get_problem
from ardlib.planners import BayesianOptimization, RandomSearch, Sobol

# adapter, the module it needs, constructor options that keep the test quick
ADAPTERS: dict[str, tuple[type, str, dict[str, Any]]] = {
    "botorch": (BoTorchPlanner, "botorch", {"num_restarts": 2, "raw_samples": 64}),
    "skopt": (SkoptPlanner, "skopt", {"n_points": 500, "n_restarts_optimizer": 2}),
    "optuna": (OptunaPlanner, "optuna", {}),
}
NAMES = list(ADAPTERS)
# BoTorch retries a failed acquisition optimization with new starts and says so; that is
# its documented behaviour, not a failure of the adapter.
BOTORCH_RETRY = pytest.mark.filterwarnings("ignore:Optimization failed:RuntimeWarning")


def _need(module: str) -> None:
    """Skip unless ``module`` imports (its import-time deprecation notices silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        pytest.importorskip(module, reason=f"{module} (ardlib[peers]) not installed")


def _peer(name: str, **kw: Any) -> Any:
    cls, module, opts = ADAPTERS[name]
    _need(module)
    return cls(**opts, **kw)


# --------------------------------------------------------------------------------------
# Without the peers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_missing_peer_names_the_extra(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cls, module, _ = ADAPTERS[name]
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    planner = cls(bounds=[[0.0, 1.0], [0.0, 1.0]], rng=0)
    with pytest.raises(ImportError, match=r"pip install -e \.\[peers\]"):
        planner.ask()


def test_make_planner_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="'name' parameter of make_planner must be one of"):
        make_planner("hyperopt", bounds=[[0.0, 1.0]])


def _sobol(**kw: Any) -> Sobol:
    kw.pop("n_initial")
    return Sobol(**kw)


def test_study_table_without_peers() -> None:
    # A Sobol planner with the same rng proposes BO's initial design, so it pairs with it.
    df = run_peer_study(
        ["branin"],
        {"ardlib": PEERS["ardlib"], "sobol": _sobol},
        budget=8,
        n_initial=4,
        seeds=[3, 4],
    )
    assert len(df) == 2 * 2 * 8
    assert list(df["phase"].iloc[:8]) == ["initial"] * 4 + ["model"] * 4
    for _, g in df.groupby(["planner", "seed"]):
        regret = g.sort_values("step")["regret"].to_numpy()
        assert np.all(np.diff(regret) <= 0) and np.all(regret >= 0)
        assert np.all(g["ask_ms"] >= 0)
    X0 = df[df["phase"] == "initial"].groupby(["seed", "planner"])["x"].apply(list)
    assert X0.loc[(3, "ardlib")] == X0.loc[(3, "sobol")] != X0.loc[(4, "ardlib")]


def test_study_refuses_unpaired_initial_designs() -> None:
    def random(**kw: Any) -> RandomSearch:
        kw.pop("n_initial")
        return RandomSearch(**kw)

    with pytest.raises(RuntimeError, match="different initial design"):
        run_peer_study(
            ["branin"], {"ardlib": PEERS["ardlib"], "random": random}, budget=3, n_initial=2,
            seeds=[0],
        )  # fmt: skip


def _frame(ref_ms: float, peer_ms: float, ref_final: list[float], peer_final: list[float]):
    rows = []
    for planner, ms, finals in (("ardlib", ref_ms, ref_final), ("peer", peer_ms, peer_final)):
        for seed, final in enumerate(finals):
            for step in range(4):
                rows.append(
                    {"problem": "p", "planner": planner, "seed": seed, "step": step,
                     "phase": "initial" if step < 2 else "model", "ask_ms": ms,
                     "regret": final + (3 - step)}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_summary_ratio_and_regret_difference() -> None:
    # ardlib 10x faster, better on every one of 8 seeds: exact two-sided p = 2 / 2**8.
    df = _frame(2.0, 20.0, [0.0] * 8, [float(k) for k in range(1, 9)])
    row = summarize_peers(df, rng=0).iloc[0]
    assert (row.ratio, row.ratio_low, row.ratio_high) == (0.1, 0.1, 0.1)
    assert row.speedup == pytest.approx(10.0)
    assert row.regret_diff == -4.5 and row.regret_diff_low < -4.5 < row.regret_diff_high
    assert row.p_value == pytest.approx(2 / 2**8)
    assert not row.worse
    worse = summarize_peers(_frame(2.0, 20.0, [float(k) for k in range(1, 9)], [0.0] * 8))
    assert bool(worse.iloc[0].worse)


def test_summary_times_only_model_steps_up_to_max_n() -> None:
    df = _frame(2.0, 20.0, [0.0] * 6, [1.0] * 6)
    df.loc[df["phase"] == "initial", "ask_ms"] = 1000.0  # never timed
    df.loc[(df["planner"] == "ardlib") & (df["step"] == 3), "ask_ms"] = 1000.0
    assert summarize_peers(df, max_n=2).iloc[0].ratio == pytest.approx(0.1)


def test_summary_rejects_unknown_reference() -> None:
    with pytest.raises(ValueError, match="'reference' parameter of summarize_peers"):
        summarize_peers(_frame(1.0, 1.0, [0.0] * 2, [0.0] * 2), reference="botorch")


# --------------------------------------------------------------------------------------
# With the peers (slow)
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@BOTORCH_RETRY
@pytest.mark.parametrize("name", NAMES)
def test_adapter_runs_on_branin(name: str) -> None:
    problem = get_problem("branin")
    planner = _peer(name, bounds=problem.bounds, rng=1, n_initial=4)
    lo, hi = problem.bounds.T
    for _ in range(7):
        x = planner.ask()
        assert x.shape == (1, 2)
        assert np.all((lo <= x) & (x <= hi))
        planner.tell(x, problem.evaluate_true(x))
    assert planner.n_observations == 7
    best = planner.X_[np.argmin(planner.y_)]
    np.testing.assert_array_equal(planner.recommend(), best)
    assert planner.peer_info["version"] is not None


@pytest.mark.slow
@BOTORCH_RETRY
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_initial_design_as_ardlib(name: str) -> None:
    problem = get_problem("branin")
    kw: dict[str, Any] = {"bounds": problem.bounds, "n_initial": 5}
    ardlib = BayesianOptimization(rng=7, **kw).ask(5)
    np.testing.assert_array_equal(_peer(name, rng=7, **kw).ask(5), ardlib)
    assert not np.array_equal(_peer(name, rng=8, **kw).ask(5), ardlib)


@pytest.mark.slow
@BOTORCH_RETRY
@pytest.mark.parametrize("name", NAMES)
def test_adapter_is_deterministic_given_the_seed(name: str) -> None:
    problem = get_problem("hartmann6")

    def run() -> np.ndarray:
        planner = _peer(name, bounds=problem.bounds, rng=3, n_initial=3)
        for _ in range(5):
            X = planner.ask()
            planner.tell(X, problem.evaluate_true(X))
        return planner.X_

    np.testing.assert_array_equal(run(), run())


@pytest.mark.slow
@BOTORCH_RETRY
@pytest.mark.parametrize("name", NAMES)
def test_adapter_maximizes_by_negating(name: str) -> None:
    # The suzuki emulator is maximized; regret of the best point must improve on the design.
    problem = get_problem("emulator:suzuki")
    df = run_peer_study(
        [problem], {name: lambda **kw: _peer(name, **kw)}, budget=9, n_initial=4, seeds=[0]
    )
    assert df["regret"].iloc[-1] <= df["regret"].iloc[3]
    assert np.all(df["regret"] >= -1e-9)
