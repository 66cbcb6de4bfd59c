"""Publication figure style: one rcParams set, a fixed colour per planner, reproducible files.

Colours are the Okabe-Ito palette (distinguishable under the common colour-vision
deficiencies; Okabe & Ito 2008, "Color Universal Design").  Each planner keeps its colour in
every figure: the known planners have fixed entries, any other name gets a colour from the
rest of the palette by a stable hash of the name (two unknown names may share one).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["OKABE_ITO", "paper_style", "planner_color", "save_figure"]

OKABE_ITO: tuple[str, ...] = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
)
_BLACK, _ORANGE, _SKY, _GREEN, _YELLOW, _BLUE, _VERMILLION, _PURPLE = OKABE_ITO

# Keys are planner names lower-cased with separators removed (see _key).
_FIXED = {
    "random": _BLACK,
    "randomsearch": _BLACK,
    "sobol": _BLUE,
    "lhs": _GREEN,
    "latinhypercube": _GREEN,
    "gpbo": _VERMILLION,
    "bo": _VERMILLION,
    "bayesianoptimization": _VERMILLION,
}
# Yellow last: weakest contrast on white.
_REST = (_ORANGE, _SKY, _PURPLE, _YELLOW)

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


def _key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.lower())


def planner_color(name: str) -> str:
    """The planner's colour as ``"#RRGGBB"``, the same in every figure and every run.

    ``random`` is black, ``sobol`` blue, ``lhs`` green, ``gpbo``/``bo`` vermillion (case,
    spaces, ``-`` and ``_`` are ignored, and class names such as ``RandomSearch`` work);
    other names map to orange, sky blue, purple or yellow by a CRC32 of the name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"The 'name' parameter of planner_color must be a non-empty str. Got {name!r}."
        )
    key = _key(name)
    if key in _FIXED:
        return _FIXED[key]
    return _REST[zlib.crc32(key.encode()) % len(_REST)]


@contextmanager
def paper_style() -> Iterator[None]:
    """Matplotlib settings for paper figures, restored on exit.

    Font sizes 8-10 pt, 1.5 pt lines, no top or right spines, one-column figure size
    (3.5 x 2.6 in), the Okabe-Ito colour cycle and TrueType fonts in PDF.  Use
    :func:`planner_color` rather than the cycle when lines are planners.
    """
    import matplotlib as mpl
    from cycler import cycler

    rc: dict[Any, Any] = {**_RC, "axes.prop_cycle": cycler(color=list(OKABE_ITO))}
    with mpl.rc_context(rc):
        yield


def save_figure(
    fig: Any, stem: str, figures_dir: str | Path = "reports/figures"
) -> tuple[Path, Path]:
    """Write ``<stem>.pdf`` and ``<stem>.png`` (200 dpi) to ``figures_dir``.

    The files carry no creation date or software version, so the same figure gives the
    same bytes on every run (DVC then sees no change).

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
