"""Public names of ardlib.regress (read by lazy_loader.attach_stub and type checkers)."""

from ._baseline import DEFAULT_BASELINE, Baseline, BaselineError, load_baseline
from ._check import DEFAULT_STUDIES, DEFAULT_TOLERANCES, KINDS, check_results
from ._detector import DEGRADATIONS, DetectorMeasurement, measure_detector
from ._report import FAILING, VERDICTS, RegressReport
from ._seeded import DEFAULT_SEEDED_RUNS, SeededRun
from ._stochastic import compare_regrets
from ._update import update_baseline

__all__ = [
    "DEFAULT_BASELINE",
    "DEFAULT_SEEDED_RUNS",
    "DEFAULT_STUDIES",
    "DEFAULT_TOLERANCES",
    "DEGRADATIONS",
    "FAILING",
    "KINDS",
    "VERDICTS",
    "Baseline",
    "BaselineError",
    "DetectorMeasurement",
    "RegressReport",
    "SeededRun",
    "check_results",
    "compare_regrets",
    "load_baseline",
    "measure_detector",
    "update_baseline",
]
