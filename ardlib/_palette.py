"""The colours of ardlib, defined once: report figures and the service's dashboard use these.

Colours are the Okabe-Ito palette (distinguishable under the common colour-vision
deficiencies; Okabe & Ito 2008, "Color Universal Design").  Each planner keeps its colour in
every figure and on the dashboard: the known planners have fixed entries, any other name
gets a colour from the rest of the palette by a CRC32 of its key (two unknown names may
share one).  The dashboard (``ardlib/service/static/analytics.js``) receives
:func:`dashboard_palette` in its page (:func:`fill_dashboard`) and applies the same rule.

No dependency beyond the standard library: the service imports this without matplotlib.
"""

from __future__ import annotations

import html
import json
import re
import zlib
from typing import Any

__all__ = ["OKABE_ITO", "dashboard_palette", "fill_dashboard", "planner_color", "planner_key"]

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

# Keys are planner names lower-cased with separators removed (see planner_key).
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
# Experiment statuses on the dashboard (grey: not Okabe-Ito, for "not started").
_STATUS = {"pending": "#999999", "running": _SKY, "completed": _GREEN, "failed": _VERMILLION}


def planner_key(name: str) -> str:
    """``name`` lower-cased without whitespace, ``_``, ``-`` and ``.`` (GP_BO -> gpbo)."""
    return re.sub(r"[\s_\-.]+", "", name.lower())


def planner_color(name: str) -> str:
    """The planner's colour as ``"#RRGGBB"``, the same in every figure and every run.

    ``random`` is black, ``sobol`` blue, ``lhs`` green, ``gpbo``/``bo`` vermillion (case,
    spaces, ``-`` and ``_`` are ignored, and class names such as ``RandomSearch`` work);
    other names map to orange, sky blue, purple or yellow by a CRC32 of the name.

    Parameters
    ----------
    name : str
        A planner's name.

    Returns
    -------
    str
        The colour, ``"#RRGGBB"``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"The 'name' parameter of planner_color must be a non-empty str. Got {name!r}."
        )
    key = planner_key(name)
    if key in _FIXED:
        return _FIXED[key]
    return _REST[zlib.crc32(key.encode()) % len(_REST)]


def dashboard_palette() -> dict[str, Any]:
    """What the dashboard needs to colour as the figures do (JSON-ready).

    Returns
    -------
    dict
        ``planners`` (planner key -> colour), ``other_planners`` (the colours other names
        get, indexed by CRC32 of the key), ``status`` (experiment status -> colour),
        ``cost`` (AI cost bars) and ``bar`` (other bars).
    """
    return {
        "planners": dict(_FIXED),
        "other_planners": list(_REST),
        "status": dict(_STATUS),
        "cost": _ORANGE,
        "bar": _BLUE,
    }


def fill_dashboard(page: str) -> str:
    """``page`` (the dashboard's HTML) with :func:`dashboard_palette` as JSON in its empty
    ``<meta name="ardlib-palette" content="">``, where ``analytics.js`` reads it."""
    palette = html.escape(json.dumps(dashboard_palette(), separators=(",", ":")))
    empty = '<meta name="ardlib-palette" content="">'
    return page.replace(empty, f'<meta name="ardlib-palette" content="{palette}">')
