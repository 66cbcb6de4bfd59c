"""Combine stored cells into one study result, in canonical order, byte for byte; save and
load it with the record that says what it is.

The combined table does not depend on how many workers ran, in which order cells
finished, or which were cached: cells are read from the store, concatenated, sorted by
(problem, noise, planner, replicate, step) and written with fixed parquet settings.

A saved study is two files: ``<name>.parquet`` (the combined results) and ``<name>.json``
(its :class:`StudyRecord`: name, study hash, results digest, spec, cell counts, seconds).
:meth:`StudyResult.save` writes both and :func:`load_study` reads both; nothing else
writes or parses the record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._io import sha256_bytes, sha256_file, write_atomic, write_json
from ._store import ResultStore
from ._tables import ID_FIELDS, RESULT_FIELDS, SORT_KEYS, TIMING_FIELDS, parquet_bytes, to_frame

if TYPE_CHECKING:
    from ._study import CellSpec, Study

__all__ = ["SavedStudy", "StudyRecord", "StudyResult", "collect", "load_study"]


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

    def record(self, name: str, *, seconds: float | None = None) -> StudyRecord:
        """The :class:`StudyRecord` of this result saved under ``name``.

        Parameters
        ----------
        name : str
            The study's name.
        seconds : float, optional
            Wall-clock time of the run.

        Returns
        -------
        StudyRecord
        """
        return StudyRecord(
            study=name,
            study_hash=self.study.study_hash,
            digest=self.digest,
            spec=self.study.spec(),
            n_cells=self.n_computed + self.n_cached,
            n_computed=self.n_computed,
            seconds=None if seconds is None else round(float(seconds), 3),
        )

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        seconds: float | None = None,
    ) -> Path:
        """Write the combined results to ``path`` and their record beside it.

        Parameters
        ----------
        path : str or path-like
            The parquet file (the bytes of :attr:`results_path`); the record goes to the
            same path with suffix ``.json``.
        name : str, optional
            The study's name in the record; default the file's stem.
        seconds : float, optional
            Wall-clock time of the run, kept in the record.

        Returns
        -------
        pathlib.Path
            The parquet file; its SHA-256 is :attr:`digest`.
        """
        out = write_atomic(path, Path(self.results_path).read_bytes())
        self.record(name or out.stem, seconds=seconds).save(out.with_suffix(".json"))
        return out


@dataclass(frozen=True)
class StudyRecord:
    """What a saved study says about itself: the JSON file beside its results.

    Attributes
    ----------
    study : str
        The study's name.
    study_hash : str
        :attr:`Study.study_hash` of the spec that produced the results.
    digest : str
        SHA-256 of the results parquet.
    spec : dict
        :meth:`Study.spec`: problems, planners, noises, budget, replicates, seed.
    n_cells, n_computed : int or None
        Cells in the study and cells computed by the run that saved it.
    seconds : float or None
        Wall-clock time of that run.
    """

    study: str
    study_hash: str
    digest: str
    spec: dict[str, Any]
    n_cells: int | None = None
    n_computed: int | None = None
    seconds: float | None = None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the record as JSON (sorted keys, atomically). Returns the path.

        Parameters
        ----------
        path : str or path-like
            The JSON file.

        Returns
        -------
        pathlib.Path
        """
        return write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StudyRecord:
        """Read a record written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The JSON file.

        Returns
        -------
        StudyRecord

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If it is not JSON or lacks ``study``, ``study_hash``, ``digest`` or ``spec``.
        """
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"Study record {str(p)!r} is not valid JSON: {exc}") from None
        required = ("study", "study_hash", "digest", "spec")
        missing = [k for k in required if not isinstance(data, dict) or k not in data]
        if missing:
            raise ValueError(
                f"Study record {str(p)!r} lacks {', '.join(missing)}; "
                "write it with StudyResult.save or StudyRecord.save."
            )
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


@dataclass(frozen=True)
class SavedStudy:
    """A study read back from disk by :func:`load_study`.

    Attributes
    ----------
    path : pathlib.Path
        The results parquet.
    results : pandas.DataFrame
        Its rows, as :attr:`StudyResult.results` gives them.
    record : StudyRecord
        The record saved beside it.
    digest : str
        SHA-256 of the parquet file as read now (equals ``record.digest`` unless the file
        was changed after it was saved).
    """

    path: Path
    results: pd.DataFrame
    record: StudyRecord
    digest: str


def load_study(path: str | os.PathLike[str], *, columns: list[str] | None = None) -> SavedStudy:
    """Read a study saved by :meth:`StudyResult.save` (``ardlib study run`` writes these).

    Parameters
    ----------
    path : str or path-like
        The results parquet, ``<dir>/<name>.parquet``; its record is ``<dir>/<name>.json``.
    columns : list of str, optional
        Read only these result columns.

    Returns
    -------
    SavedStudy

    Raises
    ------
    FileNotFoundError
        Naming the parquet file or the record, whichever is missing.
    ValueError
        If the record is malformed.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"No study results at {str(p)!r} (run `ardlib study run`).")
    record_path = p.with_suffix(".json")
    if not record_path.is_file():
        raise FileNotFoundError(
            f"Study results {str(p)!r} have no record {str(record_path)!r} beside them."
        )
    return SavedStudy(
        path=p,
        results=to_frame(pq.read_table(p, columns=columns)),
        record=StudyRecord.load(record_path),
        digest=sha256_file(p),
    )


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
    computed: Mapping[str, tuple[pa.Table, pa.Table]] | None = None,
) -> StudyResult:
    """Combine every cell of ``study`` and write the combined files.

    A cell in ``computed`` (cell hash -> its results and timings tables, as this run just
    stored them) is taken from there; the others are read from ``store``. The combined
    table is cast to one schema either way, so the digest does not depend on which.

    Raises
    ------
    FileNotFoundError
        If a cell is missing from the store.
    """
    h = study.study_hash
    computed = computed or {}

    def cell_tables(cell: CellSpec) -> tuple[pa.Table, pa.Table | None]:
        if cell.hash in computed:
            return computed[cell.hash]
        return store.read_cell(h, cell.hash), store.read_timings(h, cell.hash)

    tables = [cell_tables(c) for c in cells]
    results = _combine([r for r, _ in tables], RESULT_FIELDS)
    data = parquet_bytes(results)
    path = write_atomic(store.results_path(h), data)
    timing_tables = [t for _, t in tables]
    timings = _combine([t for t in timing_tables if t is not None], TIMING_FIELDS)
    write_atomic(store.combined_timings_path(h), parquet_bytes(timings))
    return StudyResult(
        study=study,
        store=store,
        results=to_frame(results),
        timings=to_frame(timings),
        results_path=path,
        digest=sha256_bytes(data),
        n_computed=n_computed,
        n_cached=n_cached,
    )
