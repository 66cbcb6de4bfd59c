"""Honest statistics for planner comparisons: paired tests, effect sizes, intervals.

Planners are compared on benchmark problems over paired replicates (common random
numbers), on true regret, lower is better:

- :func:`compare_planners`: paired Wilcoxon tests per (problem, noise) and planner pair,
  Holm-corrected over the whole study, with A12 and bootstrap intervals;
- :func:`paired_test`, :func:`a12`, :func:`a12_magnitude`, :func:`holm`,
  :func:`bootstrap_ci`: the pieces, usable on their own;
- :func:`time_to_target`, :func:`ecdf_time_to_target`: COCO-style runtimes with censoring;
- :func:`normalized_score`, :func:`normalized_scores`: regret relative to random search;
- :func:`replicates_for_power`, :func:`replicates_for_power_normal`: how many replicates.
"""

from ._bootstrap import CIResult, bootstrap_ci
from ._compare import Comparison, compare_planners
from ._effect import A12_THRESHOLDS, a12, a12_magnitude
from ._holm import holm
from ._normalize import normalized_score, normalized_scores
from ._paired import PairedTestResult, paired_test
from ._power import PowerResult, replicates_for_power, replicates_for_power_normal
from ._target import ecdf_time_to_target, time_to_target

__all__ = [
    "A12_THRESHOLDS",
    "CIResult",
    "Comparison",
    "PairedTestResult",
    "PowerResult",
    "a12",
    "a12_magnitude",
    "bootstrap_ci",
    "compare_planners",
    "ecdf_time_to_target",
    "holm",
    "normalized_score",
    "normalized_scores",
    "paired_test",
    "replicates_for_power",
    "replicates_for_power_normal",
    "time_to_target",
]
