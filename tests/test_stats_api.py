"""The public surface of ardlib.stats: pinned names and frozen, documented result objects
(numpydoc sections of every public callable: tests/test_public_api.py)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import ardlib.stats as st

PUBLIC_FUNCTIONS = [
    "a12",
    "a12_magnitude",
    "bootstrap_ci",
    "compare_planners",
    "ecdf_time_to_target",
    "holm",
    "holm_across",
    "normalized_score",
    "normalized_scores",
    "paired_test",
    "replicates_for_power",
    "replicates_for_power_normal",
    "time_to_target",
]
RESULTS = ["CIResult", "Comparison", "PairedTestResult", "PowerResult"]


def test_the_public_names_are_pinned():
    # tests/test_public_api.py checks __all__ against the module; this pins the names
    assert set(st.__all__) == {*PUBLIC_FUNCTIONS, *RESULTS, "A12_THRESHOLDS"}


@pytest.mark.parametrize("name", RESULTS)
def test_results_are_documented_frozen_dataclasses(name):
    cls = getattr(st, name)
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    doc = inspect.getdoc(cls)
    for field in dataclasses.fields(cls):
        assert field.name in doc, (name, field.name)
