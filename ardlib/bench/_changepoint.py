"""Find the revisions where a benchmark's timing changed level (binary segmentation)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._validation import check_int, check_real
from ..stats._checks import check_sample

__all__ = ["ChangePoint", "detect_change_points"]

_OWNER = "detect_change_points"
#: Seed of the permutation test; each segment gets its own stream, derived from this seed
#: and the segment's bounds, so a segment's p-value depends on nothing else.
_SEED = 0
#: Most permutations drawn per segment: the smallest raw p-value is 1 / (9999 + 1).
_N_PERMUTATIONS = 9999
#: Besag-Clifford stopping rule: stop drawing once this many permuted statistics reach the
#: observed one (the p-value is then ``100 / l`` after ``l`` draws, within ~10 %).
_STOP_EXCEEDANCES = 100
#: Largest permutation batch, in array entries (512 kB of float64: stays in cache).
_BATCH_ENTRIES = 2**16


@dataclass(frozen=True)
class ChangePoint:
    """A change of level in a history, as found by :func:`detect_change_points`.

    Attributes
    ----------
    index : int
        Position of the first value of the new regime, ``0 < index < len(values)``.
    direction : str
        ``"increase"`` if ``after > before`` (for timings: slower), else ``"decrease"``.
    before : float
        Median of the segment that ends at ``index``, from the previous boundary of the
        segmentation (or the start).
    after : float
        Median of the segment that starts at ``index``, up to the next boundary (or the
        end).
    ratio : float
        ``after / before``; ``inf`` (signed like ``after``) if ``before == 0``.
    p_value : float
        Bonferroni-adjusted p-value of the split: the permutation p-value of the largest
        standardized Mann-Whitney rank-sum statistic over the splits of the segment it
        was found in, times the number of segments tested alongside it (see
        :func:`detect_change_points`). At least ``1e-4`` times that number.
    """

    index: int
    direction: str
    before: float
    after: float
    ratio: float
    p_value: float


@dataclass(frozen=True)
class _Test:
    p_value: float  # raw (unadjusted) permutation p-value of the segment's max |z_k|
    z: float  # the observed max |z_k|, to break ties between p-values


def detect_change_points(
    values: ArrayLike,
    *,
    alpha: float = 0.01,
    min_size: int = 3,
    min_relative_change: float = 0.05,
    max_changes: int | None = None,
) -> list[ChangePoint]:
    """Find the positions where a history of timings shifts to a new level.

    A benchmark history holds one timing per revision (typically the median of many
    samples). Binary segmentation [Vostrikova1981]_ splits it into segments of constant
    level: a segment whose values are not exchangeable by a rank scan test is split in
    two, then both sides are searched again. Boundaries across which the median moves by
    at least ``min_relative_change`` are reported.

    Parameters
    ----------
    values : array-like of shape (n,)
        Finite values in revision order; they need not be positive.
    alpha : float, default=0.01
        Significance level of a split, in ``(0, 1)``. On a history without any change,
        the probability of reporting one is at most ``alpha``.
    min_size : int, default=3
        Fewest values on each side of a split, ``>= 1``. A history shorter than
        ``2 * min_size`` has no admissible split and gives ``[]``.
    min_relative_change : float, default=0.05
        Smallest ``|after / before - 1|`` reported, ``>= 0``. Significant but smaller
        shifts still separate segments, but are not returned.
    max_changes : int or None, default=None
        Stop once this many change points are found (``>= 0``); ``None`` for no limit.

    Returns
    -------
    list of ChangePoint
        Sorted by ``index``; empty if nothing changed significantly.

    Raises
    ------
    ValueError
        If ``values`` is not a 1-D array of finite numbers, or an option is out of range.

    Notes
    -----
    *Test.* For a segment of ``m`` values with midranks ``r``, the rank sum ``W_k`` of
    the first ``k`` values is standardized by its permutation mean ``k (m + 1) / 2`` and
    its tie-corrected variance into ``z_k``, ``min_size <= k <= m - min_size``: the
    Mann-Whitney statistic of the split at ``k``. The segment's statistic is
    ``max_k |z_k|``. Standardizing puts a short new regime at the end of the history
    (what a CI gate must see) on the same footing as a change in the middle, which the
    raw statistic of Pettitt's test [Pettitt1979]_ favours. Its p-value comes from
    random permutations of the segment, which accounts exactly for the scan over ``k``,
    for ties and for short segments. Permutations follow Besag and Clifford's sequential
    rule [Besag1991]_: at most 9999, stopping once 100 of them reach the observed value,
    so a segment without a change costs a few hundred. The generator is seeded from a
    fixed seed and the segment's bounds: the function is deterministic. Only ranks enter
    the test, so p-values do not change under any increasing transform of ``values``.

    *Several segments.* The search is greedy: at each step every segment with at least
    ``2 * min_size`` values is tested, and the segment with the smallest p-value is
    split if that p-value times the number ``L`` of segments tested is below ``alpha``
    (Bonferroni over the current family); this product is :attr:`ChangePoint.p_value`.
    Without any change only one segment is ever tested, at level ``alpha``. The raw
    p-value cannot be below ``1e-4``, so at ``alpha = 0.01`` at most 100 segments can be
    split.

    *Location.* The test says that a segment changed, the position comes from the values:
    the split that minimizes the sum of absolute deviations of both sides from their
    medians (least absolute deviations, robust to outlying timings). The rank statistic
    would place a change near either end too close to the middle, because ``|z_k|`` grows
    with the balance of the split. After each split, every boundary is moved to the best
    split between its two neighbours, which corrects boundaries placed while a segment
    still held several changes. Positions do not change when ``values`` are scaled or
    shifted.

    *Reporting.* ``before`` and ``after`` are the medians of the neighbouring segments of
    the final segmentation; a boundary is returned when they differ by at least
    ``min_relative_change`` (one across which the median does not move never is). Small
    significant shifts are kept as boundaries so they cannot hide a large one in the same
    segment. With ``max_changes``, the search stops as soon as that many boundaries are
    reportable, and the first ones accepted (the most significant) are returned.

    *Limitations.* A slow drift made of steps each below ``min_relative_change`` is not
    reported. An excursion that returns to the previous level (a regression fixed a few
    revisions later) looks to every single split like a mixture of the two levels, so
    its statistic is bounded whatever the size of the excursion, and in short histories
    it is often missed: with 5 % noise, a 30 % excursion over the middle third of 60
    revisions is found in about 4 histories of 5, one of 10 revisions inside 90 in about
    1 of 20. Scanning pairs of splits (circular binary segmentation [Olshen2004]_) would
    see it, but its heavier null distribution costs power for short regimes at either end
    of the history.

    Written by hand: the maintained packages (e.g. ``ruptures``) need a penalty tuned for
    each series and give neither the direction of a change nor a significance level,
    both of which a CI gate needs.

    References
    ----------
    .. [Vostrikova1981] L. J. Vostrikova, "Detecting 'disorder' in multidimensional random
       processes", Soviet Mathematics Doklady 24, 55-59, 1981.
    .. [Pettitt1979] A. N. Pettitt, "A non-parametric approach to the change-point
       problem", Journal of the Royal Statistical Society C 28(2), 126-135, 1979.
    .. [Besag1991] J. Besag and P. Clifford, "Sequential Monte Carlo p-values",
       Biometrika 78(2), 301-304, 1991.
    .. [Olshen2004] A. B. Olshen, E. S. Venkatraman, R. Lucito and M. Wigler, "Circular
       binary segmentation for the analysis of array-based DNA copy number data",
       Biostatistics 5(4), 557-572, 2004.

    Examples
    --------
    >>> history = [1.00, 1.02, 0.99, 1.01, 1.00, 0.98, 1.31, 1.29, 1.30, 1.32, 1.28, 1.30]
    >>> [(c.index, c.direction, round(c.ratio, 2)) for c in detect_change_points(history)]
    [(6, 'increase', 1.3)]
    """
    x = check_sample(values, "values", _OWNER, min_n=0, want="a 1-D array of finite numbers")
    check_real(
        alpha, "alpha", owner=_OWNER, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    min_size = check_int(min_size, "min_size", owner=_OWNER, low=1)
    min_relative_change = check_real(
        min_relative_change, "min_relative_change", owner=_OWNER, low=0
    )
    if max_changes is not None:
        max_changes = check_int(max_changes, "max_changes", owner=_OWNER, low=0)
    limit = x.size if max_changes is None else max_changes

    cuts: list[int] = []  # accepted boundaries, in the order they were accepted
    adjusted: list[float] = []  # their Bonferroni-adjusted p-values
    tested: dict[tuple[int, int], _Test] = {}
    found: list[ChangePoint] = []
    while len(found) < limit:
        bounds = [0, *sorted(cuts), x.size]
        family = [(a, b) for a, b in pairwise(bounds) if b - a >= 2 * min_size]
        if not family:
            break
        for a, b in family:
            if (a, b) not in tested:
                tested[a, b] = _scan_test(x[a:b], a, b, min_size)
        start, stop = min(family, key=lambda s: (tested[s].p_value, -tested[s].z))
        p_value = min(1.0, len(family) * tested[start, stop].p_value)
        if p_value >= alpha:
            break
        cuts.append(start + _locate(x[start:stop], min_size))
        adjusted.append(p_value)
        _refine(x, cuts, min_size)
        found = _report(x, cuts, adjusted, min_relative_change)
    return sorted(found[:limit], key=lambda c: c.index)


def _locate(y: NDArray[np.float64], min_size: int) -> int:
    """The split of ``y`` that least deviates, in absolute value, from the sides' medians."""
    m = y.size
    cost = _prefix_deviations(y) + _prefix_deviations(y[::-1])[::-1]
    return min_size + int(np.argmin(cost[min_size : m - min_size + 1]))


def _prefix_deviations(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """``out[k] = sum(|y[:k] - median(y[:k])|)`` for ``k = 0..len(y)``, by two heaps."""
    lower: list[float] = []  # the smaller half, negated (a max-heap); holds the odd one
    upper: list[float] = []  # the larger half
    sum_lower = sum_upper = 0.0
    out = np.zeros(y.size + 1)
    for k, v in enumerate(y.tolist(), start=1):
        if lower and v > -lower[0]:
            heapq.heappush(upper, v)
            sum_upper += v
        else:
            heapq.heappush(lower, -v)
            sum_lower += v
        if len(lower) > len(upper) + 1:
            w = -heapq.heappop(lower)
            heapq.heappush(upper, w)
            sum_lower, sum_upper = sum_lower - w, sum_upper + w
        elif len(upper) > len(lower):
            w = heapq.heappop(upper)
            heapq.heappush(lower, -w)
            sum_lower, sum_upper = sum_lower + w, sum_upper - w
        # sorted y[:k]: the upper half lies above the median, the lower half below it
        out[k] = sum_upper - sum_lower - (lower[0] if k % 2 else 0.0)
    return out


def _refine(x: NDArray[np.float64], cuts: list[int], min_size: int) -> None:
    """Move each boundary, left to right, to the best single split between its neighbours."""
    order = sorted(range(len(cuts)), key=cuts.__getitem__)
    for i, j in enumerate(order):
        lo = cuts[order[i - 1]] if i > 0 else 0
        hi = cuts[order[i + 1]] if i + 1 < len(order) else x.size
        cuts[j] = lo + _locate(x[lo:hi], min_size)


def _scan_test(segment: NDArray[np.float64], start: int, stop: int, min_size: int) -> _Test:
    """Permutation test of the segment's largest standardized rank sum ``max_k |z_k|``."""
    m = segment.size
    if np.ptp(segment) == 0:  # constant: every z_k is 0
        return _Test(p_value=1.0, z=0.0)
    ranks = stats.rankdata(segment)
    _, counts = np.unique(segment, return_counts=True)
    tie_term = float(np.sum(counts**3 - counts)) / (m * (m - 1))
    k = np.arange(min_size, m - min_size + 1)
    center = k * (m + 1) / 2.0
    scale = np.sqrt(k * (m - k) / 12.0 * (m + 1 - tie_term))

    def max_abs_z(orders: NDArray[np.float64]) -> NDArray[np.float64]:
        # max_k |z_k| of each row of ranks, shape (b, m); overwrites ``orders``
        np.cumsum(orders, axis=1, out=orders)
        z = orders[:, min_size - 1 : m - min_size]  # W_k, the rank sum of the first k
        z -= center
        np.abs(z, out=z)
        z /= scale
        return z.max(axis=1)

    observed = float(max_abs_z(ranks[None, :].copy())[0])
    rng = np.random.default_rng((_SEED, start, stop))
    p_value = _sequential_p_value(
        lambda b: max_abs_z(rng.permuted(np.broadcast_to(ranks, (b, m)), axis=1)),
        observed,
        batch_cap=max(1, _BATCH_ENTRIES // m),
    )
    return _Test(p_value=p_value, z=observed)


def _sequential_p_value(
    draw: Callable[[int], NDArray[np.float64]], observed: float, *, batch_cap: int
) -> float:
    """Besag-Clifford p-value of ``observed`` against the statistics ``draw(b)`` returns."""
    # Permuted statistics equal to the observed one in exact arithmetic may differ from it
    # in the last bits.
    threshold = observed * (1 - 1e-12)
    drawn = exceed = 0
    batch = 256
    while drawn < _N_PERMUTATIONS:
        batch = min(batch, batch_cap, _N_PERMUTATIONS - drawn)
        hits = np.flatnonzero(draw(batch) >= threshold)
        if exceed + hits.size >= _STOP_EXCEEDANCES:
            # stop at the draw that brings the last exceedance needed: p = h / l
            last = int(hits[_STOP_EXCEEDANCES - exceed - 1]) + 1
            return _STOP_EXCEEDANCES / (drawn + last)
        exceed += hits.size
        drawn += batch
        batch *= 2
    return (exceed + 1) / (drawn + 1)


def _report(
    x: NDArray[np.float64], cuts: list[int], p_values: list[float], threshold: float
) -> list[ChangePoint]:
    """Change points of the segmentation at ``cuts``, in the order of ``cuts``."""
    bounds = [0, *sorted(cuts), x.size]
    median = {a: float(np.median(x[a:b])) for a, b in pairwise(bounds)}  # by segment start
    previous = {b: a for a, b in pairwise(bounds)}  # boundary -> previous boundary
    found = []
    for index, p_value in zip(cuts, p_values, strict=True):
        before, after = median[previous[index]], median[index]
        if after == before:
            continue
        ratio = after / before if before != 0 else math.copysign(math.inf, after)
        if abs(ratio - 1) < threshold:
            continue
        direction = "increase" if after > before else "decrease"
        found.append(ChangePoint(index, direction, before, after, ratio, p_value))
    return found
