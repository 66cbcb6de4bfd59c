"""Honest statistics for planner comparisons: paired tests, effect sizes, intervals.

Planners are compared on benchmark problems over paired replicates (common random
numbers), on true regret, lower is better:

- :func:`compare_planners`: paired Wilcoxon tests per (problem, noise) and planner pair,
  Holm-corrected over the whole study, with A12 and bootstrap intervals;
  :func:`holm_across` makes several studies' comparisons one Holm family;
- :func:`paired_test`, :func:`a12`, :func:`a12_magnitude`, :func:`holm`,
  :func:`bootstrap_ci`: the pieces, usable on their own;
- :func:`time_to_target`, :func:`ecdf_time_to_target`: COCO-style runtimes with censoring;
- :func:`normalized_score`, :func:`normalized_scores`: regret relative to random search;
- :func:`replicates_for_power`, :func:`replicates_for_power_normal`: how many replicates.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
