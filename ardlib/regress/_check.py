"""Check today's results against the baseline: one verdict per stored quantity.

Three kinds of quantity, each compared its own way:

- ``reference``: analytic ground truth (box, optimal value, values at fixed points),
  equal within ``reference_max_ulps`` (:mod:`ardlib.regress._values`);
- ``seeded``: seeded single campaigns rerun now, equal within ``seeded_rtol``
  (:mod:`ardlib.regress._seeded`);
- ``study``: per-group final-regret distributions of the studies under ``studies``,
  compared by Mann-Whitney U tests Holm-adjusted over every group
  (:mod:`ardlib.regress._stochastic`).

A check never writes the baseline; :func:`ardlib.regress.update_baseline` does, on request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_real
from ._baseline import DEFAULT_BASELINE, DEFAULT_STUDIES, KINDS, Baseline, load_baseline
from ._report import FAILING, RegressReport, make_table
from ._seeded import HASH_DIGITS, SEEDED_RTOL, compare_seeded
from ._stochastic import compare_groups
from ._studies import pair_with_baseline, study_names
from ._values import MAX_ULPS, compare_reference

__all__ = ["DEFAULT_STUDIES", "DEFAULT_TOLERANCES", "KINDS", "check_kinds", "check_results"]


#: Tolerances written into a new baseline (and used when one lacks them).
DEFAULT_TOLERANCES: dict[str, Any] = {
    "reference_max_ulps": MAX_ULPS,
    "seeded_rtol": SEEDED_RTOL,
    "seeded_hash_digits": HASH_DIGITS,
    "note": (
        "reference: |f - f_baseline| <= reference_max_ulps ulps of max(|f|, sum|terms|/100, "
        "1e-3); libm and SIMD kernels differ by a few ulps across machines. seeded: points "
        "within seeded_rtol of the box width, values within seeded_rtol of max(|y|, 1); "
        "another BLAS sums in another order (~1e-15), which GP fits and L-BFGS ascents "
        "amplify to at most their own stopping tolerances (~1e-8..1e-6). The trajectory "
        "sha256 is of values rounded to seeded_hash_digits significant digits."
    ),
}


def check_kinds(kinds: Any, owner: str) -> tuple[str, ...]:
    """``kinds`` as a tuple of :data:`KINDS` members, or a ValueError naming it."""
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        kinds = [kinds]
    out = tuple(kinds)
    bad = [k for k in out if k not in KINDS]
    if bad or not out:
        raise ValueError(
            f"The 'kinds' parameter of {owner} must be a non-empty list of "
            f"{', '.join(map(repr, KINDS))}. Got {list(out)!r}."
        )
    return out


def _check_only(only: Any, owner: str) -> set[str] | None:
    if only is None:
        return None
    items = [only] if isinstance(only, str) else list(only)
    if not items or not all(isinstance(s, str) and s for s in items):
        raise ValueError(
            f"The 'only' parameter of {owner} must be None or a non-empty list of study "
            f"names. Got {only!r}."
        )
    return set(items)


def _study_rows(
    baseline: Baseline, directory: Path, alpha: float, only: set[str] | None
) -> list[dict[str, Any]]:
    """Every study group: untestable rows, then the tested ones (one Holm family).

    Each study in the baseline or in ``directory`` is paired with the baseline of its own
    specification (study hash) only."""
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    rows: list[dict[str, Any]] = []
    for name in sorted(set(baseline.study_names) | set(study_names(directory))):
        if only is not None and name not in only:
            continue
        p, r = pair_with_baseline(name, baseline.study_specs(name), directory)
        pairs.update(p)
        rows.extend(r)
    return compare_groups(pairs, alpha) + rows


def check_results(
    baseline: str | os.PathLike[str] = DEFAULT_BASELINE,
    studies: str | os.PathLike[str] = DEFAULT_STUDIES,
    *,
    alpha: float = 0.01,
    kinds: Iterable[str] = KINDS,
    only: Iterable[str] | None = None,
) -> RegressReport:
    """Compare today's results with a stored baseline.

    Parameters
    ----------
    baseline : str or path-like, default ``"data/baselines/results.json"``
        The baseline file (see :func:`update_baseline`).
    studies : str or path-like, default ``"data/studies"``
        Directory of ``ardlib study run`` outputs (``<name>.parquet`` and
        ``<name>.json``) compared with the baseline's studies.
    alpha : float, default 0.01
        Family-wise error rate over every compared study group, in ``(0, 1)``.
    kinds : iterable of {"reference", "seeded", "study"}, default all
        What to check; the seeded campaigns take about a second.  A kind the baseline
        did not record is skipped.
    only : iterable of str, optional
        Check only these studies (of the baseline or of ``studies``; the others are not
        reported).

    Returns
    -------
    RegressReport
        ``passed`` is False when any row is ``regressed``, ``missing`` or
        ``incomparable``.  A study whose specification (study hash) has no recorded
        baseline is one ``no baseline`` row, neither a pass nor a failure.

    Raises
    ------
    BaselineError
        If the baseline file is missing or corrupt.
    ValueError
        If ``alpha``, ``kinds`` or ``only`` is invalid.
    """
    owner = "check_results"
    level = check_real(
        alpha, "alpha", owner=owner, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    wanted = check_kinds(kinds, owner)
    names = _check_only(only, owner)
    base = load_baseline(baseline)
    known = set(base.study_names) | set(study_names(Path(studies)))
    if names is not None and names - known:
        raise ValueError(
            f"The 'only' parameter of {owner} names studies neither the baseline nor "
            f"{studies} holds: {sorted(names - known)}; known: {sorted(known)}."
        )
    tol = {**DEFAULT_TOLERANCES, **base.tolerances}
    rows: list[dict[str, Any]] = []
    if "reference" in wanted and base.reference:  # an empty section: nothing recorded
        rows += compare_reference(base.reference, max_ulps=float(tol["reference_max_ulps"]))
    if "seeded" in wanted:
        rows += compare_seeded(base.seeded, tol)
    if "study" in wanted:
        rows += _study_rows(base, Path(studies), level, names)
    table = make_table(rows)
    passed = not table["verdict"].isin(FAILING).any()
    return RegressReport(table, bool(passed), level, Path(baseline), Path(studies))
