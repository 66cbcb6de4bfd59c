"""Change points over the stored runs: where, in commit order, did a benchmark move?"""

from __future__ import annotations

import pandas as pd

from ._changepoint import detect_change_points

__all__ = ["history_changes"]


def history_changes(
    runs: pd.DataFrame,
    *,
    alpha: float = 0.01,
    min_size: int = 3,
    min_relative_change: float = 0.10,
) -> pd.DataFrame:
    """Change points of every benchmark's median over revisions.

    Parameters
    ----------
    runs : DataFrame
        :func:`~ardlib.bench.load_runs` output (commit order).
    alpha, min_size, min_relative_change
        See :func:`~ardlib.bench.detect_change_points`; by default a change must be at
        least 10%, as in ``ardlib bench compare``.

    Returns
    -------
    DataFrame
        ``benchmark``, ``revision`` (the first revision of the new level), ``position``,
        ``direction`` ("increase" is slower), ``before_ms``, ``after_ms``, ``ratio``,
        ``p_value``.
    """
    missing = {"benchmark", "revision", "median"} - set(runs.columns)
    if missing:
        raise ValueError(
            f"The 'runs' parameter of history_changes lacks column(s) {sorted(missing)}; "
            "pass load_runs() output."
        )
    rows = []
    for name, g in runs.groupby("benchmark", sort=True):
        revisions = g["revision"].tolist()
        found = detect_change_points(
            g["median"].to_numpy(dtype=float),
            alpha=alpha,
            min_size=min_size,
            min_relative_change=min_relative_change,
        )
        for cp in found:
            rows.append(
                {
                    "benchmark": name,
                    "revision": revisions[cp.index],
                    "position": cp.index,
                    "direction": cp.direction,
                    "before_ms": 1e3 * cp.before,
                    "after_ms": 1e3 * cp.after,
                    "ratio": cp.ratio,
                    "p_value": cp.p_value,
                }
            )
    columns = [
        "benchmark", "revision", "position", "direction", "before_ms", "after_ms", "ratio",
        "p_value",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
