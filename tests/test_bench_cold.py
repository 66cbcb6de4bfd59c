"""The peers harness's cold mode (issue 9): a fresh planner told n observations, then
asked once and timed (``ardlib.bench.cold_ask_times``, ``ardlib bench peers --cold``).

The fast tests use ardlib's planners and a recording planner whose every call is seen:
the same data for every planner, one timed ask per fresh planner, seeds, one thread, the
argument errors and the JSON through the command line.  Only the last test runs BoTorch.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from threadpoolctl import threadpool_info

from ardlib.bench import PEERS, _cold, cold_ask_times, cold_summary
from ardlib.cli import main
from ardlib.objectives import get_problem
from ardlib.planners import BayesianOptimization, Planner
from ardlib.study import PlannerSpec


class Recorder(Planner):
    """Records what it is told and asked; its calls advance a fake clock by known amounts
    (construction 1000 s, tell 100 s, ask 1 s), so the timed span is identifiable."""

    made: ClassVar[list[Recorder]] = []
    clock: ClassVar[list[float]] = [0.0]

    def __init__(self, *, bounds: Any, rng: Any = None, goal: str = "minimize") -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        Recorder.made.append(self)
        Recorder.clock[0] += 1000.0

    def _tell(self, X: NDArray[np.float64], y: NDArray[np.float64]) -> None:
        Recorder.clock[0] += 100.0
        self.told = [*getattr(self, "told", []), (X.copy(), y.copy())]

    def _ask(self, n: int) -> NDArray[np.float64]:
        Recorder.clock[0] += 1.0
        self.asks = getattr(self, "asks", 0) + 1
        self.blas_threads = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
        torch = sys.modules.get("torch")
        self.torch_threads = torch.get_num_threads() if torch is not None else None
        return np.tile(self.bounds_.mean(axis=1), (n, 1))


A, B = PlannerSpec("a", Recorder), PlannerSpec("b", Recorder)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Recorder]:
    """The recorders built in a test; ``cold_ask_times`` reads the fake clock."""
    monkeypatch.setattr(Recorder, "made", [])
    monkeypatch.setattr(Recorder, "clock", [0.0])
    monkeypatch.setattr(_cold, "perf_counter", lambda: Recorder.clock[0])
    return Recorder.made


def _timed(made: list[Recorder]) -> list[Recorder]:
    """The recorders that were told data (the others only had their settings checked)."""
    return [r for r in made if getattr(r, "told", None)]


def test_every_planner_gets_the_same_data_and_one_timed_ask(recorded: list[Recorder]) -> None:
    times = cold_ask_times("hartmann6", sizes=[3, 7], planners=[A, B], n_datasets=2, progress=False)
    timed = _timed(recorded)
    assert len(timed) == len(times) == 2 * 2 * 2  # a fresh planner per (n, data set, planner)
    assert times[["planner", "n", "dataset"]].values.tolist() == [
        [p, n, k] for n in (3, 7) for k in (0, 1) for p in ("a", "b")
    ]
    assert (times["seconds"] == 1.0).all()  # the ask alone: no construction, no tell
    problem = get_problem("hartmann6")
    for (a, b), row in zip(
        zip(timed[::2], timed[1::2], strict=True), times[::2].itertuples(), strict=True
    ):
        assert a.asks == b.asks == 1 and len(a.told) == len(b.told) == 1
        (Xa, ya), (Xb, yb) = a.told[0], b.told[0]
        assert Xa.shape == (row.n, 6)
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(ya, problem.evaluate_true(Xa))  # noiseless
        assert a.rng == b.rng and a.goal == b.goal == problem.goal
        np.testing.assert_array_equal(a.bounds, problem.bounds)
    first = [r.told[0][0] for r in timed[::2]]
    assert not np.array_equal(first[0], first[1])  # two data sets of one size differ


def test_the_ask_runs_on_one_blas_and_one_torch_thread(
    recorded: list[Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = [4]
    torch = types.ModuleType("torch")  # a stand-in: only the thread count matters here
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads[0], raising=False)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: threads.__setitem__(0, n), False)
    monkeypatch.setitem(sys.modules, "torch", torch)
    cold_ask_times("branin", sizes=[4], planners=[A], n_datasets=2, progress=False)
    for r in _timed(recorded):
        assert r.blas_threads == {1} and r.torch_threads == 1
    assert threads == [4]  # restored


def test_the_same_seed_gives_the_same_data(recorded: list[Recorder]) -> None:
    def told(rng: int, sizes: list[int]) -> dict[int, list[Any]]:
        recorded.clear()
        cold_ask_times("branin", sizes=sizes, planners=[A], n_datasets=2, rng=rng, progress=False)
        out: dict[int, list[Any]] = {}
        for r in _timed(recorded):
            out.setdefault(len(r.told[0][1]), []).append((r.told[0][0], r.rng))
        return out

    first, again, other = told(5, [3, 8]), told(5, [8]), told(6, [8])
    for (X1, seed1), (X2, seed2) in zip(first[8], again[8], strict=True):
        np.testing.assert_array_equal(X1, X2)  # data set k of size n: whatever else ran
        assert seed1 == seed2
    assert not np.array_equal(first[8][0][0], other[8][0][0])
    assert first[8][0][1] != other[8][0][1]


def test_peers_are_built_by_the_peer_factory_and_ask_from_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[PlannerSpec] = []

    def record(spec: PlannerSpec, *args: Any) -> float:
        seen.append(spec)
        return 0.0

    monkeypatch.setattr(_cold, "_time_cold_ask", record)
    cold_ask_times("branin", sizes=[3, 12], planners=["ardlib"], n_datasets=1, progress=False)
    assert [(s.name, s.to_json()["cls"], s.params) for s in seen] == [
        ("ardlib", PEERS["ardlib"], {"n_initial": 3}),  # the design would not fit: none left
        ("ardlib", PEERS["ardlib"], {"n_initial": 5}),
    ]
    problem = get_problem("branin")
    planner = seen[0].build(bounds=problem.bounds, goal=problem.goal, rng=0)
    assert isinstance(planner, BayesianOptimization)
    X = problem.bounds[:, 0] + np.array([[0.1, 0.2], [0.5, 0.9], [0.8, 0.4]]) * np.ptp(
        problem.bounds, axis=1
    )
    planner.tell(X, problem.evaluate_true(X))
    planner.ask()
    assert planner.gp_ is not None  # the model was fitted: a cold ask, not a design point


def test_real_planners_are_timed() -> None:
    sobol = PlannerSpec("sobol", "ardlib.planners.Sobol")
    times = cold_ask_times(
        "branin", sizes=[6], planners=["ardlib", sobol], n_datasets=2, progress=False
    )
    assert list(times.columns) == ["problem", "planner", "n", "dataset", "seconds"]
    assert (times["problem"] == "branin").all() and (times["seconds"] > 0).all()
    summary = cold_summary(times).set_index("planner")
    assert summary.loc["sobol", "ratio"] < 1  # a table lookup against a GP fit


def test_summary_pairs_data_sets_and_takes_the_median_ratio() -> None:
    times = pd.DataFrame(
        {
            "problem": "p",
            "planner": ["ref", "peer"] * 3,
            "n": 10,
            "dataset": [0, 2, 1, 1, 2, 0],  # out of order: pairing is by data set
            "seconds": [1.0, 40.0, 2.0, 4.0, 4.0, 10.0],
        }
    )
    summary = cold_summary(times, reference="ref").set_index("planner")
    # per data set 10/1, 4/2, 40/4: median 10 (the ratio of the medians would be 5)
    assert summary.loc["peer", "ratio"] == 10.0
    assert summary.loc["peer", "median_ms"] == 10_000.0 and summary.loc["ref", "median_ms"] == 2000
    assert summary.loc["peer", "ratio_low"] <= 10.0 <= summary.loc["peer", "ratio_high"]
    assert np.isnan(summary.loc["ref", "ratio"]) and (summary["datasets"] == 3).all()
    one = cold_summary(times[times["dataset"] == 0], reference="ref").set_index("planner")
    assert one.loc["peer", "ratio"] == 10.0 and np.isnan(one.loc["peer", "ratio_low"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": []}, "'sizes' parameter of cold_ask_times must be a non-empty sequence"),
        ({"sizes": [10, 1]}, "'sizes' parameter of cold_ask_times .* ints >= 2"),
        ({"sizes": [10, 10]}, "'sizes' parameter of cold_ask_times .* distinct ints"),
        ({"sizes": 10}, "'sizes' parameter of cold_ask_times"),
        ({"planners": ["ardlib", "hyperopt"]}, "'planners' parameter of cold_ask_times .*names"),
        ({"planners": []}, "'planners' parameter of cold_ask_times must be a non-empty"),
        ({"planners": ["ardlib", "ardlib"]}, "'planners' parameter of cold_ask_times .*distinct"),
        ({"n_datasets": 0}, "'n_datasets' parameter of cold_ask_times must be an int >= 1"),
        ({"problem": "nosuch"}, "'problem' parameter of cold_ask_times must be a registered"),
    ],
)
def test_bad_arguments_are_named(
    kwargs: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cold, "_time_cold_ask", pytest.fail)  # nothing may be timed
    with pytest.raises(ValueError, match=message):
        cold_ask_times(**{"sizes": [10], "planners": ["ardlib"], "progress": False, **kwargs})


def test_summary_names_a_bad_table() -> None:
    with pytest.raises(ValueError, match=r"'times' parameter .* lacks the columns \['seconds'\]"):
        cold_summary(pd.DataFrame(columns=["problem", "planner", "n", "dataset"]))
    times = pd.DataFrame(
        {"problem": "p", "planner": ["a", "b", "b"], "n": [10, 10, 20], "dataset": 0,
         "seconds": 1.0}
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"'reference' parameter of cold_summary .* Got 'ardlib'"):
        cold_summary(times)
    with pytest.raises(ValueError, match="'a' misses some of 'b' at n = 20"):
        cold_summary(times, reference="a")


@pytest.fixture
def without_botorch(monkeypatch: pytest.MonkeyPatch, hide_package: Callable[..., None]) -> None:
    """``import botorch`` fails; torch is a stand-in (importing the real one takes seconds)."""
    hide_package("botorch")
    torch = types.ModuleType("torch")
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None, raising=False)
    monkeypatch.setitem(sys.modules, "torch", torch)


@pytest.mark.usefixtures("without_botorch")
def test_a_missing_peer_fails_before_anything_is_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cold, "_time_cold_ask", pytest.fail)
    with pytest.raises(ImportError, match=r"needs 'botorch'.*pip install -e \.\[peers\]"):
        cold_ask_times(sizes=[10], progress=False)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["bench", "peers", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cold_command_writes_rows_summary_machine_and_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "cold.json"
    argv = ["--cold", "--problems", "branin", "--planners", "ardlib", "--sizes", "4", "6"]
    status, stdout, _ = _cli([*argv, "--datasets", "2", "--out", str(out)], capsys)
    assert status == 0 and f"wrote {out}" in stdout
    data = json.loads(out.read_text())
    assert data["settings"] == {
        "mode": "cold", "problems": ["branin"], "planners": ["ardlib"], "sizes": [4, 6],
        "datasets": 2, "seed": 0, "reference": "ardlib",
    }  # fmt: skip
    rows = pd.DataFrame(data["rows"])
    assert rows[["n", "dataset"]].values.tolist() == [[4, 0], [4, 1], [6, 0], [6, 1]]
    assert (rows["seconds"] > 0).all()
    # the report rebuilds the table from the raw rows: the same as the one stored
    rebuilt = cold_summary(rows)
    stored = pd.DataFrame(data["summary"]).astype(rebuilt.dtypes.to_dict())  # null: NaN
    pd.testing.assert_frame_equal(rebuilt, stored)
    assert data["versions"]["ardlib"] and {"cpu", "cores", "load_average"} <= set(data["machine"])
    assert len(data["machine"]["load_average_before"]) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cold", "--sizes", "1"], "'sizes' parameter of cold_ask_times"),
        (["--cold", "--datasets", "0"], "'n_datasets' parameter of cold_ask_times"),
        (["--cold", "--planners", "hyperopt"], "'planners' parameter of cold_ask_times"),
        (["--cold", "--problems", "branin", "nosuch"], "'problem' parameter of cold_ask_times"),
        (["--cold", "--budget", "5", "--store", "s"], "error: --budget, --store: only for the"),
        (["--cold", "--seeds", "6"], "error: --seeds: only for the peer study"),
        (["--sizes", "10"], "error: --sizes: only for --cold"),
        (["--datasets", "3"], "error: --datasets: only for --cold"),
        (["--cold", "--budgets", "20"], "error: --budgets: only for the peer study"),
        (["--budget", "8", "--budgets", "9"], "'budgets' parameter of run_peers"),
        (["--budgets", "0"], "'budgets' parameter of run_peers must be an int >= 1"),
    ],
)
def test_cold_command_names_a_bad_argument(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(_cold, "_time_cold_ask", pytest.fail)
    out = tmp_path / "cold.json"
    status, _, err = _cli([*argv, "--out", str(out)], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("ardlib: error: ") and message in err, err
    assert not out.exists()


@pytest.mark.usefixtures("without_botorch")
def test_cold_command_without_botorch_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cold.json"
    status, _, err = _cli(["--cold", "--sizes", "10", "--out", str(out)], capsys)
    assert status == 2 and err.startswith("ardlib: error: The peer comparison needs 'botorch'")
    assert err.count("\n") == 1 and not out.exists()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Optimization failed:RuntimeWarning")  # BoTorch retries
def test_cold_asks_of_ardlib_and_botorch() -> None:
    pytest.importorskip("botorch")
    times = cold_ask_times("hartmann6", sizes=[8], n_datasets=2, progress=False)
    assert times[["planner", "dataset"]].values.tolist() == [
        ["ardlib", 0], ["botorch", 0], ["ardlib", 1], ["botorch", 1],
    ]  # fmt: skip
    assert (times["seconds"] > 0).all()
    row = cold_summary(times).set_index("planner").loc["botorch"]
    assert row["datasets"] == 2 and row["ratio"] > 0
    assert row["ratio_low"] <= row["ratio"] <= row["ratio_high"]
