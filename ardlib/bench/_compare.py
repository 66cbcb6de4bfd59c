"""Is HEAD slower than BASE?  Ratios with intervals and a two-condition verdict.

A benchmark regresses only when the difference is both statistically significant
(two-sided Mann-Whitney U, p < ``alpha``, default 0.002 as asv uses) and large
(HEAD/BASE median ratio above ``1 + threshold``, default 10%).  The interval is a
percentile bootstrap of the ratio of medians (``scipy.stats.bootstrap``, seeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

__all__ = ["Change", "compare_samples"]

VERDICTS = ("slower", "faster", "same")


@dataclass(frozen=True)
class Change:
    """The comparison of one benchmark's samples.

    Attributes
    ----------
    base_median, head_median : float
        Seconds per call.
    ratio : float
        ``head_median / base_median`` (above 1: HEAD is slower).
    ci_low, ci_high : float
        Bootstrap interval of the ratio at ``confidence``.
    p_value : float
        Two-sided Mann-Whitney U.
    verdict : str
        ``"slower"`` (a regression), ``"faster"`` or ``"same"``.
    n_base, n_head : int
        Samples on each side.
    """

    base_median: float
    head_median: float
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: str
    n_base: int
    n_head: int

    def to_dict(self) -> dict[str, float | int | str]:
        """The fields as a plain dictionary (JSON-ready).

        Returns
        -------
        dict
        """
        return asdict(self)


def _check(name: str, values: Sequence[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(
            f"The '{name}' parameter of compare_samples must hold at least 2 finite, "
            f"positive timings. Got {a.size} value(s): {a[:5].tolist()}..."
        )
    return a


def compare_samples(
    base: Sequence[float],
    head: Sequence[float],
    *,
    alpha: float = 0.002,
    threshold: float = 0.10,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    rng: int | np.random.Generator = 0,
) -> Change:
    """Compare timing samples of one benchmark on two revisions.

    Parameters
    ----------
    base, head : sequence of float
        Seconds per call, at least 2 each (at least 7 each for p to be able to reach 0.002).
    alpha : float, default 0.002
        Significance level of the Mann-Whitney test.
    threshold : float, default 0.10
        Smallest relative change that counts: slower when the ratio exceeds
        ``1 + threshold``, faster when it is below ``1 / (1 + threshold)``.
    confidence : float, default 0.95
        Level of the ratio's bootstrap interval.
    n_resamples : int, default 2000
    rng : int or Generator, default 0
        Seeds the bootstrap, so the same samples always give the same interval.

    Returns
    -------
    Change
    """
    b, h = _check("base", base), _check("head", head)
    if not 0 < alpha < 1:
        raise ValueError(
            f"The 'alpha' parameter of compare_samples must be in (0, 1). Got {alpha}."
        )
    if threshold < 0:
        raise ValueError(
            f"The 'threshold' parameter of compare_samples must be >= 0. Got {threshold}."
        )
    if not 0 < confidence < 1:
        raise ValueError(
            f"The 'confidence' parameter of compare_samples must be in (0, 1). Got {confidence}."
        )
    ratio = float(np.median(h) / np.median(b))
    p = float(stats.mannwhitneyu(h, b, alternative="two-sided").pvalue)

    def median_ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.median(y, axis=axis) / np.median(x, axis=axis))

    ci = stats.bootstrap(
        (b, h),
        median_ratio,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(rng) if isinstance(rng, int) else rng,
    ).confidence_interval
    if p < alpha and ratio > 1 + threshold:
        verdict = "slower"
    elif p < alpha and ratio < 1 / (1 + threshold):
        verdict = "faster"
    else:
        verdict = "same"
    return Change(
        base_median=float(np.median(b)),
        head_median=float(np.median(h)),
        ratio=ratio,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=p,
        verdict=verdict,
        n_base=int(b.size),
        n_head=int(h.size),
    )
