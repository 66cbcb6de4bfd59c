"""The verdict table of a regression check, and its text and JSON forms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["COLUMNS", "FAILING", "VERDICTS", "RegressReport", "make_row", "make_table"]

#: Columns of :attr:`RegressReport.table`, in order.
COLUMNS = (
    "kind",
    "name",
    "baseline",
    "current",
    "tolerance",
    "n_baseline",
    "n_current",
    "effect",
    "p_value",
    "p_holm",
    "verdict",
    "detail",
)

#: Every verdict, with its meaning.
VERDICTS = {
    "pass": "matches the baseline (within tolerance, or no significant difference)",
    "improved": "significantly lower regret than the baseline (reported, not a failure)",
    "changed": "significantly different distribution with the same median (not a failure)",
    "new": "not in the baseline (reported, not a failure)",
    "no baseline": "no baseline of this study's specification (not a failure, not a pass)",
    "regressed": "beyond tolerance, or significantly higher regret than the baseline",
    "missing": "in the baseline but absent or unreadable now",
    "incomparable": "its settings (budget, planner, noise) changed: update the baseline",
}

#: Verdicts that make a check fail.
FAILING = ("regressed", "missing", "incomparable")


def make_row(kind: str, name: str, verdict: str, detail: str, **values: Any) -> dict[str, Any]:
    """One table row; numeric columns not given are NaN."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(kind=kind, name=name, verdict=verdict, detail=detail, **values)
    return row


def make_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The verdict table for ``rows``, with :data:`COLUMNS` and float numeric columns."""
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    numeric = [c for c in COLUMNS if c not in ("kind", "name", "verdict", "detail")]
    table[numeric] = table[numeric].astype(float)
    return table


def _num(value: Any, fmt: str) -> str:
    return "" if pd.isna(value) else format(value, fmt)


def _text_table(rows: pd.DataFrame) -> str:
    """Left-aligned text columns, right-aligned numbers, one line per row."""
    cols: dict[str, list[str]] = {
        "kind": rows["kind"].tolist(),
        "name": rows["name"].tolist(),
        "baseline": [_num(v, ".4g") for v in rows["baseline"]],
        "current": [_num(v, ".4g") for v in rows["current"]],
        "p_holm": [_num(v, ".2g") for v in rows["p_holm"]],
        "A12": [_num(v, ".2f") for v in rows["effect"]],
        "verdict": rows["verdict"].tolist(),
        "detail": rows["detail"].tolist(),
    }
    numeric = {"baseline", "current", "p_holm", "A12"}
    widths = {k: max(len(k), *(len(v) for v in vals)) for k, vals in cols.items()}

    def line(cells: dict[str, str]) -> str:
        parts = [
            cells[k].rjust(widths[k]) if k in numeric else cells[k].ljust(widths[k]) for k in cols
        ]
        return "  ".join(parts).rstrip()

    out = [line({k: k for k in cols})]
    out += [line({k: vals[i] for k, vals in cols.items()}) for i in range(len(rows))]
    return "\n".join(out)


@dataclass(frozen=True, eq=False)
class RegressReport:
    """Outcome of :func:`ardlib.regress.check_results`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per compared quantity, columns :data:`COLUMNS`:

        - ``kind``: ``"reference"`` (analytic problems), ``"seeded"`` (seeded campaigns)
          or ``"study"`` (final-regret distributions of a study);
        - ``name``: what is compared, e.g. ``"branin: f(x1)"`` or
          ``"branin: branin/sd0/gpbo"``;
        - ``baseline``, ``current``: the stored and today's value (for studies, the
          median final regret);
        - ``tolerance``: the largest allowed absolute difference (deterministic kinds);
        - ``n_baseline``, ``n_current``: replicates compared (studies);
        - ``effect``: Vargha-Delaney A12 of current vs baseline regrets, above 0.5 when
          the current runs tend to be worse (studies);
        - ``p_value``: two-sided Mann-Whitney U p-value; ``p_holm``: Holm-adjusted over
          every compared study group of the check;
        - ``verdict``: one of :data:`VERDICTS`; ``detail``: a sentence saying why.
    passed : bool
        No verdict is in :data:`FAILING`.
    alpha : float
        Family-wise error rate of the study comparisons.
    baseline : pathlib.Path
        The baseline file checked against.
    studies : pathlib.Path
        The directory the study results were read from.
    """

    table: pd.DataFrame
    passed: bool
    alpha: float
    baseline: Path
    studies: Path

    @property
    def failures(self) -> pd.DataFrame:
        """The rows whose verdict makes the check fail."""
        return self.table[self.table["verdict"].isin(FAILING)]

    def counts(self) -> dict[str, int]:
        """Number of rows per verdict (verdicts that occur only).

        Returns
        -------
        dict
            Verdict -> number of rows.
        """
        return {str(k): int(v) for k, v in self.table["verdict"].value_counts().items()}

    def format(self, *, all_rows: bool = False) -> str:
        """A plain-text table of the verdicts and a one-line summary.

        Parameters
        ----------
        all_rows : bool, default False
            Show every reference row; by default passing reference rows are summarized
            in one line (there are about five per analytic problem).

        Returns
        -------
        str
        """
        t = self.table
        quiet = (t["kind"] == "reference") & (t["verdict"] == "pass")
        shown = t if all_rows else t[~quiet]
        lines = [_text_table(shown)] if len(shown) else []
        if not all_rows and quiet.any():
            lines.append(f"reference: {int(quiet.sum())} values match the baseline")
        counts = ", ".join(f"{n} {v}" for v, n in sorted(self.counts().items()))
        status = "PASSED" if self.passed else "FAILED"
        lines.append(f"{status} against {self.baseline} (alpha = {self.alpha:g}): {counts}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: settings, ``passed``, ``counts`` and the table's rows.

        Returns
        -------
        dict
        """
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.table.to_dict(orient="records")
        ]
        return {
            "passed": self.passed,
            "alpha": self.alpha,
            "baseline": str(self.baseline),
            "studies": str(self.studies),
            "counts": self.counts(),
            "rows": rows,
        }
