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
- :func:`peer_study`, :func:`compare_peers`, :func:`run_peers`: ardlib's GP-BO beside
  BoTorch, scikit-optimize and Optuna as one study (``ardlib bench peers``);
- :func:`cold_ask_times`, :func:`cold_summary`: one cold ``ask()`` (a fresh planner told
  ``n`` observations) of ardlib and of the peers on the same data, timed side by side
  (``ardlib bench peers --cold``);
- :func:`batch_studies`, :func:`compare_batches`, :func:`run_batches`: batches of q
  points against sequential asks at equal evaluations, and ardlib's batches against
  BoTorch's qLogEI (``ardlib bench batches``);
- :func:`profile_benchmarks`, :func:`profile_call`, :func:`diff_top_frames`: flame graphs
  and the frames that moved (pyinstrument, the ``bench`` extra);
- :func:`plot_ratios`, :func:`plot_history`, :func:`profile_links`: the benchmark report's
  figures and profile table.

Names load on first access (lazy_loader); the benchmark definitions register when the
registry is first read.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
