"""Public names of ardlib.stats (read by lazy_loader.attach_stub and type checkers)."""

from ._bootstrap import CIResult, bootstrap_ci
from ._compare import Comparison, compare_planners, holm_across
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
    "holm_across",
    "normalized_score",
    "normalized_scores",
    "paired_test",
    "replicates_for_power",
    "replicates_for_power_normal",
    "time_to_target",
]
