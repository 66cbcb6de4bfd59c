"""Detect regressions in scientific results by comparing them with a stored baseline.

:func:`check_results` compares today's results with a baseline file
(``data/baselines/results.json``) and returns a :class:`RegressReport`, one verdict per
quantity:

- *deterministic* quantities must match within a tolerance stated in the file: the
  ground truth of every analytic problem (box, optimal value, values at fixed points) and
  seeded single GP-BO campaigns rerun now (final value, trajectory and its SHA-256);
- *stochastic* summaries, the per-replicate final regrets of every (problem, noise,
  planner) group of the studies ``ardlib study run`` wrote, are compared with the stored
  ones by two-sided Mann-Whitney U tests, Holm-adjusted over all groups: a group
  *regressed* when the adjusted p-value is below ``alpha`` and its median regret rose,
  *improved* (reported, not a failure) when it fell.

:func:`update_baseline` records a new baseline, only when asked, with ``who``, ``why``,
``when`` and the git revision appended to the file's history; :func:`load_baseline`
reads one and raises :class:`BaselineError` when it is missing or corrupt.
:func:`compare_regrets` compares two study results tables directly.
:func:`measure_detector` measures how often the study comparison fails an honest rerun and
how often it catches a degraded GP-BO (a :class:`DetectorMeasurement`).

Command line: ``ardlib regress check`` (exit 1 on a regression, 2 on a missing or corrupt
baseline), ``ardlib regress update --why TEXT`` and ``ardlib regress detector``.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
