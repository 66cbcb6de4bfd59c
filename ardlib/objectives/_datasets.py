"""Real laboratory datasets: import them with provenance, load them, measure their noise.

The five datasets come from the Olympus benchmarking project (see ``README.md`` beside
them).  Each lives in a folder ``<root>/<name>/`` holding ``data.csv`` (no header: the
parameters in ``config.json`` order, then the measurement) and ``config.json`` (parameter
names and bounds, ``default_goal``, constraints).

Where the data is read from (``root=None``), first match wins:

1. the environment variable ``ARDLIB_DATA_DIR``;
2. ``data/raw`` in the working directory, if it exists (the project's own, versioned copy,
   written by :func:`import_datasets`);
3. the environment variable ``ARDLIB_DATASETS_SRC``, else ``../shared/datasets`` relative
   to the working directory (the shared source folder beside the repository), if it
   exists.

Nothing is found relative to where the package is installed: pass ``root`` (or set one of
the variables) to read data from anywhere else.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._io import sha256_bytes, sha256_file, sha256_json, write_atomic, write_json
from ._base import Goal

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "import_datasets",
    "list_datasets",
    "load_dataset",
    "replicate_noise_sd",
]

#: The datasets :func:`import_datasets` copies and the emulators are built from.
DATASET_NAMES: tuple[str, ...] = ("crossed_barrel", "fullerenes", "hplc", "photo_pce10", "suzuki")

_DATA_FILES = ("data.csv", "config.json")
_LICENSE = "LICENSE-olympus"
_README = "README.md"

#: Lab and publication per dataset (from the source README's citation table).
REFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "crossed_barrel": "3D-printed crossed-barrel structures; Gongora et al., Sci. Adv. "
        "2020, 6, eaaz1708",
        "fullerenes": "flow synthesis of C60 adducts on a 6x6x6 factorial grid; Walker et "
        "al., React. Chem. Eng. 2017, 2, 785",
        "hplc": "automated HPLC sampling; Roch et al., ChemOS, chemRxiv 2018",
        "photo_pce10": "organic photovoltaic blends; Langner et al., Adv. Mater. 2020, 1907801",
        "suzuki": "Suzuki-Miyaura coupling conditions, as packaged by Olympus",
    }
)


def default_source() -> Path:
    """Where :func:`import_datasets` copies from by default: ``$ARDLIB_DATASETS_SRC``, else
    ``../shared/datasets`` relative to the working directory."""
    return Path(os.environ.get("ARDLIB_DATASETS_SRC") or Path("..", "shared", "datasets"))


def default_data_root() -> Path:
    """The folder datasets are read from when ``root`` is None (see the module docstring).

    Raises
    ------
    FileNotFoundError
        Naming the places tried and the environment variables, when none exists.
    """
    env = os.environ.get("ARDLIB_DATA_DIR")
    if env:
        return Path(env)
    for candidate in (Path("data", "raw"), default_source()):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"No datasets folder: neither data/raw nor {str(default_source())!r} exists in "
        f"{str(Path.cwd())!r}; pass root=..., or set ARDLIB_DATA_DIR (or ARDLIB_DATASETS_SRC)."
    )


# ------------------------------------------------------------------------------- import
def _required_files(src: Path) -> list[str]:
    """Relative paths that must exist in ``src``; raises FileNotFoundError naming one."""
    if not src.is_dir():
        raise FileNotFoundError(
            f"The 'src' parameter of import_datasets must be a folder holding the datasets. "
            f"{str(src)!r} does not exist."
        )
    rel = [f"{name}/{f}" for name in DATASET_NAMES for f in _DATA_FILES] + [_LICENSE]
    missing = [r for r in [*rel, _README] if not (src / r).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Dataset source {str(src)!r} is incomplete: missing {', '.join(missing)}."
        )
    return rel


def _dataset_hash(files: Mapping[str, str]) -> str:
    """sha256 of the manifest's ``files`` mapping as canonical (sorted, compact) JSON."""
    return sha256_json(dict(files))


def _provenance(readme: str, files: Mapping[str, str], dataset_hash: str) -> str:
    source = next((p for p in readme.split("\n\n") if p.startswith("Source:")), "")
    commit = re.search(r"commit ([0-9a-f]{7,40})", source)
    table = [line for line in readme.splitlines() if line.startswith("|")]
    lines = [
        "# Provenance of the raw datasets",
        "",
        "Copied byte for byte by `ardlib.objectives.import_datasets`; do not edit these files "
        "(a change alters their sha256 below and `dataset_hash` in `manifest.json`, and "
        "saved emulators refuse to load).",
        "",
        f"Source commit: {commit.group(1) if commit else 'unknown'}",
        "",
        " ".join(source.split()),
        "",
        "## Datasets",
        "",
        *table,
        "",
        "## Files",
        "",
        "| file | sha256 |",
        "|---|---|",
        *(f"| `{rel}` | `{digest}` |" for rel, digest in sorted(files.items())),
        "",
        f"dataset_hash (sha256 of the sorted manifest): `{dataset_hash}`",
        "",
    ]
    return "\n".join(lines)


def import_datasets(
    src: str | os.PathLike[str] | None = None, dst: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Copy the five datasets and their licence into ``dst`` and record their provenance.

    Parameters
    ----------
    src : path, default ``$ARDLIB_DATASETS_SRC`` or ``../shared/datasets``
        Folder holding ``README.md``, ``LICENSE-olympus`` and ``<name>/data.csv``,
        ``<name>/config.json`` for every name in :data:`DATASET_NAMES`.
    dst : path, default ``data/raw`` (relative to the working directory)
        Destination; created if missing.  Files there are overwritten.

    Returns
    -------
    dict
        The manifest also written to ``dst/manifest.json``: ``{"files": {relpath: sha256},
        "dataset_hash": sha256}`` where ``dataset_hash`` is the sha256 of the ``files``
        mapping as sorted, compact JSON.  ``dst/PROVENANCE.md`` gets the source commit,
        the citation table of ``src/README.md`` and every file's sha256.

    Raises
    ------
    FileNotFoundError
        If ``src`` is missing or lacks a required file (the message names it).
    """
    src_p = Path(src) if src is not None else default_source()
    dst_p = Path(dst) if dst is not None else Path("data", "raw")
    rel_paths = _required_files(src_p)
    files: dict[str, str] = {}
    for rel in rel_paths:
        data = (src_p / rel).read_bytes()
        write_atomic(dst_p / rel, data)
        files[rel] = sha256_bytes(data)
        if sha256_file(dst_p / rel) != files[rel]:  # pragma: no cover - disk corruption
            raise OSError(f"Copy of {rel} into {str(dst_p)!r} does not match its source.")
    dataset_hash = _dataset_hash(files)
    manifest = {"files": dict(sorted(files.items())), "dataset_hash": dataset_hash}
    readme = (src_p / _README).read_text(encoding="utf-8")
    provenance = _provenance(readme, files, dataset_hash)
    write_atomic(dst_p / "PROVENANCE.md", provenance)
    write_json(dst_p / "manifest.json", manifest, sort_keys=False)
    return manifest


# ------------------------------------------------------------------------------- loading
@dataclass(frozen=True, eq=False)
class Dataset:
    """One laboratory dataset, as measured (rows in file order, arrays read-only).

    Attributes
    ----------
    name : str
        Folder name, e.g. ``"suzuki"``.
    X : ndarray of shape (n, d)
        Parameters, original units.
    y : ndarray of shape (n,)
        The measurement (the first one ``config.json`` lists).
    parameter_names : tuple of str, length d
    measurement_name : str
    bounds : ndarray of shape (d, 2)
        ``[low, high]`` per parameter, from ``config.json``.
    goal : {"minimize", "maximize"}
        ``default_goal`` of ``config.json``.
    constraint : {"simplex"} or None
        ``"simplex"`` when the parameters are mixture fractions summing to one.
    sha256 : mapping of str to str
        sha256 of ``data.csv`` and ``config.json`` (keys are those file names).
    root : pathlib.Path
        Folder the dataset was read from (its parent holds ``<name>/``).
    reference : str
        Lab and publication.
    """

    name: str
    X: NDArray[np.float64]
    y: NDArray[np.float64]
    parameter_names: tuple[str, ...]
    measurement_name: str
    bounds: NDArray[np.float64]
    goal: Goal
    constraint: str | None
    sha256: Mapping[str, str]
    root: Path
    reference: str = field(default="")

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """Number of parameters ``d``."""
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, n={self.n}, dim={self.dim}, goal={self.goal!r})"


def list_datasets(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the dataset folders under ``root`` (those with both data files), sorted.

    Parameters
    ----------
    root : path, optional
        See the module docstring for the default.

    Returns
    -------
    list of str
    """
    base = Path(root) if root is not None else default_data_root()
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if all((p / f).is_file() for f in _DATA_FILES))


def _read_config(
    path: Path, name: str
) -> tuple[list[str], NDArray[np.float64], str, Goal, str | None, int]:
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
        params = cfg["parameters"]
        names = [str(p["name"]) for p in params]
        bounds = np.array([[float(p["low"]), float(p["high"])] for p in params], dtype=float)
        measurements = cfg.get("measurements") or [{"name": "y"}]
        goal = cfg["default_goal"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"Dataset {name!r}: malformed {path}: {exc!r}.") from exc
    if goal not in ("minimize", "maximize"):
        raise ValueError(
            f"Dataset {name!r}: default_goal in {path} must be 'minimize' or 'maximize'. "
            f"Got {goal!r}."
        )
    constraints = cfg.get("constraints") or {}
    constraint = "simplex" if constraints.get("parameters") == "simplex" else None
    return names, bounds, str(measurements[0]["name"]), goal, constraint, len(measurements)


def load_dataset(name: str, root: str | os.PathLike[str] | None = None) -> Dataset:
    """Read the dataset ``name`` from ``root``.

    Parameters
    ----------
    name : str
        A folder name, one of :func:`list_datasets`.
    root : path, optional
        See the module docstring for the default resolution.

    Returns
    -------
    Dataset

    Raises
    ------
    FileNotFoundError
        If ``root/name`` lacks ``data.csv`` or ``config.json`` (the message names the file
        and lists the datasets that exist).
    ValueError
        If the files are malformed: wrong column count, non-finite values, or parameters
        outside the configured bounds.
    """
    base = Path(root) if root is not None else default_data_root()
    folder = base / str(name)
    for f in _DATA_FILES:
        if not (folder / f).is_file():
            raise FileNotFoundError(
                f"Dataset {name!r}: {folder / f} does not exist. Datasets under {base}: "
                f"{', '.join(list_datasets(base)) or 'none'}."
            )
    names, bounds, measurement, goal, constraint, n_meas = _read_config(
        folder / "config.json", name
    )
    raw = (folder / "data.csv").read_bytes()
    text = raw.decode("utf-8")
    rows = [line for line in text.splitlines() if line.strip()]
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in rows], dtype=float)
    except ValueError as exc:
        raise ValueError(f"Dataset {name!r}: {folder / 'data.csv'} is not numeric CSV.") from exc
    d = len(names)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != d + n_meas:
        raise ValueError(
            f"Dataset {name!r}: {folder / 'data.csv'} must have {d + n_meas} columns "
            f"({d} parameters, {n_meas} measurement(s)) and at least one row. Got shape "
            f"{table.shape}."
        )
    if not np.all(np.isfinite(table)):
        bad = np.flatnonzero(~np.all(np.isfinite(table), axis=1))
        raise ValueError(f"Dataset {name!r}: rows {bad[:10].tolist()} hold NaN or infinity.")
    x, y = table[:, :d], table[:, d]
    lo, hi = bounds[:, 0], bounds[:, 1]
    outside = (x < lo) | (x > hi)
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise ValueError(
            f"Dataset {name!r}: row {r} has {names[c]} = {float(x[r, c])!r} outside "
            f"[{float(lo[c])!r}, {float(hi[c])!r}]."
        )
    for arr in (x, y, bounds):
        arr.flags.writeable = False
    digests = {
        "data.csv": sha256_bytes(raw),
        "config.json": sha256_file(folder / "config.json"),
    }
    return Dataset(
        name=str(name),
        X=x,
        y=y,
        parameter_names=tuple(names),
        measurement_name=measurement,
        bounds=bounds,
        goal=goal,
        constraint=constraint,
        sha256=digests,
        root=base,
        reference=REFERENCES.get(str(name), ""),
    )


def replicate_noise_sd(dataset: Dataset) -> tuple[float | None, int]:
    """Pooled within-group standard deviation of rows that repeat the same parameters.

    ``sd = sqrt(sum_g sum_i (y_gi - mean_g)^2 / sum_g (n_g - 1))`` over the groups ``g`` of
    rows with identical parameters (exact equality) and ``n_g >= 2``: the measurement noise
    the lab's replicates reveal, assuming it is the same everywhere.

    Parameters
    ----------
    dataset : Dataset

    Returns
    -------
    sd : float or None
        None when no parameter row repeats.
    n_groups : int
        Number of replicate groups (0 when there are none).
    """
    _, inverse, counts = np.unique(dataset.X, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    groups = np.flatnonzero(counts >= 2)
    if groups.size == 0:
        return None, 0
    sums = np.bincount(inverse, weights=dataset.y)
    means = sums / counts
    resid = dataset.y - means[inverse]
    in_group = counts[inverse] >= 2
    ss = float(np.sum(resid[in_group] ** 2))
    dof = int(np.sum(counts[groups] - 1))
    return float(np.sqrt(ss / dof)), int(groups.size)
