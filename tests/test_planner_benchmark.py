"""The planner benchmark (``planner_benchmark``, ``ardlib bench planners``) at tiny size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ardlib.bench import PlannerBenchmark, planner_benchmark
from ardlib.cli import main


@pytest.fixture(scope="module")
def tiny() -> PlannerBenchmark:
    return planner_benchmark(seeds=3, reps=2, budget=8, sizes=(7, 12))


def test_latency_cells_time_the_asks_up_to_n(tiny: PlannerBenchmark) -> None:
    lat = tiny.latency
    assert lat["cell"].tolist() == ["d2_n7", "d2_n12", "d6_n7", "d6_n12"]
    # n = 7 starts from the 5-point initial design (2 asks), n = 12 from 5 points too
    # (max(12 - 10, 5)): 7 asks; each times ``reps`` campaigns.
    assert lat["samples"].tolist() == [4, 14, 4, 14]
    assert (lat["median_ms"] > 0).all()
    assert (lat["median_ms"] <= lat["p90_ms"]).all() and (lat["p90_ms"] <= lat["max_ms"]).all()


def test_evaluations_to_target_are_seeded_and_censored(tiny: PlannerBenchmark) -> None:
    assert tiny.evals.shape == (3,)
    assert ((tiny.evals >= 1) & (tiny.evals <= 9)).all()
    again = planner_benchmark(seeds=3, reps=1, budget=8, sizes=(6,))
    np.testing.assert_array_equal(again.evals, tiny.evals)
    # regret is never below 0: every run is censored at budget + 1, none dropped
    never = planner_benchmark(seeds=2, reps=1, budget=4, sizes=(6,), target=0.0)
    assert never.evals.tolist() == [5, 5]
    assert never.evals_summary()["never_reached"] == 2
    # every regret is below 1e9: the first evaluation reaches it
    always = planner_benchmark(seeds=2, reps=1, budget=4, sizes=(6,), target=1e9)
    assert always.evals.tolist() == [1, 1]


def test_table_and_record(tiny: PlannerBenchmark) -> None:
    lines = tiny.format().splitlines()
    assert lines[0].split() == ["cell", "median", "ms", "p90", "ms", "max", "ms"]
    assert [ln.split()[0] for ln in lines[1:5]] == ["d2_n7", "d2_n12", "d6_n7", "d6_n12"]
    assert lines[5].startswith("Branin evals to regret<0.001 over 3 seeds: median ")
    record = json.loads(json.dumps(tiny.to_json()))
    assert set(record["ask_latency"]) == {"d2_n7", "d2_n12", "d6_n7", "d6_n12"}
    assert record["branin_evals"]["all"] == tiny.evals.tolist()
    assert record["settings"] == {
        "seeds": 3,
        "reps": 2,
        "budget": 8,
        "sizes": [7, 12],
        "target": 0.001,
    }
    assert record["machine"]["cores"] >= 1


def test_planners_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "planners.json"
    args = ["bench", "planners", "--seeds", "1", "--reps", "1", "--budget", "6", "--sizes", "6"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[1].split()[0] == "d2_n6"
    assert "Branin seed 1/1: " in printed.err
    assert json.loads(out.read_text())["settings"]["sizes"] == [6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--seeds", "0"],
            "The 'seeds' parameter of planner_benchmark must be an int >= 1. Got 0.",
        ),
        (
            ["--sizes", "5"],
            "The 'sizes' parameter of planner_benchmark must be an int >= 6. Got 5.",
        ),
    ],
)
def test_planners_command_bad_argument_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "planners", *args]) == 2
    assert capsys.readouterr().err == f"ardlib: error: {message}\n"
