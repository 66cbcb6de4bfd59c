"""Persist study results: one parquet file per cell, written atomically, plus a manifest.

Layout under ``root``::

    cells/<cell_hash>.parquet              per-evaluation results of one cell
    timings/<cell_hash>.parquet            wall-clock timings of that cell
    <study_hash>/manifest.json             the study spec and the list of its cells
    <study_hash>/results.parquet           all cells combined, canonical order
    <study_hash>/timings.parquet           all timings combined

Cells are shared between studies: a cell's hash covers everything that determines its
results (problem, planner, noise, replicate, budget, batch size, master seed, version),
so a study that adds a planner or replicates to an earlier one computes only the new cells.

Every file is written to a temporary name in its directory and moved into place with
:func:`os.replace`, so a reader (or a resumed run) sees a complete file or none.  A cell
counts as stored once its results file exists; its timings are written first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .._io import write_atomic
from ._tables import parquet_bytes

__all__ = ["ResultStore"]


class ResultStore:
    """A directory of study results addressed by study and cell hashes.

    Parameters
    ----------
    root : str or path-like
        Directory holding one sub-directory per study (created on first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    def study_dir(self, study_hash: str) -> Path:
        """Directory of one study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.root / study_hash

    def cell_path(self, study_hash: str, cell_hash: str) -> Path:
        """Results file of one cell (shared between studies).

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.root / "cells" / f"{cell_hash}.parquet"

    def timings_path(self, study_hash: str, cell_hash: str) -> Path:
        """Timings file of one cell.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.root / "timings" / f"{cell_hash}.parquet"

    def results_path(self, study_hash: str) -> Path:
        """Combined results file of a study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.study_dir(study_hash) / "results.parquet"

    def combined_timings_path(self, study_hash: str) -> Path:
        """Combined timings file of a study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.study_dir(study_hash) / "timings.parquet"

    def manifest_path(self, study_hash: str) -> Path:
        """Manifest (JSON) of a study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.

        Returns
        -------
        pathlib.Path
        """
        return self.study_dir(study_hash) / "manifest.json"

    def has_cell(self, study_hash: str, cell_hash: str) -> bool:
        """Whether the cell's results are stored.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.

        Returns
        -------
        bool
        """
        return self.cell_path(study_hash, cell_hash).is_file()

    def write_cell(
        self,
        study_hash: str,
        cell_hash: str,
        results: pa.Table | bytes,
        timings: pa.Table | bytes,
    ) -> None:
        """Store one cell (timings first, so a stored results file implies both).

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.
        results, timings : pyarrow.Table or bytes
            The cell's result rows and per-batch timings, or both already serialized by
            :func:`parquet_bytes` (a worker process does that, off the storing process).
        """
        for path, table in (
            (self.timings_path(study_hash, cell_hash), timings),
            (self.cell_path(study_hash, cell_hash), results),
        ):
            write_atomic(path, table if isinstance(table, bytes) else parquet_bytes(table))

    def read_cell(self, study_hash: str, cell_hash: str) -> pa.Table:
        """The stored results table of one cell.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.

        Returns
        -------
        pyarrow.Table
        """
        return pq.read_table(self.cell_path(study_hash, cell_hash))

    def read_timings(self, study_hash: str, cell_hash: str) -> pa.Table | None:
        """The stored timings of one cell.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        cell_hash : str
            :attr:`CellSpec.hash`.

        Returns
        -------
        pyarrow.Table or None
            None when the file is missing.
        """
        path = self.timings_path(study_hash, cell_hash)
        return pq.read_table(path) if path.is_file() else None

    def write_manifest(self, study_hash: str, manifest: dict[str, Any]) -> None:
        """Write the manifest, refusing to overwrite one that describes another study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.
        manifest : dict
            JSON-able; its ``spec`` must match a manifest already stored under the hash.

        Raises
        ------
        RuntimeError
            If a manifest with a different ``spec`` is already stored under this hash.
        """
        path = self.manifest_path(study_hash)
        if path.is_file():
            old = json.loads(path.read_text())
            if old.get("spec") != manifest.get("spec"):
                raise RuntimeError(
                    f"{path} describes a different study than hash {study_hash} promises; "
                    "the store is corrupt or was edited by hand. Move it away and rerun."
                )
        text = json.dumps(manifest, sort_keys=True, indent=1, allow_nan=False) + "\n"
        write_atomic(path, text.encode())

    def read_manifest(self, study_hash: str) -> dict[str, Any]:
        """The manifest of a stored study.

        Parameters
        ----------
        study_hash : str
            :attr:`Study.study_hash`.

        Returns
        -------
        dict
        """
        data: dict[str, Any] = json.loads(self.manifest_path(study_hash).read_text())
        return data
