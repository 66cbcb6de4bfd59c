"""Publication figure style: one rcParams set, a fixed colour per planner, reproducible files.

The colours (Okabe-Ito, a fixed colour per planner) are defined in :mod:`ardlib._palette`,
which the service's dashboard reads too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._palette import OKABE_ITO, planner_color

__all__ = ["OKABE_ITO", "display_label", "paper_style", "planner_color", "save_figure", "table"]

#: How figures and tables name ardlib's planner and noise labels (others stay as given).
LABELS = {
    "gpbo": "GP-BO",
    "random": "random",
    "sobol": "Sobol'",
    "ardlib": "ardlib GP-BO",
    "botorch": "BoTorch",
    "skopt": "scikit-optimize",
    "optuna": "Optuna",
    "none": "noise-free",
    "lab": "lab noise",
}
_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
_SD = re.compile(r"^sd(\d+(?:\.\d+)?)$")


def display_label(name: str) -> str:
    """The human name of a planner or noise label, for figures and tables.

    Parameters
    ----------
    name : str
        A study label: ``"gpbo"``, ``"sobol"``, ``"sd0.1"``, ...

    Returns
    -------
    str
        ``"GP-BO"``, ``"Sobol'"``, a Greek sigma ``= 0.1`` for ``"sd0.1"`` and
        ``"noise-free"`` for ``"sd0"``; a label ardlib does not know is returned unchanged.
    """
    found = _SD.match(name)
    if found:
        sd = found.group(1)
        return "noise-free" if float(sd) == 0 else f"{_SIGMA} = {sd}"
    return LABELS.get(name, name)


#: Columns whose values are planner or noise labels (shown through :func:`display_label`).
LABEL_COLUMNS = ("planner", "planner_a", "planner_b", "winner", "loser", "noise", "method")


def table(frame: Any, *, index: str | None = None, digits: int = 4) -> Any:
    """A data frame as a report shows it: no index column, human labels, short numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.  Its index is dropped unless ``index`` names it.
    index : str, optional
        Keep the index as a first column of this name (e.g. ``"dataset"``).
    digits : int, default 4
        Significant digits of floating-point cells (``{:.4g}``); integers and text stay.

    Returns
    -------
    pandas.io.formats.style.Styler
        Renders as HTML without the index, in notebooks and in the exported report.
    """
    shown = frame.rename_axis(index).reset_index() if index else frame.reset_index(drop=True)
    for col in LABEL_COLUMNS:
        if col in shown.columns:
            shown[col] = shown[col].map(lambda v: display_label(v) if isinstance(v, str) else v)
    floats = [c for c in shown.columns if shown[c].dtype.kind == "f"]
    return shown.style.hide(axis="index").format(f"{{:.{digits}g}}", subset=floats, na_rep="")


_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.figsize": (3.5, 2.6),  # one journal column
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,  # TrueType: text stays text in PDF editors
    "ps.fonttype": 42,
    "svg.hashsalt": "ardlib",
}


#: Figure widths in inches of one and of two journal columns (ACS, RSC, Elsevier: 3.3-3.5
#: and 7.0-7.2 in).
COLUMN_WIDTHS = {1: 3.5, 2: 7.16}


@contextmanager
def paper_style(columns: int = 1, *, aspect: float = 0.75) -> Iterator[None]:
    """Matplotlib settings for paper figures, restored on exit.

    Font sizes 8-10 pt, 1.5 pt lines, no top or right spines, the Okabe-Ito colour cycle,
    and TrueType fonts embedded in PDF (vector output whose text stays editable).  Use
    :func:`planner_color` rather than the cycle when lines are planners.

    Parameters
    ----------
    columns : {1, 2}, default 1
        Figure width: one journal column (3.5 in) or two (7.16 in).
    aspect : float, default 0.75
        Height over width of the default figure size.

    Raises
    ------
    ValueError
        If ``columns`` is not 1 or 2, or ``aspect`` is not positive.
    """
    import matplotlib as mpl
    from cycler import cycler

    if columns not in COLUMN_WIDTHS:
        raise ValueError(f"The 'columns' parameter of paper_style must be 1 or 2. Got {columns!r}.")
    if not isinstance(aspect, (int, float)) or not aspect > 0:
        raise ValueError(f"The 'aspect' parameter of paper_style must be > 0. Got {aspect!r}.")
    width = COLUMN_WIDTHS[columns]
    rc: dict[Any, Any] = {
        **_RC,
        "figure.figsize": (width, round(width * aspect, 2)),
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    }
    with mpl.rc_context(rc):
        yield


def save_figure(
    fig: Any, stem: str, figures_dir: str | Path = "reports/figures"
) -> tuple[Path, Path]:
    """Write ``<stem>.pdf`` and ``<stem>.png`` (200 dpi) to ``figures_dir``.

    The files carry no creation date or software version, so the same figure gives the
    same bytes on every run (DVC then sees no change).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : str
        File name without folder or extension.
    figures_dir : str or path-like, default "reports/figures"
        Created if missing.

    Returns
    -------
    (Path, Path)
        The PDF and PNG paths.
    """
    if not stem or Path(stem).name != stem or Path(stem).suffix in {".pdf", ".png"}:
        raise ValueError(
            "The 'stem' parameter of save_figure must be a file name without directory or "
            f"extension. Got {stem!r}."
        )
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    pdf, png = out / f"{stem}.pdf", out / f"{stem}.png"
    fig.savefig(pdf, dpi=200, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    fig.savefig(png, dpi=200, metadata={"Software": None})
    return pdf, png
