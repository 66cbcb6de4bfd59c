"""Public names of .work.main.ardlib.bench (read by lazy_loader.attach_stub and type checkers)."""

from ._batches import BatchComparison, batch_studies, compare_batches, run_batches
from ._changepoint import ChangePoint, detect_change_points
from ._cold import COLD_SIZES, cold_ask_times, cold_summary
from ._compare import Change, compare_samples
from ._detector import DETECTOR_BENCHMARKS, DetectorRates, measure_detector
from ._history import history_changes
from ._peers import PEERS, PeerComparison, compare_peers, peer_study, peer_versions, run_peers
from ._planners import PlannerBenchmark, planner_benchmark
from ._plots import plot_history, plot_ratios, profile_links
from ._profile import ProfileResult, diff_top_frames, load_top_frames, profile_call, save_profile
from ._profiles import profile_benchmarks
from ._registry import Benchmark, benchmark, get_benchmark, list_benchmarks
from ._revisions import RevisionComparison, compare_revisions, resolve_revision
from ._run import BenchRun, load_runs, machine_info, run_benchmarks, save_run
from ._scaling import ScalingResult, scaling_study, study_scaling

__all__ = [
    "COLD_SIZES",
    "DETECTOR_BENCHMARKS",
    "PEERS",
    "BatchComparison",
    "BenchRun",
    "Benchmark",
    "Change",
    "ChangePoint",
    "DetectorRates",
    "PeerComparison",
    "PlannerBenchmark",
    "ProfileResult",
    "RevisionComparison",
    "ScalingResult",
    "batch_studies",
    "benchmark",
    "cold_ask_times",
    "cold_summary",
    "compare_batches",
    "compare_peers",
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
    "peer_study",
    "peer_versions",
    "planner_benchmark",
    "plot_history",
    "plot_ratios",
    "profile_benchmarks",
    "profile_call",
    "profile_links",
    "resolve_revision",
    "run_batches",
    "run_benchmarks",
    "run_peers",
    "save_profile",
    "save_run",
    "scaling_study",
    "study_scaling",
]
