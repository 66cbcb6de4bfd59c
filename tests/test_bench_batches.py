"""Batches in the peers harness: :func:`ardlib.bench.batch_studies` builds one peer study per
batch size, :func:`ardlib.bench.compare_batches` compares each size with sequential asks
(and ardlib with the peers at the same size) in one Holm family, and BoTorch's adapter asks
a batch as one joint ``qLogExpectedImprovement`` optimization.

The analysis is tested on study results with known regret and ask times (no campaign
runs, so the tests are fast and the expected numbers exact); the BoTorch tests are slow
and skipped without the ``peers`` extra.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ardlib.bench import BatchComparison, batch_studies, compare_batches, peer_study
from ardlib.stats import holm, paired_test
from ardlib.study import Study, StudyResult

BUDGET, REPS, N_INITIAL = 8, 10, 4
BASE = np.linspace(0.1, 1.0, REPS)  # final regret of ardlib at q = 1, per replicate
WIGGLE = np.array([0.03, -0.02, 0.05, 0.01, -0.04, 0.02, 0.0, -0.01, 0.04, -0.03])


def _studies() -> list[Study]:
    return batch_studies(
        ["branin"],
        (1, 4),
        ["ardlib", "botorch"],
        budget=BUDGET,
        replicates=REPS,
        n_initial=N_INITIAL,
    )


def _result(study: Study, regret: dict[str, Any], ask_s: dict[str, float]) -> StudyResult:
    """A run of ``study`` whose final regret and per-ask seconds are the given values."""
    q = study.batch_size
    rows, timings = [], []
    for spec in study.planners:
        for rep in range(REPS):
            ident = {"problem": "branin", "noise": "none", "planner": spec.name, "replicate": rep}
            for step in range(BUDGET):
                x = [float(rep), float(step)]  # the same design for every planner and size
                rows.append({**ident, "step": step, "x": x, "regret_rec": regret[spec.name][rep]})
            for step in range(0, BUDGET, q):
                n = min(q, BUDGET - step)
                timings.append({**ident, "step": step, "n": n, "ask_seconds": ask_s[spec.name]})
    return StudyResult(
        study=study,
        store=None,  # type: ignore[arg-type]  # not read by the analysis
        results=pd.DataFrame(rows),
        timings=pd.DataFrame(timings),
        results_path=Path("unused.parquet"),
        digest="",
        n_computed=0,
        n_cached=0,
    )


def _runs(shift: float = 0.5) -> list[StudyResult]:
    """ardlib at q = 4 is ``shift`` worse than at q = 1 in every replicate; BoTorch at q = 4
    is 1 worse than ardlib at q = 4 and no different from its own q = 1 (mixed signs)."""
    seq, batch = _studies()
    a1 = BASE
    a4 = BASE + shift + WIGGLE / 10
    b1 = BASE + 1.2
    b4 = b1 + WIGGLE  # mixed signs against its own q = 1, always above ardlib's q = 4
    return [
        _result(seq, {"ardlib": a1, "botorch": b1}, {"ardlib": 0.01, "botorch": 0.3}),
        _result(batch, {"ardlib": a4, "botorch": b4}, {"ardlib": 0.03, "botorch": 0.5}),
    ]


@functools.cache
def _compared(shift: float) -> BatchComparison:
    return compare_batches(_runs(shift))


# -- batch_studies ---------------------------------------------------------------------------


def test_batch_studies_is_one_peer_study_per_size() -> None:
    studies = batch_studies(
        ["branin", "hartmann6"], (8, 1, 4), ["ardlib", "botorch"], peer_batch_sizes=(1, 4)
    )
    assert [s.batch_size for s in studies] == [1, 4, 8]
    assert [[p.name for p in s.planners] for s in studies] == [
        ["ardlib", "botorch"],
        ["ardlib", "botorch"],
        ["ardlib"],
    ]
    # q = 1 is exactly the peer study: its cells (and stored results) are the same
    seq = peer_study(["branin", "hartmann6"], ["ardlib", "botorch"])
    assert studies[0].study_hash == seq.study_hash
    assert len({s.study_hash for s in studies}) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_sizes": (4, 8)}, r"'batch_sizes' parameter of batch_studies .*including 1"),
        ({"batch_sizes": (1, 4, 4)}, r"'batch_sizes' parameter .* Got \(1, 4, 4\)"),
        ({"batch_sizes": (1, 41)}, r"'batch_sizes' parameter .*from 1 to the budget \(40\)"),
        ({"batch_sizes": (1, 2.5)}, r"'batch_sizes' parameter of batch_studies must hold"),
        ({"batch_sizes": (1,)}, r"'batch_sizes' .* must hold a size > 1 besides 1"),
        ({"peer_batch_sizes": (1, 2)}, r"'peer_batch_sizes' .* subset of batch_sizes \[1, 4, 8\]"),
        ({"peer_batch_sizes": (4,)}, r"'peer_batch_sizes' parameter .*including 1"),
        ({"planners": ("botorch",)}, r"'planners' parameter of peer_study .*including 'ardlib'"),
        ({"budget": 1}, r"'budget' parameter of batch_studies must be an int >= 2"),
    ],
)
def test_batch_studies_names_a_bad_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        batch_studies(["branin"], **kwargs)


# -- compare_batches -------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.5, -0.05])
def test_batch_against_sequential_is_a_paired_test_in_one_family(shift: float) -> None:
    runs = _runs(shift)
    comp = _compared(shift)
    table = comp.table.set_index(["planner", "batch_size"])
    assert list(table.index) == [("ardlib", 1), ("ardlib", 4), ("botorch", 1), ("botorch", 4)]
    regret = {
        (p, q): r.results.query("planner == @p and step == @BUDGET - 1")["regret_rec"].to_numpy()
        for r, q in zip(runs, (1, 4), strict=True)
        for p in ("ardlib", "botorch")
    }
    tests = [
        paired_test(regret[("ardlib", 4)], regret[("ardlib", 1)]),
        paired_test(regret[("botorch", 4)], regret[("botorch", 1)]),
        paired_test(regret[("botorch", 4)], regret[("ardlib", 4)]),
    ]
    p_holm = holm([t.p_value for t in tests])
    row = table.loc[("ardlib", 4)]
    assert row["median_diff"] == pytest.approx(tests[0].median_diff)
    assert np.sign(row["median_diff"]) == np.sign(shift)
    assert row["p_value"] == pytest.approx(2 / 2**REPS)  # every replicate one way
    assert row["p_holm"] == pytest.approx(p_holm[0])
    assert row["winner"] == ("q1" if shift > 0 else "q4")  # the lower regret wins
    assert row["regret"] == pytest.approx(np.median(regret[("ardlib", 4)]))
    other = table.loc[("botorch", 4)]
    assert other["p_holm"] == pytest.approx(p_holm[1]) and pd.isna(other["winner"])
    assert table.loc[("ardlib", 1), ["p_value", "median_diff"]].isna().all()
    assert comp.settings["family_size"] == 3 and comp.settings["n_initial"] == N_INITIAL
    assert comp.settings["planners"] == {"ardlib": [1, 4], "botorch": [1, 4]}


def test_ask_time_per_call_and_per_evaluation() -> None:
    table = _compared(0.5).table.set_index(["planner", "batch_size"])
    # q = 1: 8 asks of 10 ms for 8 evaluations; q = 4: 2 asks of 30 ms for 8 evaluations
    assert list(table["asks"]) == [8, 2, 8, 2]
    assert table.loc[("ardlib", 1), "ask_s"] == pytest.approx(0.01)
    assert table.loc[("ardlib", 4), "ask_s"] == pytest.approx(0.03)
    assert table.loc[("ardlib", 1), "ask_s_per_eval"] == pytest.approx(0.01)
    assert table.loc[("ardlib", 4), "ask_s_per_eval"] == pytest.approx(0.0075)
    assert table.loc[("ardlib", 4), "time_ratio"] == pytest.approx(0.75)
    assert table.loc[("botorch", 4), "time_ratio"] == pytest.approx((2 * 0.5) / (8 * 0.3))


def test_ardlib_against_the_peer_at_the_same_batch_size() -> None:
    comp = _compared(0.5)
    assert len(comp.peers) == 1
    row = comp.peers.iloc[0]
    assert (row["problem"], row["batch_size"], row["peer"], row["n"]) == (
        "branin",
        4,
        "botorch",
        10,
    )
    assert row["speedup"] == pytest.approx(0.5 / 0.03)
    assert row["speedup_low"] <= row["speedup"] <= row["speedup_high"]
    assert row["median_diff"] < 0 and row["regret_ref"] < row["regret_peer"]  # ardlib - peer
    assert row["p_value"] == pytest.approx(2 / 2**REPS) and row["winner"] == "ardlib"
    payload = json.loads(json.dumps(comp.to_json()))  # JSON-able, NaN as null
    assert payload["peers"][0]["winner"] == "ardlib"
    assert payload["summary"][0]["p_value"] is None and payload["summary"][0]["winner"] is None


def test_compare_batches_refuses_what_cannot_be_compared() -> None:
    seq, batch = _runs()
    with pytest.raises(ValueError, match="distinct batch sizes, 1 included"):
        compare_batches([batch])
    with pytest.raises(ValueError, match="distinct batch sizes, 1 included"):
        compare_batches([seq, seq])
    with pytest.raises(ValueError, match="must not be empty"):
        compare_batches([])
    longer = dataclasses.replace(batch, study=dataclasses.replace(batch.study, budget=9))
    with pytest.raises(ValueError, match="one budget"):
        compare_batches([seq, longer])
    moved = batch.results.copy()
    first = (moved["planner"] == "botorch") & (moved["step"] == 0)
    moved["x"] = [[9.0, 9.0] if f else x for f, x in zip(first, moved["x"], strict=True)]
    with pytest.raises(RuntimeError, match="botorch@q4 asked a different initial design"):
        compare_batches([seq, dataclasses.replace(batch, results=moved)])


def test_a_peer_without_a_batch_is_only_a_sequential_row() -> None:
    seq, batch = _runs()
    ardlib_only = dataclasses.replace(
        batch,
        study=dataclasses.replace(batch.study, planners=batch.study.planners[:1]),
        results=batch.results.query("planner == 'ardlib'"),
        timings=batch.timings.query("planner == 'ardlib'"),
    )
    comp = compare_batches([seq, ardlib_only])
    assert comp.peers.empty and comp.settings["family_size"] == 1
    assert list(comp.table["planner"]) == ["ardlib", "ardlib", "botorch"]


# -- the command -----------------------------------------------------------------------------


def test_bench_batches_command_names_a_bad_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ardlib.cli import main

    out = tmp_path / "batches.json"
    assert main(["bench", "batches", "--batch-sizes", "4", "8", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'batch_sizes' parameter of batch_studies" in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "data").exists()


def test_bench_batches_command_writes_the_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ardlib.bench import _batches
    from ardlib.cli import main

    seen: dict[str, Any] = {}

    def fake_run(*args: Any, **kwargs: Any) -> BatchComparison:
        seen.update(args=args, kwargs=kwargs)
        return _compared(0.5)

    monkeypatch.setattr(_batches, "run_batches", fake_run)
    out = tmp_path / "batches.json"
    argv = ["bench", "batches", "--problems", "branin", "--batch-sizes", "1", "2"]
    assert main([*argv, "--seeds", "7", "--store", str(tmp_path / "s"), "--out", str(out)]) == 0
    assert seen["args"] == (["branin"], [1, 2], ["ardlib", "botorch"])
    assert seen["kwargs"]["replicates"] == 7 and seen["kwargs"]["peer_batch_sizes"] == [1, 4]
    payload = json.loads(out.read_text())
    assert {"settings", "versions", "summary", "peers", "machine"} <= set(payload)
    assert "ardlib" in capsys.readouterr().out


# -- BoTorch's batch (slow: torch import and model fits) --------------------------------------


def _botorch(**kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        pytest.importorskip("botorch", reason="botorch (ardlib[peers]) not installed")
    from ardlib.planners import BoTorchPlanner

    return BoTorchPlanner(num_restarts=2, raw_samples=64, **kw)


def _told(rng: int, n: int = 6) -> Any:
    from ardlib.objectives import get_problem

    problem = get_problem("hartmann6")
    planner = _botorch(bounds=problem.bounds, rng=rng, n_initial=n)
    X = planner.ask(n)
    planner.tell(X, problem.evaluate_true(X))
    return planner, problem


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Optimization failed:RuntimeWarning")
def test_botorch_batch_is_distinct_inside_the_bounds_and_seeded() -> None:
    batches = []
    for rng in (5, 5, 6):
        planner, problem = _told(rng)
        batches.append(planner.ask(4))
    X = batches[0]
    lo, hi = problem.bounds.T
    assert X.shape == (4, 6) and np.all((lo <= X) & (hi >= X))
    gaps = np.linalg.norm(X[:, None] - X[None], axis=2)[np.triu_indices(4, 1)]
    assert gaps.min() > 1e-3  # four different experiments, not one repeated
    np.testing.assert_array_equal(batches[1], X)  # same seed, same batch
    assert not np.array_equal(batches[2], X)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Optimization failed:RuntimeWarning")
def test_botorch_q1_is_logei_and_a_batch_is_one_joint_qlogei(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("botorch", reason="the peers extra (BoTorch) is not installed")
    import botorch.fit
    import botorch.optim

    planner, problem = _told(2)
    calls: list[tuple[str, int]] = []
    fits: list[int] = []
    optimize, fit = botorch.optim.optimize_acqf, botorch.fit.fit_gpytorch_mll

    def spy_optimize(acqf: Any, **kw: Any) -> Any:
        calls.append((type(acqf).__name__, kw["q"]))
        return optimize(acqf, **kw)

    def spy_fit(mll: Any, **kw: Any) -> Any:
        fits.append(1)
        return fit(mll, **kw)

    monkeypatch.setattr(botorch.optim, "optimize_acqf", spy_optimize)
    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", spy_fit)
    for q in (1, 4):
        X = planner.ask(q)
        planner.tell(X, problem.evaluate_true(X))
    assert calls == [("LogExpectedImprovement", 1), ("qLogExpectedImprovement", 4)]
    assert len(fits) == 2  # one refit per ask, not per point
    assert "qLogExpectedImprovement" in planner.peer_info["batch_acquisition"]


@pytest.mark.slow
def test_botorch_batch_before_any_data_continues_the_design_as_ardlib() -> None:
    from ardlib.objectives import get_problem
    from ardlib.planners import BayesianOptimization

    bounds = get_problem("hartmann6").bounds
    ardlib = BayesianOptimization(bounds=bounds, rng=3, n_initial=5).ask(8)
    np.testing.assert_array_equal(_botorch(bounds=bounds, rng=3, n_initial=5).ask(8), ardlib)
