"""The study-regression detector's measured error rates (``measure_detector``) at tiny size:
seeded and deterministic, honest reruns fail at about ``alpha``, a planner without its model
is caught far more often."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from ardlib.regress import DetectorMeasurement, measure_detector

# Branin only (random, Sobol', GP-BO: three groups), 10 runs a side, budget 20; the degraded
# GP-BO never leaves its initial design (Sobol' points, no model).
TINY: dict[str, Any] = {
    "problems": ["branin"],
    "budget": 20,
    "replicates": 10,
    "pool": 20,
    "degraded_pool": 10,
    "draws": 40,
    "alpha": 0.05,
    "factors": [100.0],
    "shift_draws": 40,
    "degradations": {"no_model": {"n_initial": 20}},
    "seed": 3,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("detector_store")


@pytest.fixture(scope="module")
def measured(store: Path) -> DetectorMeasurement:
    return measure_detector(**TINY, store=store)


def _numbers(m: DetectorMeasurement) -> dict[str, Any]:
    record = m.to_json()
    del record["seconds"]
    return record


@pytest.mark.slow
def test_same_seed_gives_the_same_record(measured: DetectorMeasurement, store: Path) -> None:
    lines: list[str] = []
    again = measure_detector(**TINY, store=store, progress=lines.append)
    assert _numbers(again) == _numbers(measured)
    assert lines[0].startswith("[1/4] honest/branin/random: 20 runs")


@pytest.mark.slow
def test_honest_reruns_fail_at_about_alpha(measured: DetectorMeasurement) -> None:
    fp = measured.false_positive
    assert fp["draws"] == TINY["draws"]
    # Holm keeps the family-wise rate at or below alpha: 40 draws at 5% fail more than
    # 7 times with probability < 0.001.
    assert fp["check_failed_rate"] * fp["draws"] <= stats.binom.ppf(0.999, fp["draws"], 0.05)
    assert set(fp["group_verdict_rates"]) == {
        "branin/none/gpbo",
        "branin/none/random",
        "branin/none/sobol",
    }


@pytest.mark.slow
def test_a_degraded_planner_is_flagged_more_often_than_an_honest_one(
    measured: DetectorMeasurement,
) -> None:
    power = measured.power["no_model"]
    assert power["planner_params"] == {"n_initial": 20}
    assert power["effect"]["branin"]["a12_degraded_vs_gpbo"] > 0.71  # a large effect
    assert power["check_failed_rate"] >= measured.false_positive["check_failed_rate"] + 0.5
    assert power["gpbo_regressed_rate"]["branin/none/gpbo"] >= 0.5
    (shift,) = measured.power_vs_regret_factor
    assert shift["factor"] == 100.0 and shift["check_failed_rate"] >= 0.5


@pytest.mark.slow
def test_record_and_summary(measured: DetectorMeasurement) -> None:
    record = measured.to_json()
    assert set(record) == {
        "settings",
        "false_positive",
        "power",
        "power_vs_regret_factor",
        "seconds",
        "ardlib_revision",
    }
    assert record["settings"]["groups_per_check"] == 3
    assert record["settings"]["replicates_per_group"] == 10
    text = measured.format().splitlines()
    assert text[0].startswith("false-positive rate (check fails on an honest rerun): ")
    assert text[1].startswith("power vs no_model: check fails ")
    assert text[-1].startswith("power vs GP-BO regret x 100: check fails ")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pool": 19}, "The 'pool' parameter of measure_detector must be an int >= 20. Got 19."),
        ({"degraded_pool": 9}, "The 'degraded_pool' parameter of measure_detector must be an"),
        ({"alpha": 1.0}, "The 'alpha' parameter of measure_detector must be a finite float > 0"),
        ({"factors": [-1.0]}, "The 'factors' parameter of measure_detector must be a finite"),
        ({"problems": []}, "The 'problems' parameter of measure_detector must name at least"),
        ({"draws": 0}, "The 'draws' parameter of measure_detector must be an int >= 1. Got 0."),
    ],
)
def test_bad_arguments_are_named_before_any_work(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        measure_detector(**{**TINY, **change}, progress=pytest.fail)
