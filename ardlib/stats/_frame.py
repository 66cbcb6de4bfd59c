"""Check study-result tables and select one evaluation step per run.

A results table is tidy: one row per (problem, noise, planner, replicate, step). A *run*
is one (problem, noise, planner, replicate); a *cell* of a comparison is one
(problem, noise). Every check here raises a ``ValueError`` that lists what is wrong
(at most ``_SHOW`` items) instead of dropping or altering data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CELL_KEYS",
    "RUN_KEYS",
    "check_paired",
    "check_results",
    "listing",
    "select_step",
]

CELL_KEYS = ("problem", "noise")
RUN_KEYS = ("problem", "noise", "planner", "replicate")
_SHOW = 10


def listing(rows: Iterable[Any]) -> str:
    """Return the first few items of ``rows`` as text, with a count of the rest."""
    items = list(rows)
    text = ", ".join(str(tuple(r)) if isinstance(r, tuple) else str(r) for r in items[:_SHOW])
    more = f" and {len(items) - _SHOW} more" if len(items) > _SHOW else ""
    return f"{text}{more}"


def check_results(results: Any, owner: str, metric: str) -> pd.DataFrame:
    """Return the run keys, ``step`` and ``metric`` columns of a valid results table."""
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"The 'results' parameter of {owner} must be a pandas DataFrame (a tidy study "
            f"table). Got {type(results).__name__}."
        )
    if not isinstance(metric, str):
        raise ValueError(
            f"The 'metric' parameter of {owner} must be a column name. Got {metric!r}."
        )
    want = [*RUN_KEYS, "step", metric]
    missing = [c for c in want if c not in results.columns]
    if missing:
        raise ValueError(
            f"The 'results' parameter of {owner} must have the columns {want}; "
            f"{missing} are missing. Got columns {list(results.columns)}."
        )
    df = results.loc[:, want].reset_index(drop=True)
    for col in ("replicate", "step"):
        if not pd.api.types.is_integer_dtype(df[col]):
            raise ValueError(
                f"The '{col}' column of 'results' in {owner} must hold integers. "
                f"Got dtype {df[col].dtype}."
            )
    if not pd.api.types.is_numeric_dtype(df[metric]) or pd.api.types.is_bool_dtype(df[metric]):
        raise ValueError(
            f"The '{metric}' column of 'results' in {owner} must be numeric. "
            f"Got dtype {df[metric].dtype}."
        )
    null = df[list(RUN_KEYS)].isna().any(axis=1)
    if null.any():
        raise ValueError(
            f"The 'results' parameter of {owner} has missing problem/noise/planner/replicate "
            f"labels in rows {listing(np.flatnonzero(null))}."
        )
    if (df["step"] < 0).any():
        raise ValueError(f"The 'step' column of 'results' in {owner} must be >= 0 (0-based).")
    dup = df.duplicated([*RUN_KEYS, "step"], keep=False)
    if dup.any():
        keys = df.loc[dup, [*RUN_KEYS, "step"]].drop_duplicates().itertuples(index=False)
        raise ValueError(
            f"The 'results' parameter of {owner} must have one row per (problem, noise, "
            f"planner, replicate, step); duplicated: {listing(tuple(k) for k in keys)}."
        )
    return df


def select_step(df: pd.DataFrame, step: int | None, metric: str, owner: str) -> pd.DataFrame:
    """Return one row per run at ``step`` (the final step of each run when ``None``).

    With ``step=None`` every run of a cell must end at the same step (same budget), since
    comparing final values across budgets would favour the longer run.
    """
    if step is None:
        last = df.groupby(list(RUN_KEYS), sort=False)["step"].transform("max")
        out = df[df["step"] == last]
        budget = out.groupby(list(CELL_KEYS))["step"].transform("max")
        short = out[out["step"] != budget]
        if len(short):
            rows = (
                (*r[:4], f"final step {r[4]} < {b}")
                for r, b in zip(
                    short[[*RUN_KEYS, "step"]].itertuples(index=False),
                    budget[short.index],
                    strict=True,
                )
            )
            raise ValueError(
                f"The runs of a (problem, noise) cell must share one final step for {owner} "
                f"with step=None (same budget); these runs end early: {listing(rows)}. "
                "Pass 'step' to compare at a common step."
            )
    else:
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
            raise ValueError(
                f"The 'step' parameter of {owner} must be None or an int >= 0. Got {step!r}."
            )
        out = df[df["step"] == step]
        runs = df[list(RUN_KEYS)].drop_duplicates()
        have = pd.MultiIndex.from_frame(out[list(RUN_KEYS)])
        lacking = runs[~pd.MultiIndex.from_frame(runs).isin(have)]
        if len(lacking):
            raise ValueError(
                f"The 'step' parameter of {owner} is {step}, but these runs have no row at "
                f"that step: {listing(tuple(r) for r in lacking.itertuples(index=False))}."
            )
    nan = out.loc[out[metric].isna(), list(RUN_KEYS)]
    if len(nan):
        runs_nan = (tuple(r) for r in nan.itertuples(index=False))
        raise ValueError(
            f"The '{metric}' column of 'results' in {owner} must be finite at the compared "
            f"step; NaN in runs {listing(runs_nan)}."
        )
    return out.sort_values(list(RUN_KEYS)).reset_index(drop=True)


def check_paired(final: pd.DataFrame, owner: str, required: Sequence[str] = ()) -> None:
    """Raise unless, in every cell, every planner has the same replicates.

    ``required`` planners (e.g. a baseline) must also appear in every cell.
    """
    missing: list[tuple[Any, ...]] = []
    for (problem, noise), cell in final.groupby(list(CELL_KEYS), sort=True):
        planners = sorted(set(cell["planner"]) | set(required))
        replicates = sorted(set(cell["replicate"]))
        have = set(zip(cell["planner"], cell["replicate"], strict=True))
        missing.extend(
            (problem, noise, p, r) for p in planners for r in replicates if (p, r) not in have
        )
    if missing:
        raise ValueError(
            f"The 'results' parameter of {owner} must hold paired replicates: every planner "
            f"of a (problem, noise) cell on the same replicates. Missing (problem, noise, "
            f"planner, replicate): {listing(missing)}."
        )
