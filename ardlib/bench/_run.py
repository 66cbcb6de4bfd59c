"""``ardlib bench run``: measure the benchmarks in this process and keep the result per
revision as JSON (``data/benchmarks/runs/<commit>.json``, versioned with the code), with
the machine it ran on."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import git, machine_info
from ._registry import get_benchmark
from ._session import BenchSession

__all__ = ["BenchRun", "load_runs", "machine_info", "run_benchmarks", "save_run"]

SCHEMA = 1


@dataclass
class BenchRun:
    """Timings of one revision.

    Attributes
    ----------
    revision : str or None
        The commit measured (None outside a git checkout).
    dirty : bool
        Whether the working tree had uncommitted changes to tracked files.
    time : str
        ISO 8601, UTC.
    machine : dict
        :func:`machine_info`.
    settings : dict
    results : dict
        Benchmark -> ``{"group", "number", "samples" (seconds per call), "median", "iqr",
        "error"}``.
    """

    revision: str | None
    dirty: bool
    time: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    results: dict[str, dict[str, Any]]

    @property
    def table(self) -> pd.DataFrame:
        """One row per benchmark: group, calls per sample, samples, median and IQR (ms)."""
        rows = [
            {
                "benchmark": name,
                "group": r["group"],
                "number": r.get("number"),
                "samples": len(r.get("samples", [])),
                "median_ms": 1e3 * r["median"] if r.get("median") is not None else np.nan,
                "iqr_ms": 1e3 * r["iqr"] if r.get("iqr") is not None else np.nan,
                "error": r.get("error", ""),
            }
            for name, r in self.results.items()
        ]
        return pd.DataFrame(rows)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary.

        Returns
        -------
        dict
        """
        return {
            "schema": SCHEMA,
            "revision": self.revision,
            "dirty": self.dirty,
            "time": self.time,
            "machine": self.machine,
            "settings": self.settings,
            "results": self.results,
        }


def run_benchmarks(
    names: Sequence[str],
    *,
    rounds: int = 5,
    repeat: int = 3,
    min_time: float = 0.02,
    repo: str | os.PathLike[str] = ".",
    progress: Callable[[str], None] | None = None,
) -> BenchRun:
    """Measure ``names`` in this process: set all up, calibrate, warm up, then ``rounds``
    interleaved rounds of ``repeat`` samples each.

    A benchmark whose setup or call raises is recorded with its error, not dropped.

    Parameters
    ----------
    names : sequence of str
        Registered benchmarks.
    rounds : int, default 5
        Interleaved rounds.
    repeat : int, default 3
        Samples per benchmark and round.
    min_time : float, default 0.02
        Seconds per sample at least (calls per sample are calibrated).
    repo : str or path-like, default "."
        The checkout whose revision is recorded.
    progress : callable, optional
        Called with a line of text per benchmark.

    Returns
    -------
    BenchRun
    """
    if rounds < 1 or repeat < 1 or min_time <= 0:
        raise ValueError(
            "run_benchmarks needs rounds >= 1, repeat >= 1 and min_time > 0. "
            f"Got rounds={rounds}, repeat={repeat}, min_time={min_time}."
        )
    for name in names:
        get_benchmark(name)  # unknown names fail before any work
    results: dict[str, dict[str, Any]] = {}
    numbers: dict[str, int] = {}
    session = BenchSession()
    try:
        for name in names:
            results[name] = {"group": get_benchmark(name).group, "samples": []}
            try:
                session.setup(name)
                numbers[name] = session.calibrate(name, min_time=min_time)
                results[name]["number"] = numbers[name]
            except Exception as exc:
                results[name]["error"] = f"{type(exc).__name__}: {exc}"
        for k in range(rounds):
            for name in numbers:
                if "error" in results[name]:
                    continue
                try:
                    results[name]["samples"] += session.sample(
                        name, number=numbers[name], repeat=repeat
                    )
                except Exception as exc:
                    results[name]["error"] = f"{type(exc).__name__}: {exc}"
            if progress:
                progress(f"round {k + 1}/{rounds} done")
    finally:
        session.close()
    for r in results.values():
        s = np.asarray(r["samples"], dtype=float)
        r["median"] = float(np.median(s)) if s.size else None
        r["iqr"] = float(np.subtract(*np.percentile(s, [75, 25]))) if s.size else None
    revision = git("rev-parse", "HEAD", cwd=repo)
    status = git("status", "--porcelain", "--untracked-files=no", cwd=repo)
    return BenchRun(
        revision=revision,
        dirty=bool(status),
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine_info(),
        settings={"rounds": rounds, "repeat": repeat, "min_time": min_time},
        results=results,
    )


def save_run(run: BenchRun, directory: str | os.PathLike[str] = "data/benchmarks/runs") -> Path:
    """Write ``run`` to ``<directory>/<commit>.json`` (``worktree.json`` outside git);
    a later run of the same commit replaces it.

    Parameters
    ----------
    run : BenchRun
        The run to keep.
    directory : str or path-like, default "data/benchmarks/runs"
        Folder of stored runs.

    Returns
    -------
    pathlib.Path
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{run.revision or 'worktree'}.json"
    path.write_text(json.dumps(run.to_json(), indent=1, sort_keys=True) + "\n")
    return path


def load_runs(
    directory: str | os.PathLike[str] = "data/benchmarks/runs",
    *,
    repo: str | os.PathLike[str] = ".",
) -> pd.DataFrame:
    """Every stored run as a long table, in commit order.

    Parameters
    ----------
    directory : str or path-like, default "data/benchmarks/runs"
        Folder of stored runs.
    repo : str or path-like, default "."
        The checkout whose history orders the runs.

    Returns
    -------
    DataFrame
        Columns ``revision``, ``order`` (position in ``git rev-list --reverse HEAD``;
        runs of commits not on the current branch come last, by time), ``time``,
        ``dirty``, ``benchmark``, ``group``, ``median``, ``iqr``, ``samples``.
    """
    files = sorted(Path(directory).glob("*.json"))
    history = (git("rev-list", "--reverse", "HEAD", cwd=repo) or "").split()
    position = {c: i for i, c in enumerate(history)}
    rows = []
    for f in files:
        try:
            data = json.loads(f.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{f} is not valid JSON: {exc}") from None
        if data.get("schema") != SCHEMA:
            raise ValueError(f"{f} has schema {data.get('schema')!r}; this ardlib reads {SCHEMA}.")
        for name, r in data["results"].items():
            if r.get("median") is None:
                continue
            rows.append(
                {
                    "revision": data["revision"],
                    "order": position.get(data["revision"], len(history)),
                    "time": data["time"],
                    "dirty": data["dirty"],
                    "benchmark": name,
                    "group": r["group"],
                    "median": r["median"],
                    "iqr": r["iqr"],
                    "samples": r["samples"],
                }
            )
    columns = ["revision", "order", "time", "dirty", "benchmark", "group", "median", "iqr"]
    df = pd.DataFrame(rows, columns=[*columns, "samples"])
    return df.sort_values(["order", "time", "benchmark"], kind="stable").reset_index(drop=True)
