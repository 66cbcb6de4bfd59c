"""Profile registered benchmarks and keep, per revision, flame graphs and top frames."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._registry import get_benchmark

__all__ = ["profile_benchmarks"]


def profile_benchmarks(
    names: Sequence[str], directory: str | os.PathLike[str], *, seconds: float = 1.0
) -> pd.DataFrame:
    """Profile each benchmark for about ``seconds`` of calls and save its interactive
    flame graph (``<name>.html``), speedscope JSON and top self-time frames (CSV) in
    ``directory``.

    Parameters
    ----------
    names : sequence of str
        Registered benchmarks.
    directory : str or path-like
        Where the files go.
    seconds : float, default 1.0
        Profiling time per benchmark.

    Returns
    -------
    DataFrame
        One row per benchmark: ``benchmark``, ``calls``, ``seconds``, ``top_function``,
        ``top_self_share``, ``html``, ``frames``.
    """
    from ._profile import profile_call, save_profile

    if seconds <= 0:
        raise ValueError(
            f"The 'seconds' parameter of profile_benchmarks must be > 0. Got {seconds}."
        )
    out = Path(directory)
    rows = []
    for name in names:
        with get_benchmark(name).setup() as fn:
            fn()  # warm-up outside the profile
            result = profile_call(fn, name=name, min_seconds=seconds)
        paths = save_profile(result, out)
        top = result.top_frames.iloc[0] if len(result.top_frames) else None
        rows.append(
            {
                "benchmark": name,
                "calls": result.calls,
                "seconds": result.seconds,
                "top_function": None if top is None else f"{top['function']} ({top['file']})",
                "top_self_share": None if top is None else float(top["self_share"]),
                "html": str(paths["html"]),
                "frames": str(paths["frames"]),
            }
        )
    return pd.DataFrame(rows)
