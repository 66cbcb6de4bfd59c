"""Tabulate campaign records with fixed column types, and serialise them deterministically.

Every table ardlib.study writes goes through here: Arrow tables with an explicit schema
(never inferred from pandas), converted to pandas only for users, and written to parquet
with fixed writer settings so the same rows give the same bytes on every run.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ID_FIELDS",
    "RESULT_FIELDS",
    "SORT_KEYS",
    "TIMING_FIELDS",
    "build_table",
    "parquet_bytes",
    "to_frame",
    "with_identity",
]

_POINT = pa.list_(pa.float64())

#: Identity of a study cell, prepended to every row a study stores.
ID_FIELDS: tuple[pa.Field, ...] = (
    pa.field("problem", pa.string(), nullable=False),
    pa.field("noise", pa.string(), nullable=False),
    pa.field("planner", pa.string(), nullable=False),
    pa.field("replicate", pa.int64(), nullable=False),
    pa.field("cell_seed", pa.int64(), nullable=False),
)

#: Deterministic per-evaluation columns of a campaign (see ``run_campaign``).
RESULT_FIELDS: tuple[pa.Field, ...] = (
    pa.field("step", pa.int64(), nullable=False),
    pa.field("batch", pa.int64(), nullable=False),
    pa.field("x", _POINT, nullable=False),
    pa.field("failed", pa.bool_(), nullable=False),
    pa.field("fail_reason", pa.string()),
    pa.field("y_obs", pa.float64()),
    pa.field("y_true", pa.float64()),
    pa.field("regret_eval", pa.float64()),
    pa.field("y_true_oracle", pa.float64()),
    pa.field("regret_oracle", pa.float64()),
    pa.field("x_rec", _POINT, nullable=False),
    pa.field("y_true_rec", pa.float64()),
    pa.field("regret_rec", pa.float64()),
)

#: Wall-clock columns, one row per batch (not deterministic, stored apart).
TIMING_FIELDS: tuple[pa.Field, ...] = (
    pa.field("step", pa.int64(), nullable=False),
    pa.field("batch", pa.int64(), nullable=False),
    pa.field("n", pa.int64(), nullable=False),
    pa.field("ask_seconds", pa.float64()),
    pa.field("observe_seconds", pa.float64()),
    pa.field("tell_seconds", pa.float64()),
    pa.field("recommend_seconds", pa.float64()),
)

#: Canonical row order of combined study tables.
SORT_KEYS: tuple[str, ...] = ("problem", "noise", "planner", "replicate", "step")

_POINT_COLUMNS = ("x", "x_rec")
_ROW_GROUP_ROWS = 1 << 20


def _points(X: NDArray[np.float64]) -> pa.Array:
    """A list<double> array with one entry per row of ``X`` of shape (n, d)."""
    n, d = X.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * d, type=pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.array(X.reshape(-1), type=pa.float64()))


def build_table(fields: Sequence[pa.Field], columns: Mapping[str, Any]) -> pa.Table:
    """An Arrow table with exactly ``fields``; 2-D arrays become list<double> columns.

    Parameters
    ----------
    fields : sequence of pyarrow.Field
    columns : mapping of str to array-like
        One entry per field; point columns as ndarray of shape (n, d).
    """
    arrays = []
    for f in fields:
        value = columns[f.name]
        if f.type == _POINT:
            arrays.append(_points(np.asarray(value, dtype=float)))
        else:
            arrays.append(pa.array(value, type=f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(list(fields)))


def with_identity(table: pa.Table, identity: Mapping[str, Any]) -> pa.Table:
    """Prepend the :data:`ID_FIELDS` columns, constant over the rows of ``table``."""
    n = table.num_rows
    cols = [pa.array([identity[f.name]] * n, type=f.type) for f in ID_FIELDS]
    fields = list(ID_FIELDS) + list(table.schema)
    return pa.Table.from_arrays(cols + list(table.columns), schema=pa.schema(fields))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A pandas view for users: point columns as lists of floats, default RangeIndex."""
    # pandas is imported here only: study workers build and serialise Arrow tables and
    # never need it, and it was about 0.2 s of the fork server's preload.
    import pandas as pd

    df = table.to_pandas()
    for name in _POINT_COLUMNS:
        if name in df.columns:
            df[name] = pd.Series([list(map(float, v)) for v in df[name]], dtype=object)
    return df


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise ``table`` to parquet with fixed settings (same rows → same bytes).

    One contiguous chunk per column, row groups of 2**20 rows, zstd level 3, dictionary
    encoding off, statistics on; no pandas metadata and no timestamps are written.
    """
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        row_group_size=_ROW_GROUP_ROWS,
        compression="zstd",
        compression_level=3,
        use_dictionary=False,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        store_schema=True,
    )
    return sink.getvalue()
