"""A real degraded planner behind an unchanged study spec fails the check (slow tier)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import ardlib.planners
from ardlib.planners import BayesianOptimization
from ardlib.regress import check_results, update_baseline
from ardlib.study import PlannerSpec, ProblemSpec, Study


class _CoarseBO(BayesianOptimization):
    """GP-BO as a careless refactor might leave it: no exploitation steps and a coarse
    acquisition search (8 raw candidates, one ascent)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exploit_every = None
        self.n_raw, self.n_starts = 8, 1


def _run(directory: Path) -> None:
    """Run the study in-process and write its outputs as ``ardlib study run`` does."""
    study = Study(
        problems=[ProblemSpec("branin")],
        planners=[
            PlannerSpec("gpbo", "ardlib.planners.BayesianOptimization"),
            PlannerSpec("random", "ardlib.planners.RandomSearch"),
        ],
        noises=[None],
        replicates=12,
        budget=30,
        master_seed=5,
    )
    with ThreadPoolExecutor(1) as pool:
        result = study.run(directory / "store", executor=pool, progress=False)
    result.save(directory / "toy.parquet")


@pytest.mark.slow
def test_a_degraded_gpbo_with_the_same_spec_regresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path / "before")
    baseline = tmp_path / "results.json"
    update_baseline(baseline, tmp_path / "before", why="before", who="t", kinds=["study"])
    monkeypatch.setattr(ardlib.planners, "BayesianOptimization", _CoarseBO)
    _run(tmp_path / "after")
    report = check_results(baseline, tmp_path / "after", kinds=["study"])
    verdicts = dict(zip(report.table["name"], report.table["verdict"], strict=True))
    assert verdicts == {"toy: branin/none/gpbo": "regressed", "toy: branin/none/random": "pass"}
    assert not report.passed
