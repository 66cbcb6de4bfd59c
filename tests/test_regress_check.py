"""check_results against a recorded baseline: deterministic and study verdicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_regress_support import write_study

from ardlib.regress import (
    DEFAULT_SEEDED_RUNS,
    FAILING,
    RegressReport,
    SeededRun,
    check_results,
    load_baseline,
    update_baseline,
)

RNG = np.random.default_rng(7)
GROUPS = {
    ("branin", "sd0", "gpbo"): RNG.lognormal(-3, 1, size=12).tolist(),
    ("branin", "sd0", "random"): RNG.lognormal(0, 1, size=12).tolist(),
}
CHEAP = [SeededRun("random-branin", "branin", planner="random", budget=6)]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A baseline of the reference values, a cheap seeded run and one synthetic study."""
    root = tmp_path_factory.mktemp("recorded")
    studies = root / "studies"
    write_study(studies, "toy", GROUPS)
    path = root / "results.json"
    update_baseline(path, studies, why="test baseline", who="tester", seeded_runs=CHEAP)
    return path, studies


@pytest.fixture
def baseline(recorded: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the recorded baseline, free to edit."""
    return Path(shutil.copy(recorded[0], tmp_path / "results.json"))


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def verdict(report: RegressReport, name: str) -> str:
    rows = report.table[report.table["name"] == name]
    assert len(rows) == 1, f"no single row {name!r} in {report.table['name'].tolist()}"
    return str(rows["verdict"].iloc[0])


def branin(data: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in data["reference"] if e["problem"] == "branin")


def test_unchanged_results_pass_every_check(recorded: tuple[Path, Path]) -> None:
    report = check_results(recorded[0], recorded[1])
    assert report.passed
    assert set(report.table["verdict"]) == {"pass"}
    kinds = report.table["kind"].value_counts().to_dict()
    assert kinds["study"] == 2 and kinds["seeded"] == 2 and kinds["reference"] >= 5 * 20
    assert "PASSED" in report.format()


def test_check_never_writes_the_baseline(recorded: tuple[Path, Path]) -> None:
    before = recorded[0].read_bytes()
    check_results(recorded[0], recorded[1], kinds=["reference"])
    assert recorded[0].read_bytes() == before


def test_reference_value_within_tolerance_passes_beyond_fails(baseline: Path) -> None:
    def shift(ulps: float) -> None:
        def change(data: dict[str, Any]) -> None:
            pt = branin(data)["points"][0]
            pt["value"] = pt["value"] + ulps * float(np.spacing(pt["scale"]))

        edit(baseline, change)

    shift(3)
    report = check_results(baseline, kinds=["reference"])
    assert verdict(report, "branin: f(x1)") == "pass" and report.passed
    assert "ulps" in report.table.set_index("name").loc["branin: f(x1)", "detail"]
    shift(1000)
    report = check_results(baseline, kinds=["reference"])
    assert verdict(report, "branin: f(x1)") == "regressed" and not report.passed
    assert report.failures["name"].tolist() == ["branin: f(x1)"]


def test_changed_optimum_or_box_regresses(baseline: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        branin(data)["optimal_value"] = 0.4
        branin(data)["bounds"][0][0] = -6.0

    edit(baseline, change)
    report = check_results(baseline, kinds=["reference"])
    assert verdict(report, "branin: optimal_value") == "regressed"
    assert verdict(report, "branin: bounds") == "regressed"
    assert "was [[-6.0, 10.0]" in report.failures.set_index("name").loc["branin: bounds", "detail"]


def test_a_problem_gone_from_the_registry_is_missing_and_a_new_one_new(baseline: Path) -> None:
    edit(baseline, lambda data: branin(data).update(problem="branin_old"))
    report = check_results(baseline, kinds=["reference"])
    assert verdict(report, "branin_old") == "missing"
    assert verdict(report, "branin") == "new"
    assert not report.passed


def test_seeded_final_value_within_tolerance_passes_beyond_fails(baseline: Path) -> None:
    def scale(factor: float) -> None:
        def change(data: dict[str, Any]) -> None:
            data["seeded"][0]["final_y_true_rec"] *= factor

        edit(baseline, change)

    scale(1 + 1e-9)
    report = check_results(baseline, kinds=["seeded"])
    assert report.passed
    scale(1 + 1e-3)
    report = check_results(baseline, kinds=["seeded"])
    assert verdict(report, "random-branin: final y_true_rec") == "regressed"


def test_trajectory_hash_mismatch_falls_back_to_the_tolerance(baseline: Path) -> None:
    edit(baseline, lambda data: data["seeded"][0].update(trajectory_sha256="0" * 64))
    report = check_results(baseline, kinds=["seeded"])
    assert verdict(report, "random-branin: trajectory") == "pass"
    assert "sha256 differs (rounding)" in report.table["detail"].iloc[1]

    def move(data: dict[str, Any]) -> None:
        data["seeded"][0]["trajectory"]["y_true"][3] += 1e-3

    edit(baseline, move)
    report = check_results(baseline, kinds=["seeded"])
    assert verdict(report, "random-branin: trajectory") == "regressed"
    assert "differs from step 3 on" in report.table["detail"].iloc[1]


@pytest.mark.slow
def test_default_gpbo_campaigns_reproduce(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    update_baseline(path, kinds=["seeded"], why="seeded only", who="tester")
    report = check_results(path, kinds=["seeded"])
    names = [f"{r.name}: trajectory" for r in DEFAULT_SEEDED_RUNS]
    assert report.passed and all(verdict(report, n) == "pass" for n in names)


def test_a_degraded_study_group_fails_the_check(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    worse = dict(GROUPS)
    worse[("branin", "sd0", "gpbo")] = [100 * v for v in GROUPS[("branin", "sd0", "gpbo")]]
    write_study(tmp_path, "toy", worse)
    report = check_results(recorded[0], tmp_path, kinds=["study"])
    assert not report.passed
    assert verdict(report, "toy: branin/sd0/gpbo") == "regressed"
    assert verdict(report, "toy: branin/sd0/random") == "pass"
    row = report.failures.iloc[0]
    assert row["p_holm"] < 0.01 and row["current"] > row["baseline"]


def test_an_improved_group_is_reported_but_passes(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    better = dict(GROUPS)
    better[("branin", "sd0", "random")] = [v / 100 for v in GROUPS[("branin", "sd0", "random")]]
    write_study(tmp_path, "toy", better)
    report = check_results(recorded[0], tmp_path, kinds=["study"])
    assert report.passed and verdict(report, "toy: branin/sd0/random") == "improved"


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"budget": 20}, "budget 10 in the baseline, 20 now"),
        ({"planner_params": {"x": 1}}, "planner changed"),
    ],
)
def test_changed_settings_make_groups_incomparable(
    recorded: tuple[Path, Path], tmp_path: Path, kwargs: dict[str, Any], detail: str
) -> None:
    # The study hash is forced to the baseline's: settings that moved without changing it
    # (a planner's defaults changed in code, say) are still caught group by group.
    (entry,) = load_baseline(recorded[0]).study_specs("toy").values()
    write_study(tmp_path, "toy", GROUPS, study_hash=entry["study_hash"], **kwargs)
    report = check_results(recorded[0], tmp_path, kinds=["study"])
    assert set(report.table["verdict"]) == {"incomparable"} and not report.passed
    assert detail in report.table["detail"].iloc[0]


def test_a_study_of_another_specification_has_no_baseline_and_does_not_fail(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    write_study(tmp_path, "toy", {k: v * 2 for k, v in GROUPS.items()}, budget=20)
    report = check_results(recorded[0], tmp_path, kinds=["study"])
    assert report.passed and report.table["verdict"].tolist() == ["no baseline"]
    row = report.table.iloc[0]
    assert row["name"] == "toy" and "budget 20, 24 replicates" in row["detail"]
    assert "ardlib regress update --only toy" in row["detail"]


def test_missing_study_results_fail_with_the_file_named(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    report = check_results(recorded[0], tmp_path / "nowhere", kinds=["study"])
    assert set(report.table["verdict"]) == {"missing"} and not report.passed
    assert "toy.parquet" in report.table["detail"].iloc[0]


def test_new_groups_are_reported_without_failing(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    (entry,) = load_baseline(recorded[0]).study_specs("toy").values()
    more = {**GROUPS, ("branin", "sd0", "sobol"): [1.0] * 12}
    write_study(tmp_path, "toy", more, study_hash=entry["study_hash"])
    report = check_results(recorded[0], tmp_path, kinds=["study"])
    assert report.passed and verdict(report, "toy: branin/sd0/sobol") == "new"


def test_bad_arguments_are_named(recorded: tuple[Path, Path]) -> None:
    with pytest.raises(ValueError, match="'alpha' parameter of check_results must be a finite"):
        check_results(recorded[0], alpha=1.5)
    with pytest.raises(ValueError, match="'kinds' parameter of check_results must be"):
        check_results(recorded[0], kinds=["studies"])
    with pytest.raises(
        ValueError, match=r"'only' parameter .* holds: \['other'\]; known: \['toy'\]"
    ):
        check_results(recorded[0], recorded[1], only=["other"])


def test_report_json_has_no_nan_and_lists_every_row(recorded: tuple[Path, Path]) -> None:
    report = check_results(recorded[0], recorded[1], kinds=["study"])
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["passed"] is True and data["counts"] == {"pass": 2}
    assert [r["name"] for r in data["rows"]] == report.table["name"].tolist()
    assert FAILING == ("regressed", "missing", "incomparable")
