"""Read study outputs (``ardlib study run``) for the baseline, and pair them with it.

``ardlib study run`` writes ``<dir>/<name>.parquet`` (the combined results) and
``<dir>/<name>.json`` (the study spec, hash and digest).  The baseline keeps, per study,
the final metric of every replicate of every (problem, noise, planner) group together
with what determines that group (problem, planner class and settings, noise model,
budget, batch size), so that a group whose settings changed is reported as
``incomparable`` instead of being tested against numbers of another experiment.

A study is compared only with a baseline of the same specification (its study hash:
problems, planners, noises, budget, replicates, seed).  A study whose specification has no
recorded baseline gets one ``no baseline`` row, neither a pass nor a failure
(:func:`pair_with_baseline`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._io import sha256_file
from ..study import ProblemSpec, StudyRecord
from ._baseline import json_float
from ._report import make_row
from ._stochastic import GroupKey, Sample, final_samples

__all__ = ["group_label", "pair_study", "pair_with_baseline", "record_study", "study_names"]

_COLUMNS = ["problem", "noise", "planner", "replicate", "step"]


def study_names(directory: Path) -> list[str]:
    """Names of the studies with a results file ``<name>.parquet`` in ``directory``."""
    return sorted(p.stem for p in directory.glob("*.parquet")) if directory.is_dir() else []


def group_label(study: str, key: GroupKey) -> str:
    """Row name of a study group, e.g. ``"branin: branin/sd0/gpbo"``."""
    return f"{study}: {'/'.join(key)}"


def _group_specs(record: StudyRecord | None) -> dict[GroupKey, dict[str, Any]]:
    """(problem key, noise label, planner name) -> the settings that determine the group."""
    if record is None or not isinstance(record.spec, dict):
        return {}
    spec = record.spec
    problems = {
        ProblemSpec(p["name"], p.get("kwargs") or {}, p.get("factory")).key: p
        for p in spec.get("problems", [])
    }
    return {
        (pk, n["label"], pl["name"]): {
            "problem": pv,
            "noise": n.get("model"),
            "planner": {"cls": pl["cls"], "params": pl.get("params", {})},
            "batch_size": spec.get("batch_size", 1),
        }
        for pk, pv in problems.items()
        for n in spec.get("noises", [])
        for pl in spec.get("planners", [])
    }


def _read(
    directory: Path, name: str, metric: str
) -> tuple[dict[GroupKey, Sample], StudyRecord | None, str]:
    """(samples, record or None, digest) of study ``name``; OSError/ValueError if unreadable."""
    path = directory / f"{name}.parquet"
    results = pd.read_parquet(path, columns=[*_COLUMNS, metric])
    samples = final_samples(results, metric=metric, name=str(path), owner="ardlib.regress")
    record_path = path.with_suffix(".json")
    record = StudyRecord.load(record_path) if record_path.is_file() else None
    return samples, record, sha256_file(path)


def record_study(directory: Path, name: str, metric: str = "regret_rec") -> dict[str, Any]:
    """The baseline entry of study ``name`` in ``directory``.

    Raises
    ------
    FileNotFoundError
        If ``<directory>/<name>.parquet`` does not exist.
    ValueError
        If the results lack a column or are malformed, or a group's metric is NaN in
        every replicate (a problem without a known optimum has no regret).
    """
    samples, record, digest = _read(directory, name, metric)
    specs = _group_specs(record)
    groups = []
    for key, sample in samples.items():
        if np.all(np.isinf(sample.values)):
            raise ValueError(
                f"Study {name!r}, group {'/'.join(key)}: {metric} is NaN in every replicate; "
                "a baseline needs a metric with a known optimum (regret)."
            )
        values = [json_float(v) if np.isfinite(v) else None for v in sample.values]
        groups.append(
            {
                "problem": key[0],
                "noise": key[1],
                "planner": key[2],
                "budget": sample.budget,
                "spec": specs.get(key),
                "values": values,
            }
        )
    return {
        "study": name,
        "file": f"{name}.parquet",
        "digest": digest,
        "study_hash": None if record is None else record.study_hash,
        "metric": metric,
        "groups": groups,
    }


def _stored(values: list[Any]) -> NDArray[np.float64]:
    return np.array([np.inf if v is None else float(v) for v in values], dtype=float)


def pair_study(
    name: str, entry: dict[str, Any], directory: Path
) -> tuple[dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], list[dict[str, Any]]]:
    """Pair the baseline groups of one study with today's results.

    Returns
    -------
    pairs : dict
        Row name -> (baseline values, current values) for the groups to test.
    rows : list of dict
        Verdict rows of the groups that cannot be tested: ``missing``, ``new`` or
        ``incomparable`` (settings changed).
    """
    metric = str(entry["metric"])
    try:
        samples, record, _ = _read(directory, name, metric)
    except (OSError, ValueError) as exc:
        detail = f"cannot read {directory / entry['file']}: {exc}"
        rows = [
            make_row(
                "study",
                group_label(name, (g["problem"], g["noise"], g["planner"])),
                "missing",
                detail,
            )
            for g in entry["groups"]
        ]
        return {}, rows
    specs = _group_specs(record)
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    rows = []
    seen = set()
    for g in entry["groups"]:
        key: GroupKey = (g["problem"], g["noise"], g["planner"])
        seen.add(key)
        label = group_label(name, key)
        now = samples.get(key)
        if now is None:
            rows.append(make_row("study", label, "missing", f"no such group in {entry['file']}"))
        elif g.get("budget") is not None and now.budget != g["budget"]:
            detail = f"budget {g['budget']} in the baseline, {now.budget} now"
            rows.append(make_row("study", label, "incomparable", detail))
        elif g.get("spec") is not None and key in specs and specs[key] != g["spec"]:
            changed = sorted(k for k in specs[key] if specs[key][k] != g["spec"].get(k))
            detail = f"{', '.join(changed)} changed since the baseline"
            rows.append(make_row("study", label, "incomparable", detail))
        else:
            pairs[label] = (_stored(g["values"]), now.values)
    for key in sorted(set(samples) - seen):
        rows.append(make_row("study", group_label(name, key), "new", "not in the baseline"))
    return pairs, rows


def _size(entry: dict[str, Any]) -> str:
    """``budget B, R replicates`` of a recorded entry (from its first group)."""
    g = entry["groups"][0]
    return f"budget {g.get('budget')}, {len(g['values'])} replicates"


def _current_record(directory: Path, name: str) -> StudyRecord | None:
    path = directory / f"{name}.json"
    try:
        return StudyRecord.load(path) if path.is_file() else None
    except (OSError, ValueError):
        return None  # pair_study reads the results and names what is wrong


def pair_with_baseline(
    name: str, specs: dict[str | None, dict[str, Any]], directory: Path
) -> tuple[dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], list[dict[str, Any]]]:
    """Pair study ``name`` in ``directory`` with the baseline of its own specification.

    Parameters
    ----------
    name : str
        The study (``<name>.parquet`` and ``<name>.json`` in ``directory``).
    specs : dict
        :meth:`Baseline.study_specs` of ``name`` (study hash -> entry); may be empty.
    directory : Path
        Where the study's results are.

    Returns
    -------
    pairs, rows
        As :func:`pair_study` for the matching entry.  Without one: no pairs and a single
        ``no baseline`` row saying which specifications the baseline holds and how to
        record this one.  A study without results gets :func:`pair_study`'s ``missing``
        rows for every recorded specification.
    """
    if not (directory / f"{name}.parquet").is_file():
        pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        rows: list[dict[str, Any]] = []
        for recorded in specs.values():
            p, r = pair_study(name, recorded, directory)
            pairs.update(p)
            rows += r
        return pairs, rows
    record = _current_record(directory, name)
    current = None if record is None else record.study_hash
    entry = specs.get(current)
    if entry is None and current is None and len(specs) == 1:
        entry = next(iter(specs.values()))  # no record to tell: the only baseline there is
    if entry is not None:
        return pair_study(name, entry, directory)
    spec = {} if record is None else record.spec
    this = f"study hash {current[:12]}, " if current else ""
    this += f"budget {spec.get('budget')}, {spec.get('replicates')} replicates"
    held = "; ".join(f"{(h or 'no hash')[:12]}: {_size(e)}" for h, e in specs.items())
    detail = (
        f"no baseline for this specification ({this}); the baseline holds "
        f"{held or 'none of this study'}. Record one with "
        f"`ardlib regress update --only {name} --why TEXT`."
    )
    return {}, [make_row("study", name, "no baseline", detail)]
