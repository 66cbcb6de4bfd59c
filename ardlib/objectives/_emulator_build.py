"""Build every emulator once (pipeline stage ``emulators``) and serve them by name.

:func:`build_emulators` writes ``<out_dir>/<name>.json`` per dataset.  The registry's
``"emulator:<name>"`` problems come from :func:`load_emulator`: the saved artifact in the
folder named by the environment variable ``ARDLIB_EMULATOR_DIR``, else in
``data/emulators`` relative to the working directory, when ``<name>.json`` exists there;
otherwise a build from the dataset (seconds).  Either way the result is cached for the
life of the process.
Mixture datasets are served as a :class:`~ardlib.objectives.SimplexEmulator`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from .._validation import check_real
from ._base import Objective
from ._datasets import default_data_root, list_datasets
from ._emulators import Emulator, SimplexEmulator

__all__ = ["build_emulators", "load_emulator"]

_CACHE: dict[tuple[str, str, str, int], Emulator] = {}


def default_emulator_dir() -> Path:
    """``$ARDLIB_EMULATOR_DIR`` if set, else ``data/emulators`` in the working directory."""
    env = os.environ.get("ARDLIB_EMULATOR_DIR")
    return Path(env) if env else Path("data", "emulators")


def _metrics(emu: Emulator, path: Path) -> dict[str, Any]:
    cv = emu.cv_
    assert emu.optimizers is not None
    sel = emu.selection_
    return {
        "n": emu.dataset.n,
        "dim": emu.dim,
        "goal": emu.goal,
        "model": emu.model_,
        "model_lambda": emu.transform_.to_dict()["lambda"],
        "r2": cv.r2,
        "rmse": cv.rmse,
        "coverage50": cv.coverage50,
        "coverage90": cv.coverage90,
        "candidates": sel.table() if sel is not None else None,
        "selection_rule": sel.rule if sel is not None else None,
        "noise_sd": emu.noise_sd,
        "noise_source": emu.noise_source,
        "gp_noise_sd": emu.gp_noise_sd_,
        "optimal_value": emu.optimal_value,
        "optimizer": emu.optimizers[0].tolist(),
        "optimum_nearest_lengthscales": emu.support_.nearest_lengthscales,
        "optimum_sd_ratio": emu.support_.sd_ratio,
        "optimum_extrapolated": emu.support_.extrapolated,
        "build_seconds": emu.build_seconds_,
        "artifact": str(path),
    }


def build_emulators(
    data_root: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    min_r2: float = 0.7,
    rng: int = 0,
) -> dict[str, dict[str, Any]]:
    """Build, check and save the emulator of every dataset.

    Parameters
    ----------
    data_root : path, optional
        Where the datasets are read from (``load_dataset``'s default resolution).
    out_dir : path, optional
        Folder for the ``<name>.json`` artifacts (default: ``$ARDLIB_EMULATOR_DIR``, else
        ``data/emulators`` in the working directory); created if missing.
    names : sequence of str, optional
        Datasets to build; default every dataset under ``data_root``
        (:func:`~ardlib.objectives.list_datasets`).
    min_r2 : float, default 0.7
        Cross-validated R^2 floor; a dataset below it raises and nothing more is built.
    rng : int, default 0
        Seed of every build.

    Returns
    -------
    dict
        Per dataset: ``n``, ``dim``, ``goal``, ``r2``, ``rmse``, ``coverage50``,
        ``coverage90``, ``noise_sd``, ``noise_source``, ``gp_noise_sd``,
        ``optimal_value``, ``optimizer``, ``build_seconds`` (wall time of this build; the
        artifact leaves it out) and the ``artifact`` path.

    Raises
    ------
    ValueError
        If an emulator's cross-validated R^2 is below ``min_r2`` (names the dataset).
    """
    check_real(min_r2, "min_r2", owner="build_emulators", high=1.0)
    out = Path(out_dir) if out_dir is not None else default_emulator_dir()
    metrics: dict[str, dict[str, Any]] = {}
    chosen = list(names) if names is not None else list_datasets(data_root)
    if not chosen:
        where = data_root if data_root is not None else default_data_root()
        raise FileNotFoundError(f"No dataset to build an emulator of under {str(where)!r}.")
    for name in chosen:
        emu = Emulator.fit(name, data_root=data_root, min_r2=min_r2, rng=rng)
        path = emu.save(out / f"{name}.json")
        metrics[name] = _metrics(emu, path)
    return metrics


def load_emulator(
    name: str,
    *,
    artifact_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
) -> Emulator:
    """The emulator of dataset ``name``: loaded when saved, else built; cached in-process.

    Parameters
    ----------
    name : str
        Dataset name.
    artifact_dir : path, optional
        Folder holding ``<name>.json`` (default: ``$ARDLIB_EMULATOR_DIR``, else
        ``data/emulators`` in the working directory).
    data_root : path, optional
        Where the dataset is read from.

    Returns
    -------
    Emulator
        Shared between callers with the same arguments (treat it as read-only).

    Raises
    ------
    ValueError
        If a saved artifact no longer matches the dataset files (see
        :meth:`Emulator.load`) or a fresh build falls below the R^2 floor.
    """
    folder = Path(artifact_dir) if artifact_dir is not None else default_emulator_dir()
    path = folder / f"{name}.json"
    root = Path(data_root) if data_root is not None else default_data_root()
    stamp = path.stat().st_mtime_ns if path.is_file() else -1
    key = (str(name), str(path.resolve()), str(root.resolve()), stamp)
    if key not in _CACHE:
        _CACHE[key] = (
            Emulator.load(path, data_root=root)
            if stamp >= 0
            else Emulator.fit(name, data_root=root)
        )
    return _CACHE[key]


def emulator_problem(
    name: str,
    *,
    artifact_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
) -> Objective:
    """:func:`load_emulator`, wrapped as :class:`SimplexEmulator` for mixture data."""
    emu = load_emulator(name, artifact_dir=artifact_dir, data_root=data_root)
    return SimplexEmulator(emu) if emu.simplex else emu


def registry_factories() -> dict[str, Callable[..., Objective]]:
    """``{"emulator:<name>": factory}`` for the problem registry: every dataset under the
    default data root (:func:`~ardlib.objectives.list_datasets`) and every saved emulator
    (``<name>.json`` in :func:`default_emulator_dir`), looked up again on every call so a
    dataset imported later is found.  Nothing when neither folder exists."""
    names: set[str] = set()
    folder = default_emulator_dir()
    if folder.is_dir():
        names |= {p.stem for p in folder.glob("*.json") if p.stem != "metrics"}
    with contextlib.suppress(FileNotFoundError):  # no data folder here
        names |= set(list_datasets())
    return {
        f"emulator:{name}": partial(emulator_problem, name)
        for name in sorted(names)
        if name.isidentifier() and name.islower()
    }
