"""``Records``: the list a listing call returns, convertible to a typed DataFrame."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._models import CostAnalysis, _Record, field_kinds

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Records"]

R = TypeVar("R", bound=_Record)

_DTYPES = {"int": "Int64", "float": "Float64", "str": "string", "datetime": "datetime64[ns, UTC]"}


@dataclasses.dataclass(frozen=True)
class Records(Sequence[R], Generic[R]):
    """An immutable sequence of records (newest first, as the service sends them).

    Attributes
    ----------
    items : tuple
        The records, e.g. :class:`~ardlib.client.Experiment` objects.
    model : type
        The record class (used to type the columns of an empty frame).
    reported_count : int
        The ``count`` member of the answer (named so as not to shadow
        :meth:`Sequence.count`); the API promises it equals ``len(records)``.
    cost_analysis : CostAnalysis or None
        Set by :meth:`~ardlib.client.Client.ai_queries` when cost analysis was requested.
    """

    items: tuple[R, ...]
    model: type[R]
    reported_count: int
    cost_analysis: CostAnalysis | None = None

    @classmethod
    def from_payload(cls, payload: Any, key: str, model: type[R]) -> Records[R]:
        """Parse ``{key: [...], "count": n, ...}`` (raises ``ValueError`` on a wrong shape).

        Parameters
        ----------
        payload : JSON value
            The decoded response body.
        key : str
            The member holding the records.
        model : type
            The record class.

        Returns
        -------
        Records
        """
        if not isinstance(payload, Mapping):
            raise ValueError(f"expected a JSON object with {key!r}; got {type(payload).__name__}")
        rows = payload.get(key)
        if not isinstance(rows, list):
            raise ValueError(f"expected {key!r} to be a JSON array; got {rows!r:.80}")
        count = payload.get("count", len(rows))
        if isinstance(count, bool) or not isinstance(count, int):
            raise ValueError(f"expected 'count' to be an integer; got {count!r:.80}")
        cost = payload.get("cost_analysis")
        return cls(
            items=tuple(model.from_dict(row) for row in rows),
            model=model,
            reported_count=count,
            cost_analysis=None if cost is None else CostAnalysis.from_dict(cost),
        )

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[R]: ...
    def __getitem__(self, index: int | slice) -> R | Sequence[R]:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"Records[{self.model.__name__}](n={len(self.items)})"

    def to_frame(self, flatten_parameters: bool = False) -> pd.DataFrame:
        """The records as a DataFrame, one row per record, with proper dtypes.

        Declared fields come first, in declaration order: timestamps as
        ``datetime64[ns, UTC]``, integers as ``Int64``, numbers as ``Float64``, text as
        ``string`` (all nullable), ids as ``Int64`` unless some id is a string (then
        ``string``), JSON members (``parameters``, ``context``, ``results``) as objects.
        Extra fields follow, with dtypes inferred.

        Parameters
        ----------
        flatten_parameters : bool, default False
            Replace the ``parameters`` dicts by one column per name,
            ``parameters.<name>`` (nested dicts give ``parameters.<a>.<b>``), missing
            values as ``<NA>``.  No effect on records without ``parameters``.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        kinds = field_kinds(self.model)
        columns: dict[str, pd.Series] = {}
        for name, kind in kinds.items():
            values = [getattr(r, name) for r in self.items]
            if name == "parameters" and flatten_parameters:
                columns.update(_flatten(values, prefix="parameters."))
            else:
                columns[name] = _typed_series(values, kind)
        extra_names = sorted({k for r in self.items for k in r.extra})
        for name in extra_names:
            values = [r.extra.get(name) for r in self.items]
            columns.setdefault(name, _inferred_series(values))
        return pd.DataFrame(columns, index=pd.RangeIndex(len(self.items)))


def _typed_series(values: list[Any], kind: str) -> pd.Series:
    import pandas as pd

    if kind == "id":
        has_str = any(isinstance(v, str) for v in values)
        return pd.Series(values, dtype="string" if has_str else "Int64")
    if kind == "datetime":
        stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        return stamps.astype(pd.DatetimeTZDtype(unit="ns", tz="UTC"))
    if kind in _DTYPES:
        return pd.Series(values, dtype=_DTYPES[kind])
    return pd.Series(values, dtype=object)


def _inferred_series(values: list[Any]) -> pd.Series:
    """Nullable dtype from the Python types: all bool, all int, numbers, all str, else object.

    Unlike ``convert_dtypes``, a float that happens to be integral stays a float.
    """
    import pandas as pd

    present = [v for v in values if v is not None]
    dtype = "object"
    if present and all(isinstance(v, bool) for v in present):
        dtype = "boolean"
    elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        dtype = "Int64"
    elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        dtype = "Float64"
    elif present and all(isinstance(v, str) for v in present):
        dtype = "string"
    return pd.Series(values, dtype=dtype)


def _flatten(dicts: list[Any], prefix: str) -> dict[str, pd.Series]:

    rows = [_flat_dict(d, prefix) if isinstance(d, Mapping) else {} for d in dicts]
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    return {name: _inferred_series([row.get(name) for row in rows]) for name in names}


def _flat_dict(d: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping) and value:
            out.update(_flat_dict(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
