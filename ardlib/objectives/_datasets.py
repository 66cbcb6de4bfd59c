"""Laboratory datasets: import them with provenance, load them, measure their noise.

A dataset lives in a folder ``<root>/<name>/`` holding ``data.csv`` (no header: the
parameters in ``config.json`` order, then the measurement) and ``config.json`` (parameter
names and bounds, ``default_goal``, constraints, optionally ``reference``): the layout of
the Olympus benchmarking project, whose five datasets (:data:`DATASET_NAMES`, see
``README.md`` beside them) the pipeline imports by default.  Any other folder in that
layout imports the same way, and a CSV with a header plus a small spec is converted to it
(:func:`csv_to_dataset`); ``params.yaml``'s ``datasets`` section names what the pipeline
imports.  Parameter values up to :data:`BOUNDS_RTOL` of the range outside a bound are
floating-point rounding in the lab's file and are read as the bound; further out is an
error.

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

from .._io import load_yaml, sha256_bytes, sha256_file, sha256_json, write_atomic, write_json
from ._base import Goal

__all__ = [
    "BOUNDS_RTOL",
    "DATASET_NAMES",
    "Dataset",
    "csv_to_dataset",
    "import_datasets",
    "import_from_params",
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
#: Relative tolerance of the bounds check: a value at most this fraction of the range
#: outside a bound is floating-point rounding in the lab's file and is read as the bound.
BOUNDS_RTOL = 1e-9

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"The dataset name {name!r} ({what}) must be a lowercase identifier: letters, "
            "digits and underscores, starting with a letter (it becomes 'emulator:<name>')."
        )
    return name


def _dataset_folders(src: Path) -> list[str]:
    """Names of the sub-folders of ``src`` holding a ``config.json`` or a ``data.csv``."""
    return sorted(
        p.name for p in src.iterdir() if p.is_dir() and any((p / f).is_file() for f in _DATA_FILES)
    )


def _required_files(src: Path, names: list[str] | None) -> tuple[list[str], list[str]]:
    """(dataset names, relative paths to copy) of ``src``; raises naming a missing file."""
    if not src.is_dir():
        raise FileNotFoundError(
            f"The 'src' parameter of import_datasets must be a folder holding datasets "
            f"(<name>/data.csv and <name>/config.json). {str(src)!r} does not exist."
        )
    if all((src / f).is_file() for f in _DATA_FILES):  # one dataset folder, named after it
        chosen = [src.name]
        if names is not None and names != chosen:
            raise ValueError(
                f"The 'names' parameter of import_datasets must be omitted or [{src.name!r}] "
                f"when 'src' is one dataset folder. Got {names!r}."
            )
        src = src.parent
    else:
        found = _dataset_folders(src)
        chosen = found if names is None else list(names)
        if not chosen:
            raise FileNotFoundError(
                f"Dataset source {str(src)!r} holds no dataset folder (<name>/data.csv and "
                "<name>/config.json)."
            )
    for name in chosen:
        _check_name(name, f"a folder of {str(src)!r}")
    rel = [f"{name}/{f}" for name in chosen for f in _DATA_FILES]
    licences = {f.name for f in src.glob("LICENSE*") if f.is_file()}
    if set(chosen) & set(DATASET_NAMES):  # Olympus's data: its licence and citations travel
        licences.add(_LICENSE)
    rel += sorted(licences)
    required = rel + ([_README] if _LICENSE in licences else [])
    missing = [r for r in required if not (src / r).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Dataset source {str(src)!r} is incomplete: missing {', '.join(missing)}."
        )
    return chosen, rel


def _dataset_hash(files: Mapping[str, str]) -> str:
    """sha256 of the manifest's ``files`` mapping as canonical (sorted, compact) JSON."""
    return sha256_json(dict(files))


def _provenance(sources: list[dict[str, Any]], files: Mapping[str, str], dataset_hash: str) -> str:
    lines = [
        "# Provenance of the raw datasets",
        "",
        "Copied byte for byte by `ardlib.objectives.import_datasets` (datasets given as a CSV "
        "with a spec are converted: the CSV's cells are written unchanged); do not edit these "
        "files (a change alters their sha256 below and `dataset_hash` in `manifest.json`, and "
        "saved emulators refuse to load).",
        "",
    ]
    for source in sources:
        lines += [f"## Source `{source['src']}`", "", f"Datasets: {', '.join(source['names'])}"]
        readme = source.get("readme", "")
        text = next((p for p in readme.split("\n\n") if p.startswith("Source:")), "")
        commit = re.search(r"commit ([0-9a-f]{7,40})", text)
        if readme:
            lines += ["", f"Source commit: {commit.group(1) if commit else 'unknown'}"]
            lines += ["", " ".join(text.split()), ""]
            lines += [line for line in readme.splitlines() if line.startswith("|")]
        lines.append("")
    lines += [
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


def csv_to_dataset(
    csv: str | os.PathLike[str], spec: str | os.PathLike[str] | Mapping[str, Any]
) -> tuple[bytes, bytes]:
    """Convert a CSV with a header plus a small spec into the Olympus layout.

    Parameters
    ----------
    csv : path
        Comma-separated file whose first row names the columns.
    spec : path or mapping
        JSON or YAML file (or the mapping itself) with ``parameters`` (a list of
        ``{name, low, high}``; ``name`` is a CSV column), ``measurement`` (the CSV column
        measured), ``goal`` (``minimize`` or ``maximize``) and optionally ``constraint``
        (``simplex``) and ``reference`` (lab and publication, shown in reports).

    Returns
    -------
    data_csv, config_json : bytes
        ``data.csv`` without a header (the parameter columns in spec order, then the
        measurement; every cell's text unchanged) and ``config.json``.

    Raises
    ------
    ValueError
        If the spec lacks a key, names a column the CSV does not have, or a cell is empty.
    """
    import csv as csvlib

    if isinstance(spec, Mapping):
        cfg = dict(spec)
    else:
        text = Path(spec).read_text(encoding="utf-8")
        cfg = load_yaml(text) if str(spec).endswith((".yaml", ".yml")) else json.loads(text)
    for key in ("parameters", "measurement", "goal"):
        if key not in (cfg or {}):
            raise ValueError(
                f"The 'spec' of {str(csv)!r} must give 'parameters', 'measurement' and 'goal'; "
                f"'{key}' is missing."
            )
    try:
        params = [
            {
                "name": str(p["name"]),
                "type": "continuous",
                "low": float(p["low"]),
                "high": float(p["high"]),
            }
            for p in cfg["parameters"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"Each entry of 'parameters' in the spec of {str(csv)!r} needs name, low and high; "
            f"{exc!r}."
        ) from exc
    with open(csv, newline="", encoding="utf-8") as fh:
        rows = [r for r in csvlib.reader(fh) if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ValueError(f"The 'csv' {str(csv)!r} needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    columns = [str(p["name"]) for p in params] + [str(cfg["measurement"])]
    absent = [c for c in columns if c not in header]
    if absent:
        raise ValueError(
            f"The spec names column(s) {', '.join(map(repr, absent))} that {str(csv)!r} does "
            f"not have; its columns: {', '.join(header)}."
        )
    idx = [header.index(c) for c in columns]
    out = []
    for i, row in enumerate(rows[1:], start=2):
        cells = [row[j].strip() if j < len(row) else "" for j in idx]
        if "" in cells:
            raise ValueError(
                f"{str(csv)!r} line {i}: column {columns[cells.index('')]!r} is empty."
            )
        out.append(",".join(cells))
    config: dict[str, Any] = {
        "parameters": params,
        "measurements": [{"name": str(cfg["measurement"]), "type": "continuous"}],
        "default_goal": cfg["goal"],
    }
    if cfg.get("constraint"):
        config["constraints"] = {"parameters": str(cfg["constraint"])}
    if cfg.get("reference"):
        config["reference"] = str(cfg["reference"])
    return ("\n".join(out) + "\n").encode(), (json.dumps(config, indent=1) + "\n").encode()


def import_datasets(
    src: str | os.PathLike[str] | None = None,
    dst: str | os.PathLike[str] | None = None,
    *,
    names: list[str] | None = None,
    csv: Mapping[str, tuple[str | os.PathLike[str], Any]] | None = None,
    sources: Mapping[str | os.PathLike[str], list[str] | None] | None = None,
) -> dict[str, Any]:
    """Copy datasets and their licences into ``dst``, check them and record provenance.

    A dataset is a folder ``<name>/`` with ``data.csv`` (no header: the parameters in
    ``config.json`` order, then the measurement) and ``config.json`` (parameter names and
    bounds, ``default_goal``): the layout of the Olympus project.  A CSV with a header plus
    a spec is converted to it (:func:`csv_to_dataset`).  Every imported dataset is loaded
    once (:func:`load_dataset`) so a malformed one fails here, naming the file and row.

    Parameters
    ----------
    src : path, optional
        A folder of dataset folders, or one dataset folder.  Default
        ``$ARDLIB_DATASETS_SRC`` or ``../shared/datasets`` (unless ``sources`` or ``csv``
        is given).  ``LICENSE*`` files beside the dataset folders are copied too, and a
        ``README.md`` there feeds the provenance (source commit, citation table).
    dst : path, default ``data/raw`` (relative to the working directory)
        Destination; created if missing.  Files there are overwritten.
    names : list of str, optional
        Only these datasets of ``src`` (default every dataset folder in it).
    csv : mapping, optional
        ``{name: (csv_path, spec)}``: datasets given as a CSV with a header and a spec.
    sources : mapping, optional
        More folders (or dataset folders) to import from, after ``src``: ``{folder:
        names}`` with ``names`` None for every dataset of the folder.

    Returns
    -------
    dict
        The manifest also written to ``dst/manifest.json``: ``{"files": {relpath: sha256},
        "dataset_hash": sha256}`` where ``dataset_hash`` is the sha256 of the ``files``
        mapping as sorted, compact JSON.  ``dst/PROVENANCE.md`` lists every source and
        every file's sha256.

    Raises
    ------
    FileNotFoundError
        If a source is missing or a dataset folder lacks a file (the message names it).
    ValueError
        If a name is not a lowercase identifier, appears twice, or a dataset is malformed.
    """
    folders: list[tuple[Path, list[str] | None]] = []
    if src is not None or (sources is None and csv is None):
        folders.append((Path(src) if src is not None else default_source(), names))
    folders += [(Path(f), None if n is None else list(n)) for f, n in (sources or {}).items()]
    dst_p = Path(dst) if dst is not None else Path("data", "raw")
    plan: list[tuple[str, bytes]] = []  # (relpath in dst, bytes), checked before writing
    source_notes: list[dict[str, Any]] = []
    for folder, wanted in folders:
        chosen, rel_paths = _required_files(folder, wanted)
        base = folder.parent if all((folder / f).is_file() for f in _DATA_FILES) else folder
        plan += [(rel, (base / rel).read_bytes()) for rel in rel_paths]
        readme = base / _README
        source_notes.append(
            {
                "src": str(folder),
                "names": chosen,
                "readme": readme.read_text(encoding="utf-8") if readme.is_file() else "",
            }
        )
    for name, (csv_path, spec) in (csv or {}).items():
        _check_name(name, "a key of 'csv'")
        data, config = csv_to_dataset(csv_path, spec)
        plan += [(f"{name}/data.csv", data), (f"{name}/config.json", config)]
        source_notes.append({"src": str(csv_path), "names": [name]})
    seen: dict[str, bytes] = {}
    for rel, data in plan:
        if rel in seen and ("/" in rel or seen[rel] != data):
            raise ValueError(f"{rel!r} is given by more than one source (names must be unique).")
        seen[rel] = data
    plan = list(seen.items())
    files: dict[str, str] = {}
    for rel, data in plan:
        write_atomic(dst_p / rel, data)
        files[rel] = sha256_bytes(data)
        if sha256_file(dst_p / rel) != files[rel]:  # pragma: no cover - disk corruption
            raise OSError(f"Copy of {rel} into {str(dst_p)!r} does not match its source.")
    for name in sorted({rel.split("/")[0] for rel, _ in plan if rel.endswith("/data.csv")}):
        load_dataset(name, dst_p)  # raises naming the file and row of a malformed dataset
    dataset_hash = _dataset_hash(files)
    manifest = {"files": dict(sorted(files.items())), "dataset_hash": dataset_hash}
    write_atomic(dst_p / "PROVENANCE.md", _provenance(source_notes, files, dataset_hash))
    write_json(dst_p / "manifest.json", manifest, sort_keys=False)
    return manifest


def import_from_params(
    section: Mapping[str, Any], dst: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """:func:`import_datasets` for the ``datasets`` section of ``params.yaml``.

    Parameters
    ----------
    section : mapping
        ``{name: {"src": folder}}`` for a dataset folder ``folder/<name>/`` in the Olympus
        layout, or ``{name: {"csv": file, "spec": file}}`` for a CSV with a header plus a
        spec (:func:`csv_to_dataset`).
    dst : path, default ``data/raw``

    Returns
    -------
    dict
        The manifest (see :func:`import_datasets`).

    Raises
    ------
    ValueError
        If an entry gives neither ``src`` nor ``csv`` and ``spec`` (names the dataset).
    """
    if not isinstance(section, Mapping) or not section:
        raise ValueError(
            "The 'datasets' section of the params file must map dataset names to "
            "{src: folder} or {csv: file, spec: file}."
        )
    sources: dict[str | os.PathLike[str], list[str] | None] = {}
    csv: dict[str, tuple[str, Any]] = {}
    for name, entry in section.items():
        entry = entry if isinstance(entry, Mapping) else {}
        if "src" in entry and not {"csv", "spec"} & set(entry):
            listed = sources.setdefault(str(entry["src"]), [])
            assert listed is not None
            listed.append(str(name))
        elif {"csv", "spec"} <= set(entry) and "src" not in entry:
            csv[str(name)] = (str(entry["csv"]), str(entry["spec"]))
        else:
            raise ValueError(
                f"Dataset {name!r} in the params file must give either 'src' (a folder "
                f"holding {name}/data.csv and {name}/config.json) or 'csv' and 'spec'. Got "
                f"{dict(entry) if entry else section[name]!r}."
            )
    return import_datasets(None, dst, sources=sources, csv=csv)


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
    reference = str(
        json.loads((folder / "config.json").read_text(encoding="utf-8")).get("reference", "")
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
    tol = BOUNDS_RTOL * (hi - lo)
    outside = (x < lo - tol) | (x > hi + tol)
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise ValueError(
            f"Dataset {name!r}: row {r} has {names[c]} = {float(x[r, c])!r} outside "
            f"[{float(lo[c])!r}, {float(hi[c])!r}] (rounding up to {BOUNDS_RTOL:g} of the "
            "range is tolerated)."
        )
    x = np.clip(x, lo, hi)  # values within the rounding tolerance read as the bound
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
        reference=REFERENCES.get(str(name), "") or reference,
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
