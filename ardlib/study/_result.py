"""Combine stored cells into one study result, in canonical order, byte for byte.

The combined table does not depend on how many workers ran, in which order cells
finished, or which were cached: cells are read from the store, concatenated, sorted by
(problem, noise, planner, replicate, step) and written with fixed parquet settings.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from ._store import ResultStore, write_atomic
from ._tables import ID_FIELDS, RESULT_FIELDS, SORT_KEYS, TIMING_FIELDS, parquet_bytes, to_frame

if TYPE_CHECKING:
    from ._study import CellSpec, Study

__all__ = ["StudyResult", "collect"]


@dataclass
class StudyResult:
    """The combined results of a :class:`Study`.

    Attributes
    ----------
    study : Study
    store : ResultStore
    results : pandas.DataFrame
        Every cell's rows: identity columns ``problem``, ``noise``, ``planner``,
        ``replicate``, ``cell_seed``, then the columns of :func:`run_campaign`; sorted by
        (problem, noise, planner, replicate, step), RangeIndex.
    timings : pandas.DataFrame
        Identity columns plus the per-batch timings (not deterministic; not in the digest).
    results_path : pathlib.Path
        The combined parquet file in the store (byte-identical across reruns and worker
        counts, in one software environment).
    digest : str
        SHA-256 of that file.
    n_computed, n_cached : int
        Cells computed by this run, and cells found in the store.
    """

    study: Study
    store: ResultStore
    results: pd.DataFrame
    timings: pd.DataFrame
    results_path: Path
    digest: str
    n_computed: int
    n_cached: int

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the combined results parquet (the bytes of :attr:`results_path`) to ``path``.

        Returns
        -------
        pathlib.Path
            The written file; its SHA-256 is :attr:`digest`.
        """
        return write_atomic(path, Path(self.results_path).read_bytes())


def _combine(tables: list[pa.Table], fields: tuple[pa.Field, ...]) -> pa.Table:
    """Concatenate per-cell tables under one schema, in canonical row order."""
    schema = pa.schema(list(ID_FIELDS) + list(fields))
    if not tables:
        return schema.empty_table()
    table = pa.concat_tables([t.replace_schema_metadata(None).cast(schema) for t in tables])
    return table.sort_by([(k, "ascending") for k in SORT_KEYS])


def collect(
    study: Study,
    store: ResultStore,
    cells: list[CellSpec],
    *,
    n_computed: int,
    n_cached: int,
) -> StudyResult:
    """Read every cell of ``study`` from ``store`` and write the combined files.

    Raises
    ------
    FileNotFoundError
        If a cell is missing from the store.
    """
    h = study.study_hash
    results = _combine([store.read_cell(h, c.hash) for c in cells], RESULT_FIELDS)
    data = parquet_bytes(results)
    path = write_atomic(store.results_path(h), data)
    timing_tables = [store.read_timings(h, c.hash) for c in cells]
    timings = _combine([t for t in timing_tables if t is not None], TIMING_FIELDS)
    write_atomic(store.combined_timings_path(h), parquet_bytes(timings))
    return StudyResult(
        study=study,
        store=store,
        results=to_frame(results),
        timings=to_frame(timings),
        results_path=path,
        digest=hashlib.sha256(data).hexdigest(),
        n_computed=n_computed,
        n_cached=n_cached,
    )
