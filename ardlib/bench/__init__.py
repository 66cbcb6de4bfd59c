"""Continuous benchmarking: ardlib's hot paths timed, compared side by side between
revisions with noise-robust verdicts, tracked over history, and profiled.

- :func:`list_benchmarks`, :func:`get_benchmark`, :class:`Benchmark`, :func:`benchmark`:
  the registry (GP fit and predict, acquisition optimization, ``ask()``, objectives, a
  small study with 1 and 2 workers, the client against the reference service);
- :func:`run_benchmarks`, :func:`save_run`, :func:`load_runs`, :func:`machine_info`: time
  this checkout and keep the result per revision under ``data/benchmarks/runs``;
- :func:`compare_revisions`, :func:`compare_samples`: BASE and HEAD in separate worktrees
  and runner processes, alternating; a regression is significant (Mann-Whitney
  p < 0.002) *and* large (> 10%);
- :func:`history_changes`, :func:`detect_change_points`: change points over revisions;
- :func:`measure_detector`: the comparison's measured false-positive and detection rates;
- :func:`planner_benchmark`: GP-BO ``ask()`` latency by dimension and size, and evaluations
  to a target regret on Branin (``ardlib bench planners``, ``make bench``);
- :func:`profile_benchmarks`, :func:`profile_call`, :func:`diff_top_frames`: flame graphs
  and the frames that moved (pyinstrument, the ``bench`` extra).
"""

from . import _suite  # noqa: F401  (registers the benchmarks)
from ._changepoint import ChangePoint, detect_change_points
from ._compare import Change, compare_samples
from ._detector import DETECTOR_BENCHMARKS, DetectorRates, measure_detector
from ._history import history_changes
from ._planners import PlannerBenchmark, planner_benchmark
from ._registry import Benchmark, benchmark, get_benchmark, list_benchmarks
from ._revisions import RevisionComparison, compare_revisions, resolve_revision
from ._run import BenchRun, load_runs, machine_info, run_benchmarks, save_run

__all__ = [
    "DETECTOR_BENCHMARKS",
    "BenchRun",
    "Benchmark",
    "Change",
    "ChangePoint",
    "DetectorRates",
    "PlannerBenchmark",
    "ProfileResult",
    "RevisionComparison",
    "benchmark",
    "compare_revisions",
    "compare_samples",
    "detect_change_points",
    "diff_top_frames",
    "get_benchmark",
    "history_changes",
    "list_benchmarks",
    "load_runs",
    "load_top_frames",
    "machine_info",
    "measure_detector",
    "planner_benchmark",
    "profile_benchmarks",
    "profile_call",
    "resolve_revision",
    "run_benchmarks",
    "save_profile",
    "save_run",
]

_LAZY = {  # need pyinstrument (the ``bench`` extra): imported on first use
    "ProfileResult": "_profile",
    "diff_top_frames": "_profile",
    "load_top_frames": "_profile",
    "profile_call": "_profile",
    "save_profile": "_profile",
    "profile_benchmarks": "_profiles",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
