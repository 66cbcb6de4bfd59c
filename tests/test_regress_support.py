"""Helpers for the ardlib.regress tests: synthetic study outputs and a CLI runner."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ardlib._io import sha256_file, sha256_json
from ardlib.regress._cli import add_regress_parser, run_regress_command
from ardlib.study import StudyRecord

Group = tuple[str, str, str]


def study_frame(groups: Mapping[Group, Sequence[float]], budget: int = 10) -> pd.DataFrame:
    """Tidy results with two steps per run (0 and budget - 1); regret_rec at the last
    step is the given value, at step 0 ten times larger (so the final step must be used)."""
    rows = []
    for (problem, noise, planner), values in groups.items():
        for rep, v in enumerate(values):
            for step in (0, budget - 1):
                value = v if step == budget - 1 else 10 * v + 1
                rows.append((problem, noise, planner, rep, 1000 + rep, step, value))
    cols = ["problem", "noise", "planner", "replicate", "cell_seed", "step", "regret_rec"]
    return pd.DataFrame(rows, columns=cols)


def write_study(
    directory: Path,
    name: str,
    groups: Mapping[Group, Sequence[float]],
    *,
    budget: int = 10,
    planner_params: Mapping[str, Any] | None = None,
    study_hash: str | None = None,
) -> Path:
    """Write ``<name>.parquet`` and ``<name>.json`` as ``ardlib study run`` does; the study
    hash is the spec's digest unless given (as a real study's, it moves with the spec)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.parquet"
    study_frame(groups, budget).to_parquet(path)
    problems = sorted({g[0] for g in groups})
    noises = sorted({g[1] for g in groups})
    planners = sorted({g[2] for g in groups})
    spec = {
        "budget": budget,
        "replicates": max(len(v) for v in groups.values()),
        "batch_size": 1,
        "problems": [{"name": p, "kwargs": {}, "factory": None} for p in problems],
        "noises": [{"label": n, "model": None} for n in noises],
        "planners": [
            {"name": p, "cls": "ardlib.planners.RandomSearch", "params": dict(planner_params or {})}
            for p in planners
        ],
    }
    digest = sha256_file(path)
    StudyRecord(
        study=name, study_hash=study_hash or sha256_json(spec), digest=digest, spec=spec
    ).save(path.with_suffix(".json"))
    return path


def run_cli(argv: list[str]) -> int:
    """Parse ``argv`` with a parser carrying only the regress subcommand, and run it."""
    ap = argparse.ArgumentParser(prog="ardlib")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_regress_parser(sub)
    return run_regress_command(ap.parse_args(argv))
