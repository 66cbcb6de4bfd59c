"""The baseline file: stored results, the tolerances they are held to, and their history.

The file is JSON with sorted keys, two-space indentation and every list of numbers on one
line, so that ``git diff`` shows which stored value moved::

    {
      "format": 2,
      "tolerances": {...},      # stated here, used by every check (see DEFAULT_TOLERANCES)
      "reference": [...],       # analytic problems: box, optimal value, f at fixed points
      "seeded": [...],          # seeded single campaigns: final value, trajectory, sha256
      "studies": {"name@hash": {...}},  # per specification: final regrets per group
      "history": [{"who", "why", "when", "ardlib_revision", ...}, ...]
    }

A study may have several recorded specifications (the default and the paper-size run,
say): each entry is keyed ``<name>@<first 12 hex digits of its study hash>`` and carries
``study`` (the name) and ``study_hash``.  Format 1 files (keyed by name) are read and
migrated in memory; the next save writes format 2.

Reading validates the whole structure and raises :class:`BaselineError` naming the file
and the offending entry; nothing here ever writes a baseline except :func:`save_baseline`,
which :func:`ardlib.regress.update_baseline` calls.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import git, write_atomic

__all__ = [
    "DEFAULT_BASELINE",
    "DEFAULT_STUDIES",
    "FORMAT",
    "KINDS",
    "Baseline",
    "BaselineError",
    "default_who",
    "dumps_baseline",
    "history_entry",
    "json_float",
    "load_baseline",
    "save_baseline",
    "study_key",
]

#: Version of the baseline layout; a reader migrates format 1 and refuses any other.
FORMAT = 2

#: Where the pipeline keeps the baseline (relative to the repository root).
DEFAULT_BASELINE = "data/baselines/results.json"

#: The kinds of quantity a baseline holds, in the order they are checked.
KINDS = ("reference", "seeded", "study")

#: Where ``ardlib study run`` writes the study results.
DEFAULT_STUDIES = "data/studies"

_SECTIONS = {"reference": list, "seeded": list, "studies": dict, "history": list}
_LEAF_LIST = re.compile(r"\[([^\[\]{}\"]*)\]")


class BaselineError(Exception):
    """The baseline file is missing, is not valid JSON, or does not have the expected
    structure; the message names the file and what to do."""


@dataclass(frozen=True)
class Baseline:
    """The contents of a baseline file (plain JSON values, validated on load).

    Attributes
    ----------
    tolerances : dict
        How closely deterministic quantities must match: ``reference_max_ulps``,
        ``seeded_rtol``, ``seeded_hash_digits`` and a ``note`` explaining them.
    reference : list of dict
        One entry per analytic problem: ``problem``, ``bounds``, ``optimal_value`` and
        ``points`` (each ``x``, ``value``, ``scale`` and the 50-digit ``reference``).
    seeded : list of dict
        One entry per seeded campaign: its ``spec``, ``final_y_true_rec``, the
        ``trajectory`` (``x``, ``y_true``) and ``trajectory_sha256``.
    studies : dict
        Study name -> ``file``, ``digest``, ``metric``, ``budget`` and ``groups`` (each
        ``problem``, ``noise``, ``planner``, ``spec`` and per-replicate ``values``).
    history : list of dict
        Every update, oldest first: ``who``, ``why``, ``when`` (ISO 8601, UTC),
        ``ardlib_revision``, ``ardlib_version`` and ``updated`` (sections refreshed).
    """

    tolerances: dict[str, Any] = field(default_factory=dict)
    reference: list[dict[str, Any]] = field(default_factory=list)
    seeded: list[dict[str, Any]] = field(default_factory=list)
    studies: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def study_specs(self, name: str) -> dict[str | None, dict[str, Any]]:
        """The recorded specifications of study ``name``: study hash -> entry.

        Parameters
        ----------
        name : str
            The study's name (its results file's stem).

        Returns
        -------
        dict
            Empty when the baseline holds no entry of that study; the key is None for an
            entry recorded without a study record.
        """
        return {e.get("study_hash"): e for e in self.studies.values() if e["study"] == name}

    @property
    def study_names(self) -> list[str]:
        """Names of the studies with at least one recorded specification, sorted."""
        return sorted({e["study"] for e in self.studies.values()})

    def to_json(self) -> dict[str, Any]:
        """The JSON document of the file (a dict of plain values).

        Returns
        -------
        dict
        """
        return {
            "format": FORMAT,
            "tolerances": self.tolerances,
            "reference": self.reference,
            "seeded": self.seeded,
            "studies": self.studies,
            "history": self.history,
        }


def json_float(value: Any) -> float | None:
    """``value`` as a float for JSON, with NaN as None (JSON has no NaN)."""
    v = float(value)
    return None if math.isnan(v) else v


def dumps_baseline(baseline: Baseline) -> str:
    """The file text: sorted keys, indent 2, each list of scalars on one line."""
    text = json.dumps(baseline.to_json(), indent=2, sort_keys=True, allow_nan=False)

    def one_line(m: re.Match[str]) -> str:
        items = [s.strip() for s in m.group(1).split(",")]
        return "[" + ", ".join(s for s in items if s) + "]"

    return _LEAF_LIST.sub(one_line, text) + "\n"


def save_baseline(baseline: Baseline, path: str | os.PathLike[str]) -> Path:
    """Write ``baseline`` to ``path`` atomically (temporary file, then rename).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return write_atomic(path, dumps_baseline(baseline))


def _problem(source: Path, where: str, expectation: str) -> BaselineError:
    return BaselineError(
        f"The baseline {source} is corrupt: {where} {expectation}. Restore it from version "
        "control, or record a new one with `ardlib regress update --why ...`."
    )


#: Keys every entry of a section must have, and (key, keys) of its nested objects/lists.
_SCHEMA: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "reference": (
        ("problem", "bounds", "optimal_value", "points"),
        {"points[]": ("x", "value", "scale")},
    ),
    "seeded": (
        ("name", "spec", "final_y_true_rec", "trajectory", "trajectory_sha256"),
        {
            "spec": ("problem", "planner", "noise", "budget", "seed"),
            "trajectory": ("x", "y_true"),
        },
    ),
    "studies": (
        ("study", "file", "metric", "groups"),
        {"groups[]": ("problem", "noise", "planner", "values")},
    ),
    "history": (("who", "why", "when"), {}),
}


def _check_keys(source: Path, where: str, obj: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(obj, dict):
        raise _problem(source, where, "must be an object")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise _problem(source, where, f"lacks the key(s) {missing}")


def _check_section(source: Path, data: Mapping[str, Any], name: str) -> None:
    """Check one section's container, its entries' keys and their nested objects."""
    value = data.get(name, _SECTIONS[name]())
    if not isinstance(value, _SECTIONS[name]):
        raise _problem(source, f"section {name!r}", f"must be a {_SECTIONS[name].__name__}")
    required, nested = _SCHEMA[name]
    entries = value.items() if isinstance(value, dict) else enumerate(value)
    for key, entry in entries:
        where = f"{name}[{key!r}]"
        _check_keys(source, where, entry, required)
        for field_name, keys in nested.items():
            inner = field_name.removesuffix("[]")
            if field_name.endswith("[]"):
                items = entry[inner]
                if not isinstance(items, list):
                    raise _problem(source, f"{where}.{inner}", "must be a list")
                for i, item in enumerate(items):
                    _check_keys(source, f"{where}.{inner}[{i}]", item, keys)
            else:
                _check_keys(source, f"{where}.{inner}", entry[inner], keys)
        if name == "studies":
            for i, group in enumerate(entry["groups"]):
                _check_values(source, f"{where}.groups[{i}].values", group["values"])


def _check_values(source: Path, where: str, values: Any) -> None:
    if not isinstance(values, list) or not values:
        raise _problem(source, where, "must be a non-empty list")
    bad = [v for v in values if not (v is None or isinstance(v, int | float))]
    if bad:
        raise _problem(source, where, f"must hold numbers or null; got {bad[0]!r}")


def load_baseline(path: str | os.PathLike[str] = DEFAULT_BASELINE) -> Baseline:
    """Read and validate a baseline file.

    Parameters
    ----------
    path : str or path-like, default ``"data/baselines/results.json"``

    Returns
    -------
    Baseline

    Raises
    ------
    BaselineError
        If the file does not exist, is not JSON, has another ``format`` or lacks a
        required key; the message names the file, the entry and the remedy.
    """
    source = Path(path)
    if not source.is_file():
        raise BaselineError(
            f"No baseline at {source}. Record one with `ardlib regress update --why TEXT` "
            "(or ardlib.regress.update_baseline) after checking the results are right."
        )
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _problem(source, "the file", f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise _problem(source, "the top level", "must be a JSON object")
    if data.get("format") == 1:
        data = {**data, "studies": _migrate_studies(data.get("studies", {}))}
    elif data.get("format") != FORMAT:
        raise _problem(source, "'format'", f"must be {FORMAT}; got {data.get('format')!r}")
    if not isinstance(data.get("tolerances", {}), dict):
        raise _problem(source, "section 'tolerances'", "must be an object")
    for name in _SECTIONS:
        _check_section(source, data, name)
    return Baseline(
        tolerances=dict(data.get("tolerances", {})),
        reference=list(data.get("reference", [])),
        seeded=list(data.get("seeded", [])),
        studies=dict(data.get("studies", {})),
        history=list(data.get("history", [])),
    )


def study_key(name: str, study_hash: str | None) -> str:
    """The key of a study entry: ``name@<12 hex digits of the hash>`` (``name`` without)."""
    return name if not study_hash else f"{name}@{study_hash[:12]}"


def _migrate_studies(studies: Any) -> Any:
    """Format 1's ``{name: entry}`` as format 2's ``{name@hash: entry + study}``."""
    if not isinstance(studies, dict):
        return studies  # the section check names the problem
    return {
        study_key(name, e.get("study_hash")): {**e, "study": name} if isinstance(e, dict) else e
        for name, e in studies.items()
    }


def _git(*args: str) -> str | None:
    """Output of ``git args`` run in ardlib's source directory, or None on any failure."""
    return git(*args, cwd=Path(__file__).resolve().parent, timeout=10)


def default_who() -> str | None:
    """``git config user.name``, else ``$USER``, else None."""
    return _git("config", "user.name") or os.environ.get("USER") or None


def history_entry(who: str, why: str, updated: list[str]) -> dict[str, Any]:
    """One ``history`` record: who, why, when (now, UTC), the revision and what changed."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "who": who,
        "why": why,
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ardlib_revision": _git("rev-parse", "HEAD") or None,
        "ardlib_revision_dirty": None if status is None else bool(status),
        "ardlib_version": __version__,
        "updated": updated,
    }
