"""The peer comparison: adapters for BoTorch, scikit-optimize and Optuna behind
ask/tell/recommend (``ardlib.planners``), run as an ordinary study and analysed with
``ardlib.stats`` (``ardlib.bench.compare_peers``).

Tests that run a peer library are ``slow`` and skipped when the ``peers`` extra is missing;
the missing-package message, the pairing guard and the analysis run without the peers.
"""

from __future__ import annotations

import shutil
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_study_support import InlineExecutor

from ardlib.bench import PEERS, compare_peers, peer_study
from ardlib.objectives import get_problem
from ardlib.planners import BayesianOptimization, BoTorchPlanner, OptunaPlanner, SkoptPlanner
from ardlib.study import PlannerSpec, Study

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
def test_missing_peer_names_the_extra(
    name: str, monkeypatch: pytest.MonkeyPatch, hide_package: Callable[..., None]
) -> None:
    cls, module, _ = ADAPTERS[name]
    hide_package(module)  # makes `import module` fail
    if name == "botorch":  # torch, imported first, stays importable: a stand-in, as
        # importing the real one takes seconds and is not what this test is about
        stand_in = types.ModuleType("torch")
        monkeypatch.setattr(stand_in, "set_num_threads", lambda n: None, raising=False)
        monkeypatch.setitem(sys.modules, "torch", stand_in)
    planner = cls(bounds=[[0.0, 1.0], [0.0, 1.0]], rng=0)
    with pytest.raises(ImportError, match=r"pip install -e \.\[peers\]"):
        planner.ask()


@pytest.mark.parametrize(
    ("name", "setting"),
    [("botorch", "num_restarts"), ("botorch", "raw_samples"), ("skopt", "n_points"),
     ("skopt", "n_restarts_optimizer"), ("optuna", "n_initial")],
)  # fmt: skip
def test_bad_setting_is_named_before_any_import(
    name: str, setting: str, hide_package: Callable[..., None]
) -> None:
    cls, module, _ = ADAPTERS[name]
    hide_package(module)
    planner = cls(bounds=[[0.0, 1.0]], **{setting: 0})
    with pytest.raises(ValueError, match=f"'{setting}' parameter of {cls.__name__} must be an int"):
        planner.ask()


def test_peer_study_names_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'problems' parameter of peer_study"):
        peer_study(["branin", "nosuch"])
    with pytest.raises(ValueError, match="'planners' parameter of peer_study"):
        peer_study(["branin"], ["ardlib", "hyperopt"])
    with pytest.raises(
        ValueError, match="'replicates' parameter of peer_study must be an int >= 6"
    ):
        peer_study(["branin"], replicates=5)  # a paired test needs 6
    with pytest.raises(ValueError, match="including 'ardlib'"):
        peer_study(["branin"], ["botorch"])
    study = peer_study(["branin"], ["ardlib", "botorch"], budget=12, replicates=6)
    assert [p["cls"] for p in study.spec()["planners"]] == [
        "ardlib.planners.BayesianOptimization",
        "ardlib.planners.BoTorchPlanner",
    ]


def _run(study: Study, path: Path) -> Any:
    """Run ``study`` in this thread (a process pool would add only its start-up time)."""
    return study.run(path, executor=InlineExecutor(), progress=False)


def _study(other: str, cls: str, **params: Any) -> Study:
    return Study(
        problems=["branin"],
        planners=[
            PlannerSpec("ardlib", "ardlib.planners.BayesianOptimization", {"n_initial": 4}),
            PlannerSpec(other, cls, params),
        ],
        noises=[None],
        replicates=6,
        budget=8,
        master_seed=3,
    )


@pytest.mark.slow
def test_compare_peers_pairs_timings_and_regret(tmp_path: Path) -> None:
    # A Sobol planner with the same rng asks BO's initial design, so it pairs with it.
    result = _run(_study("sobol", "ardlib.planners.Sobol"), tmp_path)
    table = compare_peers(result).table
    row = table.iloc[0]
    assert len(table) == 1 and (row.problem, row.peer, row.n) == ("branin", "sobol", 6)
    # Sobol' asks are a table lookup; a GP-BO ask fits a model: the peer is much faster.
    assert row.speedup < 0.5 and row.speedup_low <= row.speedup <= row.speedup_high
    assert np.isfinite([row.regret_ref, row.regret_peer]).all()
    assert min(row.regret_ref, row.regret_peer) >= 0  # true regret of a minimized problem
    assert 0 <= row.p_value <= row.p_holm <= 1


def test_compare_peers_at_several_budgets_holm_over_all_rows(tmp_path: Path) -> None:
    result = _run(_study("sobol", "ardlib.planners.Sobol"), tmp_path)
    final = compare_peers(result).table.iloc[0]
    table = compare_peers(result, budgets=[8, 5]).table.set_index("budget")
    assert list(table.index) == [5, 8] and (table["peer"] == "sobol").all()
    # the last budget is the default comparison, apart from the wider Holm family
    same = ["regret_ref", "regret_peer", "median_diff", "p_value", "n"]
    assert table.loc[8, same].tolist() == final[same].tolist()
    # both planners recommend their best noise-free point: regret never rises with budget
    assert (
        table.loc[5, ["regret_ref", "regret_peer"]] >= table.loc[8, ["regret_ref", "regret_peer"]]
    ).all()
    assert (table["p_holm"] >= table["p_value"]).all() and table["p_holm"].max() <= 1
    assert table.loc[8, "p_holm"] >= final.p_holm
    for bad in ([0], [9], []):
        with pytest.raises(ValueError, match="'budgets' parameter of compare_peers"):
            compare_peers(result, budgets=bad)


def test_compare_peers_names_cells_stored_without_timings(tmp_path: Path) -> None:
    # a store assembled by copying cells/ without timings/ (found by doing it)
    study = _study("sobol", "ardlib.planners.Sobol")
    _run(study, tmp_path / "full")
    (tmp_path / "part").mkdir()
    shutil.copytree(tmp_path / "full" / "cells", tmp_path / "part" / "cells")
    sobol_timings = [
        f for f in (tmp_path / "full" / "timings").iterdir() if f.name in _cells(study, "sobol")
    ]
    (tmp_path / "part" / "timings").mkdir()
    for f in sobol_timings:
        shutil.copy(f, tmp_path / "part" / "timings" / f.name)
    result = _run(study, tmp_path / "part")
    with pytest.raises(ValueError, match="no ask timings for ardlib on branin: each cell's"):
        compare_peers(result)


def _cells(study: Study, planner: str) -> set[str]:
    return {f"{c.hash}.parquet" for c in study.cells() if c.planner.name == planner}


@pytest.mark.slow
def test_compare_peers_refuses_unpaired_initial_designs(tmp_path: Path) -> None:
    result = _run(_study("random", "ardlib.planners.RandomSearch"), tmp_path)
    with pytest.raises(RuntimeError, match="different initial design"):
        compare_peers(result)


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
    for step in range(8):
        x = planner.ask()
        assert x.shape == (1, 2)
        assert np.all((lo <= x) & (x <= hi))
        planner.tell(x, [np.nan] if step == 5 else problem.evaluate_true(x))  # one failure
    assert planner.n_observations == 7 and planner.X_failed_.shape == (1, 2)
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
def test_a_batch_is_distinct_points_and_every_told_trial_is_finished(name: str) -> None:
    problem = get_problem("branin")
    planner = _peer(name, bounds=problem.bounds, rng=2, n_initial=4)
    lo, hi = problem.bounds.T
    for _ in range(3):  # the design, then two model-based batches
        x = planner.ask(4)
        assert x.shape == (4, 2) and np.all((lo <= x) & (x <= hi))
        assert len(np.unique(x, axis=0)) == 4  # skopt's q successive asks gave one point
        planner.tell(x, problem.evaluate_true(x))
    if name == "optuna":  # every asked trial was told: none left RUNNING
        states = [t.state.name for t in planner._study.trials]
        assert states == ["COMPLETE"] * 12
        x = planner.ask(2)
        planner.tell([[1.0, 2.0], x[1]], [3.0, 4.0])  # one asked point told, one other
        states = [t.state.name for t in planner._study.trials]
        assert states.count("RUNNING") == 0 and states.count("FAIL") == 1


@pytest.mark.slow
@BOTORCH_RETRY
@pytest.mark.parametrize("name", NAMES)
def test_adapter_maximizes_by_negating(name: str) -> None:
    # The suzuki emulator is maximized; a model-based ask must beat the design.
    problem = get_problem("emulator:suzuki")
    planner = _peer(name, bounds=problem.bounds, rng=0, goal=problem.goal, n_initial=4)
    for _ in range(9):
        X = planner.ask()
        planner.tell(X, problem.evaluate_true(X))
    assert planner.y_[4:].max() > planner.y_[:4].max()
    np.testing.assert_array_equal(planner.recommend(), planner.X_[np.argmax(planner.y_)])


@pytest.mark.slow
@BOTORCH_RETRY
def test_botorch_asks_on_one_thread_and_restores_the_callers_count() -> None:
    problem = get_problem("branin")
    planner = _peer("botorch", bounds=problem.bounds, rng=0, n_initial=2)
    import torch

    before = torch.get_num_threads()
    seen: list[int] = []
    ask = planner._botorch_ask
    planner._botorch_ask = lambda q: (seen.append(torch.get_num_threads()), ask(q))[1]
    try:
        torch.set_num_threads(2)
        for _ in range(3):
            X = planner.ask()
            planner.tell(X, problem.evaluate_true(X))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
@BOTORCH_RETRY
def test_peer_study_pairs_every_peer_with_ardlib(tmp_path: Path) -> None:
    for _, module, _ in ADAPTERS.values():
        _need(module)
    study = peer_study(["branin"], budget=6, replicates=6, n_initial=4)
    result = study.run(tmp_path, max_workers=1, progress=False)
    assert result.results.groupby("planner").size().to_dict() == dict.fromkeys(PEERS, 36)
    table = compare_peers(result).table.set_index("peer")  # raises if a design differed
    assert sorted(table.index) == sorted(NAMES) and (table["n"] == 6).all()
    assert (table["ask_ms_peer"] > 0).all() and (table["speedup"] > 0).all()
    assert (table["p_value"] <= table["p_holm"]).all()


@pytest.mark.parametrize(
    ("args", "named"), [(["--planners", "hyperopt"], "planners"), (["--seeds", "5"], "replicates")]
)
def test_bench_peers_command_names_a_bad_argument(
    args: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ardlib.cli import main

    out = tmp_path / "peers.json"
    assert main(["bench", "peers", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{named}' parameter of peer_study" in err and err.count("\n") == 1
    assert not out.exists()
