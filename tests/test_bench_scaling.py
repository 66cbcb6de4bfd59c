"""Study scaling (issue 9, item 5): one worker against several on the same study, through
``ardlib.bench.study_scaling`` and ``ardlib bench scaling``.

Timings are not asserted (a shared machine); what is: every run of every round computes
the study afresh, one worker and two give one digest, the numbers add up, and bad
arguments are named before anything runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ardlib.bench import _scaling, scaling_study, study_scaling
from ardlib.cli import main
from ardlib.study import Study


def test_the_default_study_has_48_cells_of_three_planners() -> None:
    study = scaling_study()
    cells = study.cells()
    assert len(cells) == 48
    assert {c.planner.name for c in cells} == {"gp-bo", "random", "sobol"}
    assert {c.budget for c in cells} == {30}


@pytest.mark.slow  # six study runs, three on a process pool, about 2.3 s
def test_rounds_alternate_and_compute_every_cell_on_one_and_two_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = scaling_study(replicates=1, budget=4)
    calls: list[tuple[int, int]] = []
    real_run = Study.run

    def spy(self: Study, store: Any, **kwargs: Any) -> Any:
        result = real_run(self, store, **kwargs)
        calls.append((kwargs["max_workers"], result.n_computed))
        return result

    monkeypatch.setattr(Study, "run", spy)
    lines: list[str] = []
    result = study_scaling(study, workers=2, rounds=2, progress=lines.append)
    # a warm-up of each, then 1, 2, 1, 2; each run computes all 6 cells afresh
    assert calls == [(1, 6), (2, 6), (1, 6), (2, 6), (1, 6), (2, 6)]
    assert len(lines) == 4 and lines[0].startswith("round 1/2: 1 worker(s)")
    assert result.n_cells == 6 and result.workers == 2
    assert len(result.digests) == 1  # the same results on one worker and on two
    assert len(result.serial_s) == len(result.parallel_s) == 2
    assert result.ratios == pytest.approx(
        [s / p for s, p in zip(result.serial_s, result.parallel_s, strict=True)]
    )
    assert result.to_json()["speedup"] == pytest.approx(result.speedup)
    assert "6 cells, 2 alternating rounds" in result.format()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 1}, "'workers' parameter of study_scaling must be an int >= 2"),
        ({"rounds": 0}, "'rounds' parameter of study_scaling must be an int >= 1"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        study_scaling(**kwargs)


def test_command_writes_the_json_and_refuses_one_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_scaling, "scaling_study", lambda: scaling_study(replicates=1, budget=3))
    out = tmp_path / "scaling.json"
    assert main(["bench", "scaling", "--rounds", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["n_cells"] == 6 and len(data["digests"]) == 1 and "machine" in data
    assert f"wrote {out}" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    assert main(["bench", "scaling", "--workers", "1", "--out", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "'workers' parameter of study_scaling must be an int >= 2" in err
    assert not bad.exists()
